"""Scoring on local Spark: a tiny model trained by training.py, then scored (file:// paths)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import functions as F

from sparkgate_jobs import scoring, training
from sparkgate_jobs.errors import SpecError

from .test_train import assert_pngs, binary_rows, blobs, linear_rows, write_csv

HEADER = ["x1", "x2", "color", "answer"]


@pytest.fixture(scope="module")
def model(spark, tmp_path_factory) -> dict:
    """A logistic regression with a string label (yes/no): its model starts with the label
    indexer, and a string feature (color) is one-hot encoded."""
    root = tmp_path_factory.mktemp("scoring")
    rows = [[*r[:3], "yes" if r[3] else "no"] for r in binary_rows(160)]
    uri = write_csv(root / "train.csv", HEADER, rows)
    run = root / "run"
    training.train(
        spark,
        {
            "jobId": "t",
            "input": {"uri": uri, "format": "csv"},
            "label": "answer",
            "algorithm": "logistic_regression",
            "split": {"test": 0.25, "seed": 7},
            "output": run.as_uri(),
        },
    )
    return {"uri": (run / "model").as_uri(), "name": "m", "version": 1}


def score_spec(tmp_path: Path, model: dict, uri: str, fmt: str) -> dict:
    return {
        "jobId": "s",
        "input": {"uri": uri, "format": "csv"},
        "model": model,
        "output": {"uri": (tmp_path / "out").as_uri(), "format": fmt},
    }


def test_with_the_label_and_unseen_labels_to_csv(spark, tmp_path, model):
    rows = [[*r[:3], "maybe" if i % 3 == 0 else "yes"] for i, r in enumerate(binary_rows(30, 9))]
    rows[0][2] = "purple"  # a color never seen in training
    uri = write_csv(tmp_path / "in.csv", HEADER, rows)
    report = scoring.score(spark, score_spec(tmp_path, model, uri, "csv"))
    assert report["rows"] == {"scored": 30, "withoutPrediction": 0}
    assert report["output"]["columns"] == [*HEADER, "prediction", "probability"]
    parts = list((tmp_path / "out" / "scored").glob("part-*.csv"))
    assert len(parts) == 1, "one coalesced file"
    out = spark.read.option("header", "true").csv(parts[0].as_uri())
    assert out.count() == 30
    got = out.collect()
    assert {r["prediction"] for r in got} <= {"yes", "no"}
    assert [r["answer"] for r in got] == [r[3] for r in rows], "input rows kept, in order"
    probability = json.loads(got[0]["probability"])
    assert len(probability) == 2 and sum(probability) == pytest.approx(1)
    saved = json.loads((tmp_path / "out" / "scoring.json").read_text())
    assert saved["rows"]["scored"] == 30 and saved["model"]["version"] == 1
    # a binary classifier: a histogram of its second class's probability over [0, 1]
    d = report["distribution"]
    assert d["of"] == f"probability of class {report['classes'][1]}"
    assert d["edges"][0] == 0 and d["edges"][-1] == pytest.approx(1)
    second = [json.loads(r["probability"])[1] for r in got]
    assert d["counts"] == np.histogram(second, bins=d["edges"])[0].tolist()
    assert [p["name"] for p in report["plots"]] == ["score-histogram"]
    assert_pngs(tmp_path / "out", ["score-histogram"])


def test_without_the_label_to_parquet(spark, tmp_path, model):
    rows = [r[:3] for r in binary_rows(40, 11)]
    rows[1][0] = ""  # a missing x1: imputed (the model's mean), still a prediction
    uri = write_csv(tmp_path / "in.csv", HEADER[:3], rows)
    report = scoring.score(spark, score_spec(tmp_path, model, uri, "parquet"))
    assert report["rows"] == {"scored": 40, "withoutPrediction": 0}
    out = spark.read.parquet((tmp_path / "out" / "scored").as_uri())
    assert out.columns == ["x1", "x2", "color", "prediction", "probability"]
    assert dict(out.dtypes)["x1"] == "double" and dict(out.dtypes)["color"] == "string"
    assert dict(out.dtypes)["probability"] == "array<double>"
    assert out.where(F.col("prediction").isNull()).count() == 0
    # the model agrees with the data's rule (x1 + 2·x2 > 0 → yes) on most rows
    agree = out.where((F.col("x1") + 2 * F.col("x2") > 0) == (F.col("prediction") == "yes")).count()
    assert agree >= 32


def test_a_missing_feature_column_is_one_spec_error(spark, tmp_path, model):
    uri = write_csv(tmp_path / "in.csv", ["x1", "shade"], [[1.0, "red"]])
    with pytest.raises(SpecError, match="feature column\\(s\\) 'x2', 'color' not found"):
        scoring.score(spark, score_spec(tmp_path, model, uri, "csv"))


def test_the_label_stages_are_dropped(model):
    from pyspark.ml import PipelineModel

    loaded = PipelineModel.load(model["uri"])
    stages, classes = scoring.scoring_stages(loaded, "answer")
    assert len(stages) == len(loaded.stages) - 1
    assert sorted(classes) == ["no", "yes"]


def trained(spark, root: Path, header: list[str], rows: list, **kw) -> dict:
    uri = write_csv(root / "train.csv", header, rows)
    run = root / "run"
    s = {"jobId": "t", "input": {"uri": uri, "format": "csv"}, "output": run.as_uri(), **kw}
    training.train(spark, {"split": {"test": 0.25, "seed": 7}, **s})
    return {"uri": (run / "model").as_uri(), "name": "m", "version": 1}


@pytest.mark.parametrize(
    "case",
    ["numeric label", "regression", "clustering"],
)
def test_other_kinds_of_model(spark, tmp_path, case):
    """A classifier of a numeric label predicts the label's own numbers (not indices), with
    probabilities; a regressor predicts values and a clusterer clusters, with none."""
    if case == "numeric label":  # labels 3 and 7: neither an index nor 0..k-1
        rows = [[*r[:3], 7 if r[3] else 3] for r in binary_rows(200)]
        header, label = HEADER, {"label": "answer", "algorithm": "random_forest_classifier"}
    elif case == "regression":
        rows, header = linear_rows(200), ["x1", "x2", "y"]
        label = {"label": "y", "algorithm": "linear_regression"}
    else:
        rows, header = [r[:2] for r in blobs(150)], ["x", "y"]
        label = {"algorithm": "kmeans", "params": {"k": 3, "seed": 1}}
    model = trained(spark, tmp_path, header, rows, **label)
    to_score = rows[:25]
    uri = write_csv(tmp_path / "in.csv", header, to_score)
    report = scoring.score(spark, score_spec(tmp_path, model, uri, "parquet"))
    assert report["rows"] == {"scored": 25, "withoutPrediction": 0}
    out = spark.read.parquet((tmp_path / "out" / "scored").as_uri()).collect()
    predictions = [r["prediction"] for r in out]
    d = report["distribution"]
    if d["kind"] == "histogram":  # the binary classifier's probabilities, the regressor's values
        values = [r["probability"][1] for r in out] if case != "regression" else predictions
        assert d["counts"] == np.histogram(values, bins=d["edges"])[0].tolist()
        assert [p["name"] for p in report["plots"]] == ["score-histogram"]
    else:  # the clusters: rows per predicted cluster
        assert d["counts"] == {str(c): predictions.count(c) for c in set(predictions)}
        assert [p["name"] for p in report["plots"]] == ["predicted-classes"]
    assert_pngs(tmp_path / "out", [p["name"] for p in report["plots"]])
    if case == "numeric label":
        assert report["classes"] is not None and sorted(report["classes"]) == [3.0, 7.0]
        assert set(predictions) <= {3.0, 7.0}
        agree = sum(p == r[3] for p, r in zip(predictions, to_score))
        assert agree >= 22
        assert all(len(r["probability"]) == 2 for r in out)
    elif case == "regression":
        assert "probability" not in report["output"]["columns"]
        errors = [abs(p - r[2]) for p, r in zip(predictions, to_score)]
        assert max(errors) < 2.5  # y = 3·x1 − 2·x2 + 1 + noise(0.5)
    else:
        assert "probability" not in report["output"]["columns"]
        assert set(predictions) == {0, 1, 2}
        # rows of one blob share a cluster; blobs alternate a, b, c
        by_blob = {i % 3: set() for i in range(3)}
        for i, p in enumerate(predictions):
            by_blob[i % 3].add(p)
        assert all(len(c) == 1 for c in by_blob.values())

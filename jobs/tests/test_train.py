"""train.py on local Spark, with data the tests generate (file:// paths in a temp dir)."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import train
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score

JOBS = Path(__file__).resolve().parents[1]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> str:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path.as_uri()


def binary_rows(n: int = 600, seed: int = 1) -> list[list[object]]:
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        x1, x2 = rnd.gauss(0, 1), rnd.gauss(0, 1)
        color = rnd.choice(["red", "green", "blue"])
        noisy = x1 + 2 * x2 + rnd.gauss(0, 0.3)
        rows.append([round(x1, 4), round(x2, 4), color, 1 if noisy > 0 else 0])
    return rows


def blobs(n: int = 450, seed: int = 2) -> list[list[object]]:
    rnd = random.Random(seed)
    centers = {"a": (0, 0), "b": (6, 6), "c": (-6, 6)}
    rows = []
    for i in range(n):
        name = "abc"[i % 3]
        cx, cy = centers[name]
        rows.append([round(cx + rnd.gauss(0, 1), 4), round(cy + rnd.gauss(0, 1), 4), name])
    return rows


def linear_rows(n: int = 500, seed: int = 3) -> list[list[object]]:
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        x1, x2 = rnd.uniform(-5, 5), rnd.uniform(-5, 5)
        rows.append([round(x1, 4), round(x2, 4), round(3 * x1 - 2 * x2 + 1 + rnd.gauss(0, 0.5), 4)])
    return rows


def spec(tmp_path: Path, uri: str, **kw) -> dict:
    return {
        "jobId": "test",
        "input": {"uri": uri, "format": "csv"},
        "split": {"test": 0.25, "seed": 7},
        "output": (tmp_path / "run").as_uri(),
        **kw,
    }


def read_metrics(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_binary_logistic_regression(spark, tmp_path):
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows())
    s = spec(tmp_path, uri, label="label", algorithm="logistic_regression", params={"maxIter": 50})
    result = train.train(spark, s)
    assert result["task"] == "classification"
    m = result["metrics"]
    assert m["areaUnderROC"] > 0.9
    assert m["accuracy"] > 0.85
    for key in ("f1", "weightedPrecision", "weightedRecall", "areaUnderPR"):
        assert 0 <= m[key] <= 1
    assert result["features"] == ["x1", "x2", "color"]
    assert set(result["coefficients"]) == {"x1", "x2", "color"}
    assert result["confusionMatrix"]["labels"] == ["0", "1"]
    assert sum(map(sum, result["confusionMatrix"]["matrix"])) == result["rows"]["test"]
    assert result["rows"]["train"] + result["rows"]["test"] == result["rows"]["total"] == 600
    assert read_metrics(tmp_path)["metrics"] == m
    assert (tmp_path / "run" / "model" / "metadata").is_dir()


def test_multiclass_random_forest_with_a_string_label(spark, tmp_path):
    uri = write_csv(tmp_path / "m.csv", ["x", "y", "kind"], blobs())
    s = spec(
        tmp_path,
        uri,
        label="kind",
        algorithm="random_forest_classifier",
        params={"numTrees": 20, "seed": 1},
    )
    result = train.train(spark, s)
    assert result["metrics"]["accuracy"] > 0.95
    assert "areaUnderROC" not in result["metrics"]
    assert sorted(result["confusionMatrix"]["labels"]) == ["a", "b", "c"]
    assert set(result["featureImportances"]) == {"x", "y"}


def test_regression_and_cross_validation(spark, tmp_path):
    uri = write_csv(tmp_path / "r.csv", ["x1", "x2", "y"], linear_rows())
    s = spec(
        tmp_path,
        uri,
        label="y",
        algorithm="linear_regression",
        crossValidation={"folds": 2, "grid": {"regParam": [0.0, 0.5]}, "metric": "rmse"},
    )
    result = train.train(spark, s)
    assert result["metrics"]["r2"] > 0.95
    assert result["metrics"]["rmse"] < 1.0
    assert len(result["crossValidation"]["avgMetrics"]) == 2
    assert result["coefficients"]["x1"] == pytest.approx(3, abs=0.1)


def test_kmeans_clusters(spark, tmp_path):
    rows = [r[:2] for r in blobs()]
    uri = write_csv(tmp_path / "k.csv", ["x", "y"], rows)
    result = train.train(spark, spec(tmp_path, uri, algorithm="kmeans", params={"k": 3, "seed": 1}))
    assert result["task"] == "clustering"
    assert result["metrics"]["silhouette"] > 0.6


def test_a_bad_column_is_one_clear_error(spark, tmp_path):
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows(50))
    with pytest.raises(train.SpecError, match="label column 'target' not found; columns: x1"):
        train.train(spark, spec(tmp_path, uri, label="target", algorithm="logistic_regression"))
    with pytest.raises(train.SpecError, match="feature column\\(s\\) 'nope' not found"):
        train.train(
            spark,
            spec(tmp_path, uri, label="label", features=["x1", "nope"], algorithm="naive_bayes"),
        )
    with pytest.raises(train.SpecError, match="regression label must be numeric"):
        train.train(spark, spec(tmp_path, uri, label="color", algorithm="linear_regression"))


def test_as_a_script_a_bad_spec_exits_2_with_one_line(tmp_path):
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows(50))
    s = spec(tmp_path, uri, label="missing", algorithm="logistic_regression")
    (tmp_path / "spec.json").write_text(json.dumps(s))
    done = subprocess.run(
        [sys.executable, str(JOBS / "train.py"), (tmp_path / "spec.json").as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("SPARKGATE_ERROR: ")]
    assert errors == [
        "SPARKGATE_ERROR: label column 'missing' not found; columns: x1, x2, color, label"
    ]


def _arrays(df, features: list[str], label: str):
    rows = df.select(*features, label).collect()
    x = np.array([[float(r[f]) for f in features] for r in rows])
    y = np.array([float(r[label]) for r in rows])
    return x, y


def test_metrics_agree_with_scikit_learn(spark, tmp_path):
    """The same model family on the same split, fitted by scikit-learn: within 0.02."""
    uri = write_csv(
        tmp_path / "b.csv", ["x1", "x2", "label"], [r[:2] + r[3:] for r in binary_rows(800)]
    )
    s = spec(
        tmp_path, uri, label="label", algorithm="logistic_regression", params={"regParam": 0.0}
    )
    ours = train.train(spark, s)["metrics"]["accuracy"]
    df, _, features, _ = train.prepare(train.load(spark, s["input"]), s, "classification")
    train_df, test_df = train.split(df.cache(), s)
    x_train, y_train = _arrays(train_df, features, "label")
    x_test, y_test = _arrays(test_df, features, "label")
    theirs = accuracy_score(y_test, LogisticRegression(C=1e6).fit(x_train, y_train).predict(x_test))
    assert abs(ours - theirs) <= 0.02, (ours, theirs)

    uri = write_csv(tmp_path / "r.csv", ["x1", "x2", "y"], linear_rows(600))
    s = spec(tmp_path, uri, label="y", algorithm="linear_regression")
    s["output"] = (tmp_path / "run2").as_uri()
    ours = train.train(spark, s)["metrics"]["r2"]
    df, _, features, _ = train.prepare(train.load(spark, s["input"]), s, "regression")
    train_df, test_df = train.split(df.cache(), s)
    x_train, y_train = _arrays(train_df, features, "y")
    x_test, y_test = _arrays(test_df, features, "y")
    theirs = r2_score(y_test, LinearRegression().fit(x_train, y_train).predict(x_test))
    assert abs(ours - theirs) <= 0.02, (ours, theirs)

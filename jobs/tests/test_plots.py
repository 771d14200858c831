"""The numbers behind the plots (curves.py, evaluation.py) against scikit-learn on the same
predictions, and the figures (plots.py) as images."""

from __future__ import annotations

import io
import random
import sys

import matplotlib.image
import numpy as np
import pytest
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import VectorAssembler
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score, roc_curve

import sparkgate_jobs
from sparkgate_jobs import figures, plots, training
from sparkgate_jobs.curves import calibration, one_vs_rest
from sparkgate_jobs.evaluation import importance_by_column, predicted_vs_actual, vector_element

from .test_curves import predictions
from .test_train import binary_rows, spec, write_csv


def three_classes(spark):
    rnd = random.Random(5)
    centers = [(0, 0), (2, 2), (-2, 2)]
    data = []
    for i in range(900):
        k = i % 3
        cx, cy = centers[k]
        data.append((cx + rnd.gauss(0, 1.2), cy + rnd.gauss(0, 1.2), float(k)))
    df = spark.createDataFrame(data, ["x1", "x2", "label"])
    df = VectorAssembler(inputCols=["x1", "x2"], outputCol="features").transform(df)
    train, test = df.randomSplit([0.5, 0.5], seed=1)
    return LogisticRegression(maxIter=30).fit(train).transform(test).cache()


def test_calibration_is_scikit_learns(spark):
    pred = predictions(spark, 800, LogisticRegression(maxIter=20))
    rows = pred.select(vector_element("probability", 1).alias("p"), "label").collect()
    p = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    c = calibration(pred, "label", vector_element)
    fraction, mean = calibration_curve(y, p, n_bins=10, strategy="uniform")
    assert [x["fractionPositive"] for x in c["points"]] == pytest.approx(fraction.tolist())
    assert [x["meanPredicted"] for x in c["points"]] == pytest.approx(mean.tolist())
    assert sum(x["rows"] for x in c["points"]) == len(rows)


def test_one_vs_rest_is_scikit_learns(spark):
    pred = three_classes(spark)
    rows = pred.select(
        *(vector_element("probability", k).alias(f"p{k}") for k in range(3)), "label"
    ).collect()
    y = np.array([r["label"] for r in rows])
    curves = one_vs_rest(pred, "label", vector_element, ["a", "b", "c"])
    assert [c["label"] for c in curves] == ["a", "b", "c"]
    for k, c in enumerate(curves):
        score = np.array([r[f"p{k}"] for r in rows])
        truth = (y == k).astype(int)
        assert c["areaUnderROC"] == pytest.approx(roc_auc_score(truth, score), abs=1e-9)
        assert c["support"] == int(truth.sum())
        fpr, tpr, _ = roc_curve(truth, score, drop_intermediate=False)
        sk = set(zip(np.round(fpr, 12), np.round(tpr, 12)))
        assert all((round(p["fpr"], 12), round(p["tpr"], 12)) in sk for p in c["roc"])


def test_predicted_vs_actual_samples_past_its_most(spark):
    df = spark.createDataFrame(
        [(float(i), float(i) + 0.5) for i in range(5000)], ["y", "prediction"]
    )
    s = predicted_vs_actual(df, "y", 5000, most=300)
    assert s["rows"] == 5000 and s["sampled"] == len(s["points"]) <= 300
    assert s["sampled"] > 200
    assert all(p["predicted"] - p["actual"] == 0.5 for p in s["points"])
    assert predicted_vs_actual(df, "y", 5000, most=300) == s, "seeded: the same sample"


def test_importance_by_column_sums_one_hot_slots():
    values = {
        "x": 0.25,
        "color=red": 0.25,
        "color=blue": 0.125,
        "color=(unknown)": 0.0,
        "a=b": 0.375,
    }
    assert importance_by_column(values, ["x", "color", "a=b"]) == {
        "x": 0.25,
        "color": 0.375,
        "a=b": 0.375,
    }


def decode(png: bytes):
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def test_every_figure_is_an_image_with_its_title():
    result = {
        "rows": {"test": 4},
        "curves": {
            "areaUnderROC": 0.75,
            "areaUnderPR": 0.8,
            "roc": [{"fpr": 0, "tpr": 0}, {"fpr": 0.5, "tpr": 1}, {"fpr": 1, "tpr": 1}],
            "pr": [{"recall": 0, "precision": 1}, {"recall": 1, "precision": 0.5}],
        },
        "calibration": {"points": [{"meanPredicted": 0.2, "fractionPositive": 0.1, "rows": 4}]},
        "confusionMatrix": {"labels": ["a", "b", "c"], "matrix": [[2, 0, 0], [0, 1, 1], [0, 0, 0]]},
        "rocByClass": [{"label": "a", "areaUnderROC": 1.0, "roc": [{"fpr": 0, "tpr": 1}]}],
        "predictedVsActual": {
            "rows": 2,
            "sampled": 2,
            "points": [{"actual": 1.0, "predicted": 1.5}, {"actual": 2.0, "predicted": 1.0}],
        },
        "coefficientsByClass": {"a": {"x": 1.0, "y": -2.0}, "b": {"x": 0.5, "y": 0.0}},
    }
    figures = plots.training_figures(result, "my-job · model m (lr) · job j1")
    assert sorted(figures) == [
        "calibration",
        "confusion-matrix",
        "confusion-matrix-normalized",
        "importances",
        "pr",
        "predicted-vs-actual",
        "residuals",
        "roc",
        "roc-per-class",
    ]
    assert figures["roc"][0] == "ROC curve (test split, 4 rows)"
    assert figures["importances"][0].startswith("Coefficient size by feature, mean over")
    for name, (_, png) in figures.items():
        image = decode(png)
        assert image.shape[:2] == (480, 640) and float(image.std()) > 0.01, name
    report = {
        "rows": {"scored": 3},
        "distribution": {"kind": "classes", "counts": {"a": 2, "b": 1}},
    }
    [(name, (title, png))] = plots.scoring_figures(report, "c").items()
    assert (name, title) == ("predicted-classes", "Predicted classes (3 rows scored)")
    assert decode(png).shape[:2] == (480, 640)


def test_plots_false_draws_none_and_skips_their_data(spark, tmp_path):
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows(300))
    s = spec(tmp_path, uri, label="label", algorithm="logistic_regression", plots=False)
    result = training.train(spark, s)
    assert result["plots"] == [] and "calibration" not in result
    assert "areaUnderROC" in result["curves"], "the curves are the evaluation's, kept"
    assert not (tmp_path / "run" / "plots").exists()


def test_a_figure_that_cannot_be_drawn_is_a_warning_not_a_failure(monkeypatch):
    def broken(data, caption):
        raise ValueError("no room")

    monkeypatch.setattr(plots, "training_figures", broken)
    warnings: list[str] = []
    assert figures.draw("training", {}, "c", warnings) == {}
    assert warnings == ["no plots: drawing them failed (ValueError: no room)"]
    # matplotlib (and so plots.py) missing from the job's Python
    monkeypatch.delattr(sparkgate_jobs, "plots")
    monkeypatch.setitem(sys.modules, "sparkgate_jobs.plots", None)
    warnings.clear()
    assert figures.draw("training", {}, "c", warnings) == {}
    assert warnings[0].startswith("no plots: matplotlib cannot be imported")

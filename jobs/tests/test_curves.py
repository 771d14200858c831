"""Exact ROC and PR curves (sparkgate_jobs/curves.py) against Spark's evaluator and
scikit-learn on the same predictions."""

from __future__ import annotations

import random

import numpy as np
import pytest
from pyspark.ml.classification import LogisticRegression, NaiveBayes
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import VectorAssembler
from sklearn.metrics import precision_recall_curve, roc_curve

from sparkgate_jobs.curves import area, binned, exact_curves, thin
from sparkgate_jobs.evaluation import vector_element


def predictions(spark, rows: int, estimator, seed: int = 3):
    rnd = random.Random(seed)
    data = []
    for _ in range(rows):
        x1, x2 = rnd.gauss(0, 1), rnd.gauss(0, 1)
        data.append((abs(x1), abs(x2), 1.0 if x1 + 0.5 * x2 + rnd.gauss(0, 0.8) > 0 else 0.0))
    df = spark.createDataFrame(data, ["x1", "x2", "label"])
    df = VectorAssembler(inputCols=["x1", "x2"], outputCol="features").transform(df)
    train, test = df.randomSplit([0.5, 0.5], seed=1)
    return estimator.fit(train).transform(test).cache()


def evaluator_area(pred, metric):
    ev = BinaryClassificationEvaluator(labelCol="label", rawPredictionCol="rawPrediction")
    return ev.setMetricName(metric).evaluate(pred)


@pytest.mark.parametrize("make", [lambda: LogisticRegression(maxIter=20), NaiveBayes])
def test_areas_equal_the_evaluators(spark, make):
    pred = predictions(spark, 600, make())
    c = exact_curves(pred, "label", vector_element)
    assert abs(c["areaUnderROC"] - evaluator_area(pred, "areaUnderROC")) < 1e-9
    assert abs(c["areaUnderPR"] - evaluator_area(pred, "areaUnderPR")) < 1e-9
    # the thinned curve keeps the area (only points inside straight runs go)
    assert abs(area(c["roc"], "fpr", "tpr") - c["areaUnderROC"]) < 1e-9


def test_the_curves_are_scikit_learns(spark):
    pred = predictions(spark, 600, LogisticRegression(maxIter=20))
    rows = pred.select(vector_element("rawPrediction", 1).alias("s"), "label").collect()
    score = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    c = exact_curves(pred, "label", vector_element)
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    full_roc = [(p["fpr"], p["tpr"]) for p in c["roc"]]
    # the thinned curve's points all lie on scikit-learn's
    sk = set(zip(np.round(fpr, 12), np.round(tpr, 12)))
    assert all((round(a, 12), round(b, 12)) in sk for a, b in full_roc)
    precision, recall, _ = precision_recall_curve(y, score)
    sk_pr = set(zip(np.round(recall, 12), np.round(precision, 12)))
    assert all((round(p["recall"], 12), round(p["precision"], 12)) in sk_pr for p in c["pr"][1:])


def test_binning_follows_spark_past_twice_num_bins():
    counts = [(float(-i), 1.0, 1.0) for i in range(2500)]
    assert binned(counts) == [(float(-2 * i), 2.0, 2.0) for i in range(1250)]
    assert binned(counts[:1999]) == counts[:1999]


def test_thin_keeps_ends_and_bounds():
    points = [{"x": i / 1000, "y": (i / 1000) ** 0.5} for i in range(1001)]
    thinned = thin(points, "x", "y", most=300)
    assert len(thinned) == 300
    assert thinned[0] == points[0] and thinned[-1] == points[-1]
    line = [{"x": i / 10, "y": i / 10} for i in range(11)]
    assert thin(line, "x", "y") == [line[0], line[-1]]

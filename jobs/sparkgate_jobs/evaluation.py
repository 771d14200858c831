"""What metrics.json says of a fitted model on the held-out split: the metrics, the
confusion matrix and per-class figures, residuals, and the model's feature importances or
coefficients by slot name (ROC and PR curves: curves.py)."""

from __future__ import annotations

from typing import Any

from pyspark import SparkContext
from pyspark.ml.evaluation import (
    BinaryClassificationEvaluator,
    ClusteringEvaluator,
    MulticlassClassificationEvaluator,
    RegressionEvaluator,
)
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def evaluate(predictions: DataFrame, task: str, label_col: str | None) -> dict[str, float]:
    if task == "regression":
        ev = RegressionEvaluator(labelCol=label_col, predictionCol="prediction")
        return {m: ev.setMetricName(m).evaluate(predictions) for m in ("rmse", "mae", "r2")}
    if task == "clustering":
        ev = ClusteringEvaluator(featuresCol="features", predictionCol="prediction")
        return {"silhouette": ev.evaluate(predictions)}
    ev = MulticlassClassificationEvaluator(labelCol=label_col, predictionCol="prediction")
    metrics = {
        name: ev.setMetricName(name).evaluate(predictions)
        for name in ("accuracy", "f1", "weightedPrecision", "weightedRecall")
    }
    if is_binary(predictions, label_col):
        binary = BinaryClassificationEvaluator(labelCol=label_col, rawPredictionCol="rawPrediction")
        metrics["areaUnderROC"] = binary.setMetricName("areaUnderROC").evaluate(predictions)
        metrics["areaUnderPR"] = binary.setMetricName("areaUnderPR").evaluate(predictions)
    return metrics


def is_binary(predictions: DataFrame, label_col: str) -> bool:
    if "rawPrediction" not in predictions.columns:
        return False
    return predictions.select(label_col).distinct().limit(3).count() <= 2


def confusion(predictions: DataFrame, label_col: str, names: list[str] | None):
    counts = predictions.groupBy(label_col, "prediction").count().collect()
    indexes = sorted({int(r[0]) for r in counts} | {int(r[1]) for r in counts})
    position = {v: i for i, v in enumerate(indexes)}
    matrix = [[0] * len(indexes) for _ in indexes]
    for r in counts:
        matrix[position[int(r[0])]][position[int(r[1])]] = int(r[2])
    labels = [names[i] if names and i < len(names) else str(i) for i in indexes]
    return {"labels": labels, "matrix": matrix}


def per_class(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """Precision, recall, f1 and support of each class, from the confusion matrix."""
    m = matrix["matrix"]
    out = []
    for i, name in enumerate(matrix["labels"]):
        tp = m[i][i]
        support, predicted = sum(m[i]), sum(row[i] for row in m)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(
            {"label": name, "precision": precision, "recall": recall, "f1": f1, "support": support}
        )
    return out


def vector_element(column: str, i: int) -> Column:
    """`column[i]` of an ML vector column (pyspark's vector_to_array needs pandas)."""
    jvm = SparkContext._active_spark_context._jvm
    array = jvm.org.apache.spark.ml.functions.vector_to_array(F.col(column)._jc, "float64")
    return Column(array)[i]


def residuals(predictions: DataFrame, label_col: str) -> dict[str, float]:
    r = predictions.select((F.col(label_col) - F.col("prediction")).alias("r"))
    stats = r.agg(F.mean("r"), F.stddev("r"), F.min("r"), F.max("r"), F.mean(F.abs("r"))).first()
    p25, median, p75 = r.approxQuantile("r", [0.25, 0.5, 0.75], 0.001)
    keys = ("mean", "std", "min", "max", "meanAbs")
    return {**dict(zip(keys, stats)), "p25": p25, "median": median, "p75": p75}


def explain(model: Any, slots: list[str], classes: list[str] | None = None) -> dict[str, Any]:
    """Feature importances or coefficients, by slot name, when the model has them: one
    vector (binary and linear models), or one row per class (multinomial logistic
    regression). Slots of a libsvm input are named by their index in the file (from 1)."""
    out: dict[str, Any] = {}

    def named(values: list[float]) -> dict[str, float]:
        # a libsvm input is one vector column: its slots have no names but their index
        names = slots if len(slots) == len(values) else [str(i + 1) for i in range(len(values))]
        return dict(zip(names, values))

    kind = type(model)  # properties looked up on the class: reading one may raise
    if hasattr(kind, "featureImportances"):
        out["featureImportances"] = named(model.featureImportances.toArray().tolist())
    if not hasattr(kind, "coefficients"):
        return out
    try:
        out["coefficients"] = named(model.coefficients.toArray().tolist())
        out["intercept"] = float(model.intercept)
    except Exception:  # noqa: BLE001 - a multinomial model has a matrix instead
        if not hasattr(kind, "coefficientMatrix"):
            return out
        rows = model.coefficientMatrix.toArray().tolist()
        names = classes or [str(i) for i in range(len(rows))]
        out["coefficientsByClass"] = {c: named(r) for c, r in zip(names, rows)}
        out["interceptByClass"] = dict(zip(names, model.interceptVector.toArray().tolist()))
    return out


def predicted_vs_actual(
    predictions: DataFrame, label_col: str, rows: int, most: int = 1000, seed: int = 42
) -> dict[str, Any]:
    """At most `most` test rows' (actual, predicted) pairs, a seeded sample of all `rows`
    (residual = actual − predicted): what the regression plots draw."""
    picked = predictions.select(F.col(label_col).alias("a"), F.col("prediction").alias("p"))
    if rows > most:
        picked = picked.sample(fraction=min(1.0, 1.2 * most / rows), seed=seed).limit(most)
    points = [{"actual": float(r[0]), "predicted": float(r[1])} for r in picked.collect()]
    return {"rows": rows, "sampled": len(points), "points": points}


def importance_by_column(values: dict[str, float], features: list[str]) -> dict[str, float]:
    """Slot importances summed per original column (a one-hot column's `segment=P` slots
    are `segment`'s); a slot of no listed column keeps its own name."""
    out: dict[str, float] = {}
    longest_first = sorted(features, key=len, reverse=True)
    for slot, value in values.items():
        column = next((f for f in longest_first if slot == f or slot.startswith(f"{f}=")), slot)
        out[column] = out.get(column, 0.0) + value
    return out

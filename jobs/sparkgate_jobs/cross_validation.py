"""k folds of the training split: `crossValidation` (every grid candidate on every fold,
the best by mean metric) or `evaluation: {folds: k}` (every metric as mean ± std). The
(fold, candidate) fits run a few at a time on the driver's threads."""

from __future__ import annotations

import math
from multiprocessing.pool import ThreadPool
from typing import Any

from pyspark.ml import Pipeline
from pyspark.ml.evaluation import (
    BinaryClassificationEvaluator,
    ClusteringEvaluator,
    MulticlassClassificationEvaluator,
    RegressionEvaluator,
)
from pyspark.ml.tuning import ParamGridBuilder
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.util import inheritable_thread_target

from sparkgate_jobs.errors import SpecError
from sparkgate_jobs.evaluation import evaluate

MAX_PARALLELISM = 4


def k_fold(spark, pipeline: Pipeline, maps: list[dict], df: DataFrame, k: int, seed: int, score):
    """Fits `pipeline` with each param map on k-1 folds and scores it on the k-th, the
    (fold, map) fits `parallelism` at a time; returns scores[map][fold] and parallelism."""
    with_fold = df.withColumn("fold__", F.floor(F.rand(seed) * k).cast("int")).cache()
    sizes = dict(with_fold.groupBy("fold__").count().collect())
    if len(sizes) < k:
        raise SpecError(f"too few rows ({sum(sizes.values())}) for {k} folds")
    folds = [
        (with_fold.where(F.col("fold__") != i), with_fold.where(F.col("fold__") == i))
        for i in range(k)
    ]
    tasks = [(m, f) for m in range(len(maps)) for f in range(k)]
    cores = spark.sparkContext.defaultParallelism
    parallelism = max(1, min(cores, MAX_PARALLELISM, len(tasks)))

    def run(task: tuple[int, int]):
        m, f = task
        fitting, validation = folds[f]
        return score(pipeline.fit(fitting, maps[m]).transform(validation))

    with ThreadPool(parallelism) as pool:
        results = pool.map(inheritable_thread_target(run), tasks)
    with_fold.unpersist()
    scores: list[list[Any]] = [[None] * k for _ in maps]
    for (m, f), value in zip(tasks, results):
        scores[m][f] = value
    return scores, parallelism


def mean_std(values: list[float]) -> dict[str, Any]:
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1))
    return {"mean": mean, "std": std, "folds": values}


def cross_validate(spark, spec, task, prepared, estimator, stages, train_df, seed):
    """Every grid candidate on every fold; the best by mean metric (fitted again on the
    whole training split by the caller)."""
    cv = spec["crossValidation"]
    grid = ParamGridBuilder()
    names = list((cv.get("grid") or {}).items())
    for name, values in names:
        grid = grid.addGrid(estimator.getParam(name), values)
    maps = grid.build()
    evaluator = cv_evaluator(task, prepared.label_col, cv.get("metric"))
    folds = int(cv.get("folds", 3))
    pipeline = Pipeline(stages=[*stages, estimator])
    scores, parallelism = k_fold(
        spark, pipeline, maps, train_df, folds, seed, lambda p: evaluator.evaluate(p)
    )
    candidates = [
        {"params": {p.name: v for p, v in m.items()}, **mean_std(s)} for m, s in zip(maps, scores)
    ]
    pick = max if evaluator.isLargerBetter() else min
    best = pick(range(len(maps)), key=lambda i: candidates[i]["mean"])
    summary = {
        "metric": evaluator.getMetricName(),
        "largerIsBetter": evaluator.isLargerBetter(),
        "folds": folds,
        "parallelism": parallelism,
        "candidates": candidates,
        "avgMetrics": [c["mean"] for c in candidates],
        "best": candidates[best],
    }
    return maps[best], summary


def k_fold_metrics(spark, spec, task, prepared, estimator, stages, train_df, seed):
    """`evaluation: {folds: k}`: every metric on each of k folds, as mean ± std."""
    folds = int(spec["evaluation"]["folds"])
    pipeline = Pipeline(stages=[*stages, estimator])
    label_col = prepared.label_col
    scores, parallelism = k_fold(
        spark, pipeline, [{}], train_df, folds, seed, lambda p: evaluate(p, task, label_col)
    )
    names = sorted({name for s in scores[0] for name in s})
    metrics = {n: mean_std([s[n] for s in scores[0] if n in s]) for n in names}
    return {"folds": folds, "parallelism": parallelism, "metrics": metrics}


def cv_evaluator(task: str, label_col: str | None, metric: str | None):
    if task == "regression":
        return RegressionEvaluator(labelCol=label_col, metricName=metric or "rmse")
    if task == "clustering":
        return ClusteringEvaluator(metricName=metric or "silhouette")
    if metric in ("areaUnderROC", "areaUnderPR"):
        return BinaryClassificationEvaluator(labelCol=label_col, metricName=metric)
    return MulticlassClassificationEvaluator(labelCol=label_col, metricName=metric or "f1")

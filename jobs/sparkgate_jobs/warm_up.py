"""A warm engine's warm-up: one small training before its first poll (see warm_up)."""

from __future__ import annotations

import sys
import time

from pyspark.sql import SparkSession

from sparkgate_jobs.figures import draw
from sparkgate_jobs.runner import explain
from sparkgate_jobs.storage import file_system


def warm_up(spark: SparkSession, folder: str) -> float:
    """A small training before the first poll, so that the engine is warm when it says it is
    ready: a fresh JVM spends seconds on a first MLlib job loading and compiling classes
    (the pipeline stages, the evaluators, the model writer, the store's client) — time a
    user's first job would otherwise pay. The model goes to the engine's own folder on the
    store (`folder`, beside its token) and is removed; one figure is drawn and dropped
    (matplotlib's import and fonts, ~0.5 s, paid here rather than by the first job's plots).
    Best effort: a failure here is one stderr line, never a reason not to serve. Returns the
    seconds it took."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import (
        BinaryClassificationEvaluator,
        MulticlassClassificationEvaluator,
    )
    from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler

    started = time.time()
    target = f"{folder.rstrip('/')}/warm-up-model"
    try:
        rows = [(float(i % 7), float(i % 5), "abc"[i % 3], float(i % 2)) for i in range(300)]
        df = spark.createDataFrame(rows, ["x", "y", "s", "label"])
        train_df, test_df = df.randomSplit([0.8, 0.2], seed=1)
        stages = [
            StringIndexer(inputCol="s", outputCol="s_i", handleInvalid="keep"),
            OneHotEncoder(inputCols=["s_i"], outputCols=["s_v"]),
            VectorAssembler(inputCols=["x", "y", "s_v"], outputCol="raw"),
            StandardScaler(inputCol="raw", outputCol="features"),
            LogisticRegression(maxIter=5),
        ]
        model = Pipeline(stages=stages).fit(train_df)
        predictions = model.transform(test_df)
        BinaryClassificationEvaluator().evaluate(predictions)
        MulticlassClassificationEvaluator(metricName="f1").evaluate(predictions)
        predictions.groupBy("label", "prediction").count().collect()
        model.write().overwrite().save(target)
        fs, path = file_system(spark, target)
        fs.delete(path, True)
        matrix = {"labels": ["0", "1"], "matrix": [[2, 1], [0, 3]]}
        warnings: list[str] = []
        draw("training", {"rows": {"test": 6}, "confusionMatrix": matrix}, "warm-up", warnings)
        if warnings:
            sys.stderr.write(f"sparkgate-engine: warm-up: {warnings[0]}\n")
    except Exception as error:  # noqa: BLE001 - a cold first job is slower, not wrong
        sys.stderr.write(f"sparkgate-engine: warm-up skipped: {explain(error)}\n")
    finally:
        spark.catalog.clearCache()
    return time.time() - started

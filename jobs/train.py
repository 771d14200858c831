"""Sparkgate's declarative MLlib training job (runs on the cluster).

Usage: train.py <spec.json URI>

The spec (written by the gateway next to the run's output) names the input data, the
label, the features, an MLlib algorithm with its params, the train/test split and
optional cross-validation. The job loads the data, indexes string columns (unseen values
kept), assembles the features, fits the estimator (or a CrossValidator), evaluates it on
the held-out split and writes `<output>/metrics.json` and the fitted PipelineModel under
`<output>/model/`.

A bad spec or bad data ends the job with exit code 2 and one line on stderr that starts
with `SPARKGATE_ERROR: `; the gateway shows that line as the job's error.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml import classification as cls
from pyspark.ml import clustering as clu
from pyspark.ml import regression as reg
from pyspark.ml.evaluation import (
    BinaryClassificationEvaluator,
    ClusteringEvaluator,
    MulticlassClassificationEvaluator,
    RegressionEvaluator,
)
from pyspark.ml.feature import StringIndexer, VectorAssembler
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

ALGORITHMS: dict[str, tuple[str, Any]] = {
    "logistic_regression": ("classification", cls.LogisticRegression),
    "linear_svc": ("classification", cls.LinearSVC),
    "naive_bayes": ("classification", cls.NaiveBayes),
    "decision_tree_classifier": ("classification", cls.DecisionTreeClassifier),
    "random_forest_classifier": ("classification", cls.RandomForestClassifier),
    "gbt_classifier": ("classification", cls.GBTClassifier),
    "multilayer_perceptron": ("classification", cls.MultilayerPerceptronClassifier),
    "linear_regression": ("regression", reg.LinearRegression),
    "generalized_linear_regression": ("regression", reg.GeneralizedLinearRegression),
    "decision_tree_regressor": ("regression", reg.DecisionTreeRegressor),
    "random_forest_regressor": ("regression", reg.RandomForestRegressor),
    "gbt_regressor": ("regression", reg.GBTRegressor),
    "kmeans": ("clustering", clu.KMeans),
    "bisecting_kmeans": ("clustering", clu.BisectingKMeans),
    "gaussian_mixture": ("clustering", clu.GaussianMixture),
}

NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType)
NUMERIC += (T.DecimalType, T.BooleanType)


class SpecError(Exception):
    """A problem with the spec or the data, reported as one SPARKGATE_ERROR line."""


def load(spark: SparkSession, source: dict[str, Any]) -> DataFrame:
    fmt = source.get("format", "csv")
    uri = source["uri"]
    if fmt == "csv":
        return (
            spark.read.option("header", str(source.get("header", True)).lower())
            .option("sep", source.get("separator", ","))
            .option("inferSchema", "true")
            .csv(uri)
        )
    if fmt == "parquet":
        return spark.read.parquet(uri)
    if fmt == "json":
        return spark.read.json(uri)
    if fmt == "libsvm":
        return spark.read.format("libsvm").load(uri)
    raise SpecError(f"format {fmt!r} cannot be trained on (csv, parquet, json, libsvm)")


def task_of(spec: dict[str, Any]) -> str:
    algorithm = spec["algorithm"]
    if algorithm not in ALGORITHMS:
        raise SpecError(f"unknown algorithm {algorithm!r}; one of {', '.join(ALGORITHMS)}")
    task = spec.get("task") or ALGORITHMS[algorithm][0]
    if task != ALGORITHMS[algorithm][0]:
        raise SpecError(f"algorithm {algorithm} does {ALGORITHMS[algorithm][0]}, not {task}")
    return task


def prepare(df: DataFrame, spec: dict[str, Any], task: str):
    """Stages that turn the raw columns into `features` (and `label`), and their names."""
    label = spec.get("label")
    columns = df.columns
    if spec["input"].get("format") == "libsvm":
        return df, [], ["features"], ("label" if task != "clustering" else None)
    if task != "clustering":
        if not label:
            raise SpecError(f"a {task} needs a label column")
        if label not in columns:
            raise SpecError(f"label column {label!r} not found; columns: {', '.join(columns)}")
    features = spec.get("features") or [c for c in columns if c != label]
    missing = [c for c in features if c not in columns]
    if missing:
        raise SpecError(
            f"feature column(s) {', '.join(map(repr, missing))} not found; "
            f"columns: {', '.join(columns)}"
        )
    if label in features:
        raise SpecError(f"the label {label!r} cannot also be a feature")
    if not features:
        raise SpecError("no feature columns")
    types = dict(df.dtypes)
    stages: list[Any] = []
    assembled: list[str] = []
    for name in features:
        field = df.schema[name].dataType
        if isinstance(field, T.StringType):
            stages.append(
                StringIndexer(inputCol=name, outputCol=f"{name}__idx", handleInvalid="keep")
            )
            assembled.append(f"{name}__idx")
        elif isinstance(field, NUMERIC):
            df = df.withColumn(name, F.col(name).cast("double"))
            assembled.append(name)
        else:
            raise SpecError(f"feature column {name!r} has type {types[name]}: not usable")
    label_col = None
    if task == "classification":
        if isinstance(df.schema[label].dataType, T.StringType):
            stages.append(StringIndexer(inputCol=label, outputCol="label__idx"))
            label_col = "label__idx"
        else:
            df = df.withColumn("label__num", F.col(label).cast("double"))
            label_col = "label__num"
    elif task == "regression":
        if not isinstance(df.schema[label].dataType, NUMERIC):
            raise SpecError(f"a regression label must be numeric; {label!r} is {types[label]}")
        df = df.withColumn("label__num", F.col(label).cast("double"))
        label_col = "label__num"
    if label_col:
        df = df.where(F.col(label).isNotNull())
    stages.append(VectorAssembler(inputCols=assembled, outputCol="features", handleInvalid="skip"))
    return df, stages, features, label_col


def split(df: DataFrame, spec: dict[str, Any]) -> tuple[DataFrame, DataFrame]:
    s = spec.get("split") or {}
    test = float(s.get("test", 0.2))
    train_df, test_df = df.randomSplit([1.0 - test, test], seed=int(s.get("seed", 42)))
    return train_df, test_df


def estimator_of(spec: dict[str, Any], task: str, label_col: str | None):
    _, klass = ALGORITHMS[spec["algorithm"]]
    params = dict(spec.get("params") or {})
    kwargs: dict[str, Any] = {"featuresCol": "features"}
    if task != "clustering":
        kwargs["labelCol"] = label_col
    return klass(**kwargs), params


def evaluate(predictions: DataFrame, task: str, label_col: str | None) -> dict[str, Any]:
    if task == "regression":
        ev = RegressionEvaluator(labelCol=label_col, predictionCol="prediction")
        return {m: ev.setMetricName(m).evaluate(predictions) for m in ("rmse", "mae", "r2")}
    if task == "clustering":
        ev = ClusteringEvaluator(featuresCol="features", predictionCol="prediction")
        return {"silhouette": ev.evaluate(predictions)}
    ev = MulticlassClassificationEvaluator(labelCol=label_col, predictionCol="prediction")
    metrics = {
        name: ev.setMetricName(metric).evaluate(predictions)
        for name, metric in (
            ("accuracy", "accuracy"),
            ("f1", "f1"),
            ("weightedPrecision", "weightedPrecision"),
            ("weightedRecall", "weightedRecall"),
        )
    }
    labels = [r[0] for r in predictions.select(label_col).distinct().collect()]
    if len(labels) <= 2 and "rawPrediction" in predictions.columns:
        binary = BinaryClassificationEvaluator(labelCol=label_col, rawPredictionCol="rawPrediction")
        metrics["areaUnderROC"] = binary.setMetricName("areaUnderROC").evaluate(predictions)
        metrics["areaUnderPR"] = binary.setMetricName("areaUnderPR").evaluate(predictions)
    return metrics


def confusion(predictions: DataFrame, label_col: str, names: list[str] | None):
    counts = predictions.groupBy(label_col, "prediction").count().collect()
    indexes = sorted({int(r[0]) for r in counts} | {int(r[1]) for r in counts})
    position = {v: i for i, v in enumerate(indexes)}
    matrix = [[0] * len(indexes) for _ in indexes]
    for r in counts:
        matrix[position[int(r[0])]][position[int(r[1])]] = int(r[2])
    labels = [names[i] if names and i < len(names) else str(i) for i in indexes]
    return {"labels": labels, "matrix": matrix}


def explain(model: Any, features: list[str]) -> dict[str, Any]:
    """Feature importances or coefficients, by feature name, when the model has them."""
    out: dict[str, Any] = {}
    if hasattr(model, "featureImportances"):
        values = model.featureImportances.toArray().tolist()
        out["featureImportances"] = dict(zip(features, values))
    try:
        coefficients = model.coefficients.toArray().tolist()
        out["coefficients"] = dict(zip(features, coefficients))
        out["intercept"] = float(model.intercept)
    except Exception:  # noqa: BLE001 - multinomial models and others have none
        pass
    return out


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Writes one small file through Hadoop's FileSystem (hdfs://, file://, abfss://…)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(conf)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def read_text(spark: SparkSession, uri: str) -> str:
    return spark.read.text(uri, wholetext=True).first()[0]


def train(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
    started = time.time()
    task = task_of(spec)
    raw = load(spark, spec["input"])
    df, stages, features, label_col = prepare(raw, spec, task)
    df = df.cache()
    total = df.count()
    train_df, test_df = split(df, spec)
    loaded = time.time()

    estimator, params = estimator_of(spec, task, label_col)
    cv = spec.get("crossValidation")
    try:
        if cv:
            estimator.setParams(**params)
            grid = ParamGridBuilder()
            for name, values in (cv.get("grid") or {}).items():
                grid = grid.addGrid(estimator.getParam(name), values)
            pipeline = Pipeline(stages=[*stages, estimator])
            evaluator = cv_evaluator(task, label_col, cv.get("metric"))
            fitted = CrossValidator(
                estimator=pipeline,
                estimatorParamMaps=grid.build(),
                evaluator=evaluator,
                numFolds=int(cv.get("folds", 3)),
                seed=int((spec.get("split") or {}).get("seed", 42)),
            ).fit(train_df)
            model: PipelineModel = fitted.bestModel
            cv_metrics = {"metric": evaluator.getMetricName(), "avgMetrics": fitted.avgMetrics}
        else:
            if spec["algorithm"] == "multilayer_perceptron" and not params.get("layers"):
                raise SpecError("multilayer_perceptron needs params.layers, e.g. [4, 8, 2]")
            estimator.setParams(**params)
            model = Pipeline(stages=[*stages, estimator]).fit(train_df)
            cv_metrics = None
    except (TypeError, ValueError) as error:
        raise SpecError(f"cannot fit {spec['algorithm']}: {error}") from error
    fitted_at = time.time()

    predictions = model.transform(test_df).cache()
    test_rows = predictions.count()
    if test_rows == 0:
        raise SpecError("the test split is empty: more rows or a larger split.test")
    metrics = evaluate(predictions, task, label_col)
    result: dict[str, Any] = {
        "jobId": spec.get("jobId"),
        "task": task,
        "algorithm": spec["algorithm"],
        "params": spec.get("params") or {},
        "label": spec.get("label"),
        "features": features,
        "metrics": metrics,
        "rows": {
            "total": total,
            "train": train_df.count(),
            "test": test_rows,
        },
        **explain(model.stages[-1], features),
    }
    if task == "classification":
        names = None
        for stage in model.stages:
            if getattr(stage, "getOutputCol", lambda: "")() == "label__idx":
                names = list(stage.labels)
        result["confusionMatrix"] = confusion(predictions, label_col, names)
    if cv_metrics:
        result["crossValidation"] = cv_metrics
    evaluated = time.time()
    result["timings"] = {
        "loadSeconds": round(loaded - started, 3),
        "fitSeconds": round(fitted_at - loaded, 3),
        "evaluateSeconds": round(evaluated - fitted_at, 3),
    }
    output = spec["output"].rstrip("/")
    model.write().overwrite().save(f"{output}/model")
    write_text(spark, f"{output}/metrics.json", json.dumps(result, indent=2, sort_keys=True))
    return result


def cv_evaluator(task: str, label_col: str | None, metric: str | None):
    if task == "regression":
        return RegressionEvaluator(labelCol=label_col, metricName=metric or "rmse")
    if task == "clustering":
        return ClusteringEvaluator(metricName=metric or "silhouette")
    if metric in ("areaUnderROC", "areaUnderPR"):
        return BinaryClassificationEvaluator(labelCol=label_col, metricName=metric)
    return MulticlassClassificationEvaluator(labelCol=label_col, metricName=metric or "f1")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("SPARKGATE_ERROR: usage: train.py <spec.json URI>", file=sys.stderr)
        return 2
    spark = SparkSession.builder.appName("sparkgate-train").getOrCreate()
    try:
        spec = json.loads(read_text(spark, argv[1]))
        result = train(spark, spec)
        print(json.dumps({"metrics": result["metrics"], "rows": result["rows"]}))
        return 0
    except SpecError as error:
        print(f"SPARKGATE_ERROR: {error}", file=sys.stderr, flush=True)
        return 2
    except Exception as error:  # noqa: BLE001 - Spark's own errors: one line, then re-raise
        line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(f"SPARKGATE_ERROR: {type(error).__name__}: {line}", file=sys.stderr, flush=True)
        raise
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Sparkgate's declarative MLlib training job (runs on the cluster).

Usage: train.py <spec.json URI>

The spec (written by the gateway next to the run's output) names the input data, the
label, the features, an MLlib algorithm with its params, the missing-value policy, the
train/test split and optional cross-validation or k-fold evaluation. The job:

  load → count missing values → drop / impute / refuse them (rows counted per reason)
       → index the label on every row used → split train/test
       → features: string columns one-hot encoded (indexed only for trees), numeric
         columns imputed when the policy says so, assembled, standardized if asked
       → [k-fold: every grid candidate on every fold, the best by mean metric]
       → fit on the whole training split → evaluate on the held-out split

and writes `<output>/metrics.json` and the fitted PipelineModel under `<output>/model/`.

A bad spec or bad data ends the job with exit code 2 and one line on stderr that starts
with `SPARKGATE_ERROR: `; the gateway shows that line as the job's error.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from typing import Any

from pyspark import SparkContext
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
from pyspark.ml.feature import (
    Bucketizer,
    Imputer,
    OneHotEncoder,
    SQLTransformer,
    StandardScaler,
    StringIndexer,
    StringIndexerModel,
    VectorAssembler,
)
from pyspark.ml.tuning import ParamGridBuilder
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.util import inheritable_thread_target

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

# String features of trees are indexed (categorical splits); everything else one-hot.
TREES = {
    "decision_tree_classifier",
    "random_forest_classifier",
    "gbt_classifier",
    "decision_tree_regressor",
    "random_forest_regressor",
    "gbt_regressor",
}
# `standardize`: MLlib's own `standardization` param where the estimator has one (it
# reports coefficients on the original scale), else a StandardScaler stage. The gateway's
# twin is `standardize` in src/training/algorithms.ts (tests/test_train.py compares them).
STANDARDIZE = {
    "logistic_regression": "param",
    "linear_svc": "param",
    "linear_regression": "param",
    "generalized_linear_regression": "scaler",
    "multilayer_perceptron": "scaler",
}
# Classifiers with a weightCol, so `classWeights` can apply (the perceptron has none).
WEIGHTED = {
    "logistic_regression",
    "linear_svc",
    "naive_bayes",
    "decision_tree_classifier",
    "random_forest_classifier",
    "gbt_classifier",
}

NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType)
NUMERIC += (T.DecimalType, T.BooleanType)
MAX_CLASSES = 1000
CURVE_POINTS = 100
MAX_PARALLELISM = 4
UNKNOWN_SLOT = "(unknown)"  # the one-hot slot of values unseen in training, and of nulls


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


def missing_policy(spec: dict[str, Any], task: str) -> dict[str, Any]:
    """The spec's `missing`, or the algorithm's default: trees impute the median, clustering
    drops rows, the rest impute the mean."""
    given = spec.get("missing")
    if given:
        strategy = given.get("strategy")
        if strategy not in ("drop", "impute", "error"):
            raise SpecError(f"missing.strategy {strategy!r}: one of drop, impute, error")
        if given.get("impute") and strategy != "impute":
            raise SpecError("missing.impute applies only with missing.strategy impute")
        impute = given.get("impute") or "mean"
        if strategy == "impute" and impute not in ("mean", "median", "mode"):
            raise SpecError(f"missing.impute {impute!r}: one of mean, median, mode")
        return {"strategy": strategy, **({"impute": impute} if strategy == "impute" else {})}
    if spec["algorithm"] in TREES:
        return {"strategy": "impute", "impute": "median", "default": True}
    if task == "clustering":
        return {"strategy": "drop", "default": True}
    return {"strategy": "impute", "impute": "mean", "default": True}


def check_options(spec: dict[str, Any], task: str) -> None:
    """The gateway refuses these first (src/training/training.ts); a spec written by hand
    gets the same rules here."""
    algorithm = spec["algorithm"]
    if spec.get("standardize") is not None and algorithm not in STANDARDIZE:
        raise SpecError(f"standardize applies to {', '.join(STANDARDIZE)}; not {algorithm}")
    if spec.get("classWeights") is not None:
        if spec["classWeights"] != "balanced":
            raise SpecError(f"classWeights {spec['classWeights']!r}: only 'balanced'")
        if algorithm not in WEIGHTED:
            raise SpecError(f"classWeights applies to {', '.join(sorted(WEIGHTED))}")
    if spec.get("evaluation") and spec.get("crossValidation"):
        raise SpecError("evaluation and crossValidation exclude each other")
    if algorithm == "multilayer_perceptron" and not (spec.get("params") or {}).get("layers"):
        raise SpecError("multilayer_perceptron needs params.layers, e.g. [4, 8, 2]")


@dataclass
class Prepared:
    """The rows the model may see (label indexed), the feature stages to fit, and what
    was done to get there (for metrics.json)."""

    df: DataFrame
    stages: list[Any]
    features: list[str]
    label_col: str | None
    label_stage: Any = None  # a fitted label indexer, saved at the head of the model
    classes: list[str] | None = None
    encoding: dict[str, str] = field(default_factory=dict)
    rows: dict[str, Any] = field(default_factory=dict)  # total, used, dropped: {reason: n}
    missing: dict[str, Any] = field(default_factory=dict)  # the policy applied
    missing_values: dict[str, int] = field(default_factory=dict)  # by column
    distinct: dict[str, int] = field(default_factory=dict)  # values per string feature (trees)
    slots: list[str] = field(default_factory=list)  # a name per slot of the features vector
    warnings: list[str] = field(default_factory=list)


def check_columns(columns: list[str], spec: dict[str, Any], task: str) -> list[str]:
    label = spec.get("label")
    if task != "clustering":
        if not label:
            raise SpecError(f"a {task} needs a label column")
        if label not in columns:
            raise SpecError(f"label column {label!r} not found; columns: {', '.join(columns)}")
    features = spec.get("features") or [c for c in columns if c != label]
    absent = [c for c in features if c not in columns]
    if absent:
        raise SpecError(
            f"feature column(s) {', '.join(map(repr, absent))} not found; "
            f"columns: {', '.join(columns)}"
        )
    if label in features:
        raise SpecError(f"the label {label!r} cannot also be a feature")
    if not features:
        raise SpecError("no feature columns")
    return features


def max_bins(spec: dict[str, Any]) -> int:
    """The smallest maxBins the fit may use (params or any grid value; MLlib's default 32)."""
    values = [(spec.get("params") or {}).get("maxBins", 32)]
    values += ((spec.get("crossValidation") or {}).get("grid") or {}).get("maxBins", [])
    return int(min(values))


def prepare(df: DataFrame, spec: dict[str, Any], task: str) -> Prepared:
    """Applies the missing-value policy, indexes the label and builds the feature stages."""
    label = spec.get("label")
    if spec["input"].get("format") == "libsvm":
        total = df.count()
        rows = {"total": total, "used": total, "dropped": {}}
        prepared = Prepared(df, [], ["features"], None, rows=rows)
        if task == "classification":
            index_label(prepared, "label")
        elif task == "regression":
            prepared.label_col = "label"
        return prepared
    features = check_columns(df.columns, spec, task)
    strings = []
    for name in features:
        kind = df.schema[name].dataType
        if isinstance(kind, T.StringType):
            strings.append(name)
        elif isinstance(kind, NUMERIC):
            df = df.withColumn(name, F.col(name).cast("double"))
        else:
            raise SpecError(f"feature column {name!r} has type {kind.simpleString()}: not usable")
    if task == "regression" and not isinstance(df.schema[label].dataType, NUMERIC):
        kind = df.schema[label].dataType.simpleString()
        raise SpecError(f"a regression label must be numeric; {label!r} is {kind}")

    prepared = Prepared(df, [], features, None, missing=missing_policy(spec, task))
    apply_missing(prepared, strings, label, spec["algorithm"] in TREES)
    if task == "classification":
        index_label(prepared, label)
    elif task == "regression":
        prepared.df = prepared.df.withColumn("label__num", F.col(label).cast("double"))
        prepared.label_col = "label__num"
    feature_stages(prepared, spec, strings)
    return prepared


def is_missing(df: DataFrame, name: str) -> Column:
    if isinstance(df.schema[name].dataType, (T.FloatType, T.DoubleType)):
        return F.col(name).isNull() | F.isnan(name)
    return F.col(name).isNull()


def apply_missing(prepared: Prepared, strings: list[str], label: str | None, tree: bool):
    """Counts missing values (null, NaN) in one pass and applies the policy: drops rows
    without a label always, rows missing a feature under `drop`; refuses any under `error`."""
    df, features, policy = prepared.df, prepared.features, prepared.missing
    no_label = is_missing(df, label) if label else F.lit(False)
    any_feature = F.lit(False)
    for name in features:
        any_feature = any_feature | is_missing(df, name)
    aggs = [
        F.count(F.lit(1)).alias("total"),
        F.sum(no_label.cast("int")).alias("label"),
        F.sum((~no_label & any_feature).cast("int")).alias("features"),
        *(F.sum(is_missing(df, n).cast("int")).alias(f"m:{n}") for n in features),
        # trees: how many values each string feature has, against maxBins
        *(F.countDistinct(n).alias(f"d:{n}") for n in (strings if tree else [])),
    ]
    counts = df.agg(*aggs).first().asDict()
    total = counts["total"]
    per_column = {n: counts[f"m:{n}"] or 0 for n in features}
    per_column = {n: c for n, c in per_column.items() if c}
    label_missing = counts["label"] or 0
    feature_missing = counts["features"] or 0
    if policy["strategy"] == "error" and (label_missing or per_column):
        where = ([f"label {label!r}: {label_missing}"] if label_missing else []) + [
            f"{n!r}: {c}" for n, c in per_column.items()
        ]
        raise SpecError(
            f"missing values (missing.strategy is error) in {', '.join(where)} of {total} "
            "rows; use missing.strategy drop or impute"
        )
    dropped = {}
    if label_missing:
        dropped["labelMissing"] = label_missing
    df = df.where(~no_label)
    if policy["strategy"] == "drop" and feature_missing:
        dropped["featureMissing"] = feature_missing
        df = df.where(~any_feature)
    if policy["strategy"] == "impute":
        empty = [n for n, c in per_column.items() if c == total - label_missing]
        if empty:
            raise SpecError(f"feature column(s) {', '.join(map(repr, empty))} have no values")
    used = total - sum(dropped.values())
    if used == 0:
        raise SpecError(f"no rows left of {total} after dropping missing values")
    prepared.df = df
    prepared.rows = {"total": total, "used": used, "dropped": dropped}
    prepared.missing_values = per_column
    prepared.distinct = {n: counts[f"d:{n}"] for n in strings if tree}


def index_label(prepared: Prepared, label: str) -> None:
    """Indexes a classification label on every row used, before the split: a class seen
    only in the test split still has an index (and a warning), and a numeric label that is
    not 0..k-1 (e.g. -1/1, 1/2, 0.5) is mapped to 0..k-1 in numeric order."""
    df = prepared.df
    if isinstance(df.schema[label].dataType, T.StringType):
        stage = StringIndexer(inputCol=label, outputCol="label__idx").fit(df)
        classes = list(stage.labels)
        label_col = "label__idx"
    else:
        values = (
            df.select(F.col(label).cast("double").alias("v"), F.col(label).cast("string"))
            .distinct()
            .limit(MAX_CLASSES + 1)
            .collect()
        )
        if len(values) > MAX_CLASSES:
            raise SpecError(
                f"label {label!r} has over {MAX_CLASSES} distinct values: a classifier needs "
                "classes (for a numeric target, use a regression algorithm)"
            )
        values.sort(key=lambda r: r[0])
        if [r[0] for r in values] == list(range(len(values))):
            prepared.df = df.withColumn("label__num", F.col(label).cast("double"))
            prepared.label_col = "label__num"
            prepared.classes = [str(int(r[0])) for r in values]
            check_classes(prepared, label)
            return
        df = df.withColumn("label__str", F.col(label).cast("string"))
        classes = [r[1] for r in values]
        stage = StringIndexerModel.from_labels(classes, "label__str", "label__idx")
        label_col = "label__idx"
    prepared.df = stage.transform(df)
    prepared.label_stage = stage
    prepared.label_col = label_col
    prepared.classes = classes
    check_classes(prepared, label)


def check_classes(prepared: Prepared, label: str) -> None:
    if len(prepared.classes or []) < 2:
        only = prepared.classes[0] if prepared.classes else None
        raise SpecError(f"label {label!r} has one class ({only!r}): nothing to classify")


def feature_stages(prepared: Prepared, spec: dict[str, Any], strings: list[str]) -> None:
    """Imputer (numeric, when imputing), one StringIndexer for the string features (unseen
    and null values: one more index), one-hot (not trees), VectorAssembler, StandardScaler.
    The StringIndexer is fitted once on the training split (`fit_strings`), so every fold
    and the final fit see the same slots."""
    algorithm = spec["algorithm"]
    tree = algorithm in TREES
    bins = max_bins(spec) if tree else 0
    stages: list[Any] = []
    numeric = [n for n in prepared.features if n not in strings]
    columns = {n: n for n in numeric}
    if prepared.missing["strategy"] == "impute" and numeric:
        columns = {n: f"{n}__imp" for n in numeric}
        stages.append(
            Imputer(
                strategy=prepared.missing["impute"],
                inputCols=numeric,
                outputCols=[columns[n] for n in numeric],
            )
        )
    if strings:
        indexed = [f"{n}__idx" for n in strings]
        stages.append(StringIndexer(inputCols=strings, outputCols=indexed, handleInvalid="keep"))
    one_hot = [] if tree else strings
    if one_hot:
        columns.update({n: f"{n}__vec" for n in one_hot})
        stages.append(
            OneHotEncoder(
                inputCols=[f"{n}__idx" for n in one_hot],
                outputCols=[columns[n] for n in one_hot],
                handleInvalid="keep",
            )
        )
        prepared.encoding.update({n: "one-hot" for n in one_hot})
    for name in strings if tree else []:
        values = prepared.distinct[name] + 1  # + the unseen/null index
        if values <= bins:
            columns[name] = f"{name}__idx"
            prepared.encoding[name] = "index"
            continue
        # more values than maxBins: MLlib refuses such a categorical feature; its index
        # (frequency order) becomes an ordinary number (a cast drops the category metadata)
        columns[name] = f"{name}__ord"
        stages.append(
            SQLTransformer(
                statement=f"SELECT *, CAST(`{name}__idx` AS DOUBLE) AS `{name}__ord` FROM __THIS__"
            )
        )
        prepared.encoding[name] = "ordinal"
        prepared.warnings.append(
            f"feature {name!r} has {values - 1} values, more than maxBins ({bins}): "
            "used as an ordinal index (frequency order); raise params.maxBins to split on "
            "it as a category"
        )
    assembled = [columns[n] for n in prepared.features]
    scale = standardize_of(spec) and STANDARDIZE.get(algorithm) == "scaler"
    out = "features__raw" if scale else "features"
    stages.append(VectorAssembler(inputCols=assembled, outputCol=out, handleInvalid="error"))
    if scale:
        stages.append(
            StandardScaler(inputCol=out, outputCol="features", withMean=True, withStd=True)
        )
    prepared.stages = stages


def fit_strings(prepared: Prepared, train_df: DataFrame) -> None:
    """Fits the StringIndexer on the training split and records each slot's name:
    `column`, or `column=value` per one-hot slot (then `column=(unknown)`)."""
    labels: dict[str, list[str]] = {}
    for i, stage in enumerate(prepared.stages):
        if isinstance(stage, StringIndexer):
            prepared.stages[i] = stage.fit(train_df)
            labels = dict(zip(stage.getInputCols(), prepared.stages[i].labelsArray))
    prepared.slots = []
    for name in prepared.features:
        if prepared.encoding.get(name) == "one-hot":
            prepared.slots += [f"{name}={v}" for v in labels[name]] + [f"{name}={UNKNOWN_SLOT}"]
        else:
            prepared.slots.append(name)


def standardize_of(spec: dict[str, Any]) -> bool | None:
    """`standardize`, else MLlib's default: on where the estimator has the param, off for a
    scaler stage; None when it does not apply."""
    how = STANDARDIZE.get(spec["algorithm"])
    if how is None:
        return None
    given = spec.get("standardize")
    own = (spec.get("params") or {}).get("standardization")
    if given is not None and own is not None and given != own:
        raise SpecError("standardize and params.standardization disagree")
    if given is None:
        given = own
    return (how == "param") if given is None else bool(given)


def split(df: DataFrame, spec: dict[str, Any]) -> tuple[DataFrame, DataFrame]:
    s = spec.get("split") or {}
    test = float(s.get("test", 0.2))
    train_df, test_df = df.randomSplit([1.0 - test, test], seed=int(s.get("seed", 42)))
    return train_df, test_df


def balance(train_df: DataFrame, label_col: str, classes: list[str]):
    """`classWeights: balanced`: n / (k · n_class) per class (scikit-learn's formula) in a
    weight column; returns the weighted rows and the weights by class name."""
    counts = {int(r[0]): r[1] for r in train_df.groupBy(label_col).count().collect()}
    n, k = sum(counts.values()), len(counts)
    weights = {i: n / (k * c) for i, c in counts.items()}
    column = F.lit(0.0)
    for i, w in weights.items():
        column = F.when(F.col(label_col) == float(i), w).otherwise(column)
    named = {classes[i] if i < len(classes) else str(i): w for i, w in sorted(weights.items())}
    return train_df.withColumn("weight__class", column), named


def perceptron_layers(spec: dict[str, Any], prepared: Prepared) -> dict[str, Any]:
    """The params, with the perceptron's first and last layers set to the number of feature
    slots and of classes: one-hot encoding makes the first hard to know beforehand."""
    params = dict(spec.get("params") or {})
    if spec["algorithm"] != "multilayer_perceptron" or spec["input"].get("format") == "libsvm":
        return params
    layers = [len(prepared.slots), *params["layers"][1:-1], len(prepared.classes or [])]
    if layers != params["layers"]:
        prepared.warnings.append(
            f"params.layers set to {layers}: {layers[0]} feature slots, {layers[-1]} classes"
        )
        params["layers"] = layers
    return params


def estimator_of(
    spec: dict[str, Any], params: dict[str, Any], task: str, label_col: str | None, weighted: bool
):
    _, klass = ALGORITHMS[spec["algorithm"]]
    if STANDARDIZE.get(spec["algorithm"]) == "param":
        params["standardization"] = standardize_of(spec)
    kwargs: dict[str, Any] = {"featuresCol": "features"}
    if task != "clustering":
        kwargs["labelCol"] = label_col
    if weighted:
        kwargs["weightCol"] = "weight__class"
    estimator = klass(**kwargs)
    try:
        estimator.setParams(**params)
    except (TypeError, ValueError) as error:
        raise SpecError(f"cannot fit {spec['algorithm']}: {error}") from error
    return estimator


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


def curves(predictions: DataFrame, label_col: str, points: int = CURVE_POINTS):
    """ROC and PR curves of a binary classifier, at most `points` + 1 points each: the
    score (probability of class 1, else its raw score) cut at its quantiles."""
    column = "probability" if "probability" in predictions.columns else "rawPrediction"
    scored = predictions.select(
        vector_element(column, 1).alias("score"),
        (F.col(label_col) == 1.0).cast("int").alias("positive"),
    )
    cuts = scored.approxQuantile("score", [i / points for i in range(1, points)], 0.001)
    splits = [-math.inf, *sorted(set(cuts)), math.inf]
    bucketed = Bucketizer(splits=splits, inputCol="score", outputCol="bucket", handleInvalid="keep")
    counts = {
        int(r[0]): (r[1], r[2])
        for r in bucketed.transform(scored)
        .groupBy("bucket")
        .agg(F.sum("positive"), F.count(F.lit(1)))
        .collect()
    }
    positives = sum(p for p, _ in counts.values())
    negatives = sum(n - p for p, n in counts.values())
    roc, pr = [{"threshold": None, "fpr": 0.0, "tpr": 0.0}], []
    tp = fp = 0
    for bucket in range(len(splits) - 2, -1, -1):  # from the highest scores down
        p, n = counts.get(bucket, (0, 0))
        if n == 0:
            continue
        tp, fp = tp + p, fp + n - p
        threshold = splits[bucket] if bucket > 0 else None  # None: every row positive
        tpr = tp / positives if positives else 0.0
        roc.append(
            {"threshold": threshold, "fpr": fp / negatives if negatives else 0.0, "tpr": tpr}
        )
        pr.append({"threshold": threshold, "recall": tpr, "precision": tp / (tp + fp)})
    return {"score": column, "roc": roc, "pr": pr}


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


def train(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
    started = time.time()
    task = task_of(spec)
    check_options(spec, task)
    prepared = prepare(load(spark, spec["input"]), spec, task)
    df = prepared.df.cache()
    train_df, test_df = split(df, spec)
    label_col = prepared.label_col
    class_weights = None
    if spec.get("classWeights") == "balanced":
        train_df, class_weights = balance(train_df, label_col, prepared.classes)
    train_df = train_df.cache()
    train_rows = train_df.count()
    if train_rows == 0:
        raise SpecError("the training split is empty: more rows or a smaller split.test")
    fit_strings(prepared, train_df)
    if prepared.classes:
        seen = {int(r[0]) for r in train_df.select(label_col).distinct().collect()}
        unseen = [c for i, c in enumerate(prepared.classes) if i not in seen]
        if unseen:
            prepared.warnings.append(
                f"class(es) {', '.join(map(repr, unseen))} only in the test split: the model "
                "never saw them (more rows, or another split.seed)"
            )
    loaded = time.time()

    params = perceptron_layers(spec, prepared)
    estimator = estimator_of(spec, params, task, label_col, class_weights is not None)
    seed = int((spec.get("split") or {}).get("seed", 42))
    extra: dict[str, Any] = {}
    best: dict = {}
    try:
        if spec.get("crossValidation"):
            best, extra["crossValidation"] = cross_validate(
                spark, spec, task, prepared, estimator, prepared.stages, train_df, seed
            )
        elif spec.get("evaluation"):
            extra["evaluation"] = k_fold_metrics(
                spark, spec, task, prepared, estimator, prepared.stages, train_df, seed
            )
        model = Pipeline(stages=[*prepared.stages, estimator]).fit(train_df, best)
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
        "features": prepared.features,
        "metrics": metrics,
        "rows": {**prepared.rows, "train": train_rows, "test": test_rows},
        "preprocessing": {
            "missing": prepared.missing,
            "missingValues": prepared.missing_values,
            "encoding": prepared.encoding,
            "standardize": standardize_of(spec),
            **({"classWeights": class_weights} if class_weights else {}),
        },
        **explain(model.stages[-1], prepared.slots, prepared.classes),
        **extra,
        "warnings": prepared.warnings,
    }
    if task == "classification":
        matrix = confusion(predictions, label_col, prepared.classes)
        result["confusionMatrix"] = matrix
        result["perClass"] = per_class(matrix)
        if "areaUnderROC" in metrics:
            result["curves"] = curves(predictions, label_col)
    if task == "regression":
        result["residuals"] = residuals(predictions, label_col)
    evaluated = time.time()
    result["timings"] = {
        "loadSeconds": round(loaded - started, 3),
        "fitSeconds": round(fitted_at - loaded, 3),
        "evaluateSeconds": round(evaluated - fitted_at, 3),
    }
    if prepared.label_stage is not None:
        # at scoring time the label column is absent and MLlib skips this stage
        model = PipelineModel(stages=[prepared.label_stage, *model.stages])
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


def report(text: str) -> None:
    """One SPARKGATE_ERROR line in ONE write: an unbuffered stderr would otherwise get the
    text and its newline separately, and the JVM's log lines (same pipe) could land between."""
    sys.stderr.write(f"SPARKGATE_ERROR: {text}\n")
    sys.stderr.flush()


def run_job(argv: list[str], name: str, work) -> int:
    """Runs `work(spark, spec)` on the spec.json named by argv[1] and prints what it returns;
    a SpecError is one SPARKGATE_ERROR line and exit code 2 (score.py runs the same way)."""
    if len(argv) != 2:
        report(f"usage: {name}.py <spec.json URI>")
        return 2
    spark = SparkSession.builder.appName(f"sparkgate-{name}").getOrCreate()
    try:
        print(json.dumps(work(spark, json.loads(read_text(spark, argv[1])))))
        return 0
    except SpecError as error:
        report(str(error))
        return 2
    except Exception as error:  # noqa: BLE001 - Spark's own errors: one line, then re-raise
        line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        report(f"{type(error).__name__}: {line}")
        raise
    finally:
        spark.stop()


def main(argv: list[str]) -> int:
    def work(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
        result = train(spark, spec)
        return {"metrics": result["metrics"], "rows": result["rows"]}

    return run_job(argv, "train", work)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

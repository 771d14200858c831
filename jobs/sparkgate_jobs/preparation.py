"""From the loaded rows to the rows the model may see: the columns checked, missing values
counted and dropped, imputed or refused (rows counted per reason), the label indexed on
every row used; then the feature stages (features.py) are built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyspark.ml.feature import StringIndexer, StringIndexerModel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkgate_jobs.algorithms import TREES
from sparkgate_jobs.errors import SpecError
from sparkgate_jobs.features import feature_stages
from sparkgate_jobs.spec import missing_policy

NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType)
NUMERIC += (T.DecimalType, T.BooleanType)
MAX_CLASSES = 1000


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

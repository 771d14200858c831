"""The feature stages of the pipeline: numeric columns imputed when the policy says so,
string columns indexed (one-hot encoded, except for trees), all assembled into one vector,
standardized if asked; and the name of each slot of that vector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyspark.ml.feature import (
    Imputer,
    OneHotEncoder,
    SQLTransformer,
    StandardScaler,
    StringIndexer,
    VectorAssembler,
)
from pyspark.sql import DataFrame

from sparkgate_jobs.algorithms import STANDARDIZE, TREES, standardize_of
from sparkgate_jobs.spec import max_bins

if TYPE_CHECKING:
    from sparkgate_jobs.preparation import Prepared

UNKNOWN_SLOT = "(unknown)"  # the one-hot slot of values unseen in training, and of nulls


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

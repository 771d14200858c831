"""Sparkgate's batch scoring job (runs on the cluster; jobs/score.py).

The spec (written by the gateway next to the run's output) names the input data, the
model (a PipelineModel training.py saved under `<run>/model/`, with `<run>/metrics.json`
beside it) and the output format. The job:

  read metrics.json (features, label, task, encodings) → check the input's columns
       → drop the label stages of the model (the label indexer: a scoring set may lack
         the label, or hold values never seen in training) → transform every row
       → keep the input columns, add `prediction` (the class itself for classifiers) and
         `probability` (classifiers, gaussian mixtures: an array of doubles in parquet,
         a JSON array text in CSV) → one file under `<output>/scored/`

and writes `<output>/scoring.json` (rows, model, output). A row missing a numeric feature
the model does not impute keeps a null prediction (counted as `withoutPrediction`).

A bad spec or bad data ends the job with exit code 2, one `SPARKGATE_ERROR: ` line and the
run's error.json (runner.py).
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.ml import PipelineModel
from pyspark.ml.feature import ImputerModel, StringIndexerModel, VectorAssembler
from pyspark.ml.linalg import VectorUDT
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkgate_jobs.distribution import of_scores
from sparkgate_jobs.errors import SpecError
from sparkgate_jobs.figures import draw
from sparkgate_jobs.preparation import NUMERIC, is_missing
from sparkgate_jobs.runner import run_job
from sparkgate_jobs.storage import load, read_text, write_plots, write_text

LABEL_INDEX = "label__idx"  # the indexed label column (preparation.py)
SCORES = ("prediction", "probability")


def inputs_of(stage: Any) -> list[str]:
    """The columns a stage reads (inputCol or inputCols), [] when it names none."""
    out: list[str] = []
    for name in ("inputCol", "inputCols"):
        if stage.hasParam(name) and stage.isDefined(stage.getParam(name)):
            value = stage.getOrDefault(stage.getParam(name))
            out += [value] if isinstance(value, str) else list(value)
    return out


def output_of(stage: Any) -> str | None:
    if stage.hasParam("outputCol") and stage.isDefined(stage.getParam("outputCol")):
        return stage.getOrDefault(stage.getParam("outputCol"))
    return None


def scoring_stages(model: PipelineModel, label: str | None) -> tuple[list[Any], list[Any] | None]:
    """The model's stages without its label indexer (and any stage reading the label), and
    the classes the indexer knew (prediction i is classes[i]; numbers for a numeric label,
    which preparation.py indexes as text in `label__str`); None: no indexer."""
    stages: list[Any] = []
    classes: list[Any] | None = None
    label_inputs = {label, "label__str"} - {None}
    for stage in model.stages:
        if isinstance(stage, StringIndexerModel) and output_of(stage) == LABEL_INDEX:
            numeric = inputs_of(stage) == ["label__str"]
            classes = [float(c) if numeric else c for c in stage.labels]
            continue
        if label_inputs & set(inputs_of(stage)):
            continue
        stages.append(stage)
    return stages, classes


def vector_to_array(spark: SparkSession, name: str) -> Column:
    """MLlib's vector_to_array through the JVM (pyspark.ml.functions needs pandas)."""
    functions = spark.sparkContext._jvm.org.apache.spark.ml.functions
    return Column(functions.vector_to_array(F.col(name)._jc, "float64"))


def check_input(df: DataFrame, features: list[str], strings: set[str]) -> None:
    """Every feature present and of a usable type; no input column named like a score."""
    absent = [c for c in features if c not in df.columns]
    if absent:
        raise SpecError(
            f"feature column(s) {', '.join(map(repr, absent))} not found; the model needs "
            f"{', '.join(features)}; columns: {', '.join(df.columns)}"
        )
    clash = [c for c in SCORES if c in df.columns]
    if clash:
        raise SpecError(f"input column(s) {', '.join(map(repr, clash))} clash with the scores")
    for name in features:
        kind = df.schema[name].dataType
        if name not in strings and not isinstance(kind, (*NUMERIC, VectorUDT)):
            raise SpecError(
                f"feature column {name!r} is {kind.simpleString()}; the model was trained on "
                "numbers"
            )


def score(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
    model_uri = spec["model"]["uri"].rstrip("/")
    trained = json.loads(read_text(spark, model_uri.rsplit("/", 1)[0] + "/metrics.json"))
    features: list[str] = trained["features"]
    label = trained.get("label")
    strings = set((trained.get("preprocessing") or {}).get("encoding") or {})
    df = load(spark, {"header": True, **spec["input"]})
    check_input(df, features, strings)
    columns = df.columns

    model = PipelineModel.load(model_uri)
    stages, classes = scoring_stages(model, label)
    imputed = {c for s in stages if isinstance(s, ImputerModel) for c in s.getInputCols()}
    numeric = [c for c in features if c not in strings and c not in imputed]
    for stage in stages:
        if isinstance(stage, VectorAssembler):
            stage.setHandleInvalid("keep")  # a missing value: a null prediction, not a failure
    # the input columns as they are (renamed aside), the features as the model saw them
    inner = df.select(
        *(F.col(f"`{c}`").alias(f"in__{i}") for i, c in enumerate(columns)),
        *(
            F.col(f"`{c}`").cast("string" if c in strings else "double").alias(c)
            if not isinstance(df.schema[c].dataType, VectorUDT)
            else F.col(f"`{c}`")
            for c in features
        ),
    )
    without = F.lit(False)
    for name in numeric:
        without = without | is_missing(inner, name)
    scored = PipelineModel(stages=stages).transform(inner.withColumn("missing__", without))

    prediction = F.col("prediction")
    if classes is not None:
        names = F.array(*(F.lit(c) for c in classes))
        prediction = F.element_at(names, F.col("prediction").cast("int") + 1)
    fmt = (spec.get("output") or {}).get("format", "parquet")
    out = [F.col(f"in__{i}").alias(c) for i, c in enumerate(columns)]
    out.append(F.when(~F.col("missing__"), prediction).alias("prediction"))
    if "probability" in scored.columns:
        probability = vector_to_array(spark, "probability")
        if fmt == "csv":
            probability = F.to_json(probability)
        out.append(F.when(~F.col("missing__"), probability).alias("probability"))
    result = scored.select(*out)

    output = spec["output"]["uri"].rstrip("/")
    writer = result.coalesce(1).write.mode("overwrite")
    if fmt == "csv":
        writer.option("header", "true").csv(f"{output}/scored")
    elif fmt == "parquet":
        writer.parquet(f"{output}/scored")
    else:
        raise SpecError(f"output.format {fmt!r}: one of parquet, csv")
    written = spark.read.format(fmt).option("header", "true").load(f"{output}/scored")
    # the predicted values' range in the same pass (a regression's histogram spans it)
    value = F.col("prediction").cast("double")
    counts = written.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.col("prediction").isNull().cast("int")).alias("m"),
        F.min(value).alias("low"),
        F.max(value).alias("high"),
    ).first()
    report = {
        "jobId": spec.get("jobId"),
        "model": spec["model"],
        "task": trained.get("task"),
        "features": features,
        "classes": classes,
        "rows": {"scored": counts["n"], "withoutPrediction": counts["m"] or 0},
        "output": {"uri": f"{output}/scored", "format": fmt, "columns": result.columns},
    }
    span = (counts["low"], counts["high"])
    distribution = of_scores(written, fmt, trained.get("task"), classes, span)
    if distribution:
        report["distribution"] = distribution
    # the plots before scoring.json: a run that wrote scoring.json wrote its plots too
    warnings: list[str] = []
    figures = draw("scoring", report, caption(spec), warnings)
    report["plots"] = write_plots(spark, f"{output}/plots", figures)
    if warnings:
        report["warnings"] = warnings
    write_text(spark, f"{output}/scoring.json", json.dumps(report, indent=2, sort_keys=True))
    return report


def caption(spec: dict[str, Any]) -> str:
    """The job's name, the model scored with (name and version) and the job id."""
    model = spec["model"]
    named = f"{model['name']} v{model['version']}" if model.get("name") else model["uri"]
    return f"{spec.get('jobName') or spec.get('jobId')} · model {named} · job {spec.get('jobId')}"


def work(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
    """What score.py runs (and a warm engine, engine.py): the scoring, then its one JSON
    line, the row counts (scoring.json has the rest)."""
    return {"rows": score(spark, spec)["rows"]}


def main(argv: list[str]) -> int:
    return run_job(argv, "score", work)

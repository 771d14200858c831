"""Sparkgate's declarative MLlib training job (runs on the cluster; jobs/train.py).

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

A bad spec or bad data ends the job with exit code 2, one line on stderr that starts with
`SPARKGATE_ERROR: ` and the same message in the run's error.json (runner.py); the gateway
shows it as the job's error.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pyspark.ml import Pipeline, PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkgate_jobs.algorithms import estimator_of, perceptron_layers, standardize_of
from sparkgate_jobs.cross_validation import cross_validate, k_fold_metrics
from sparkgate_jobs.curves import calibration, exact_curves, one_vs_rest
from sparkgate_jobs.errors import SpecError
from sparkgate_jobs.evaluation import (
    confusion,
    evaluate,
    explain,
    importance_by_column,
    per_class,
    predicted_vs_actual,
    residuals,
    vector_element,
)
from sparkgate_jobs.features import fit_strings
from sparkgate_jobs.figures import draw
from sparkgate_jobs.preparation import prepare
from sparkgate_jobs.runner import run_job
from sparkgate_jobs.spec import check_options, task_of
from sparkgate_jobs.storage import load, write_plots, write_text


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
    plotting = spec.get("plots") is not False  # absent in a spec staged before plots: drawn
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
            result["curves"] = exact_curves(predictions, label_col, vector_element)
            if plotting and "probability" in predictions.columns:
                result["calibration"] = calibration(predictions, label_col, vector_element)
        elif plotting and "rawPrediction" in predictions.columns and len(matrix["labels"]) > 2:
            result["rocByClass"] = one_vs_rest(
                predictions, label_col, vector_element, prepared.classes or matrix["labels"]
            )
    if task == "regression":
        result["residuals"] = residuals(predictions, label_col)
        if plotting:
            result["predictedVsActual"] = predicted_vs_actual(predictions, label_col, test_rows)
    if result.get("featureImportances"):
        result["featureImportancesByColumn"] = importance_by_column(
            result["featureImportances"], prepared.features
        )
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
    # the plots before metrics.json: a run that wrote metrics.json wrote its plots too
    drawing = time.time()
    figures = draw("training", result, caption(spec), result["warnings"]) if plotting else {}
    result["plots"] = write_plots(spark, f"{output}/plots", figures)
    result["timings"]["plotSeconds"] = round(time.time() - drawing, 3)
    write_text(spark, f"{output}/metrics.json", json.dumps(result, indent=2, sort_keys=True))
    return result


def caption(spec: dict[str, Any]) -> str:
    """What each figure says it is of: the job's name, its model's name, the job id and the
    algorithm (the model's version is numbered when the run is registered, after the job)."""
    job = spec.get("jobName") or spec.get("jobId")
    model = spec.get("modelName") or job
    return f"{job} · model {model} ({spec['algorithm']}) · job {spec.get('jobId')}"


def work(spark: SparkSession, spec: dict[str, Any]) -> dict[str, Any]:
    """What train.py runs (and a warm engine, engine.py): the training, then its one JSON
    line, the metrics and the row counts (metrics.json has the rest)."""
    result = train(spark, spec)
    return {"metrics": result["metrics"], "rows": result["rows"]}


def main(argv: list[str]) -> int:
    return run_job(argv, "train", work)

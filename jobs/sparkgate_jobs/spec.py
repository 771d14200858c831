"""The training spec's rules that need no data: the task, the missing-value policy, the
options that apply only to some algorithms or exclude each other (the gateway checks the
same first, in src/training/training.ts; a spec written by hand gets them here)."""

from __future__ import annotations

from typing import Any

from sparkgate_jobs.algorithms import ALGORITHMS, STANDARDIZE, TREES, WEIGHTED
from sparkgate_jobs.errors import SpecError


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


def max_bins(spec: dict[str, Any]) -> int:
    """The smallest maxBins the fit may use (params or any grid value; MLlib's default 32)."""
    values = [(spec.get("params") or {}).get("maxBins", 32)]
    values += ((spec.get("crossValidation") or {}).get("grid") or {}).get("maxBins", [])
    return int(min(values))

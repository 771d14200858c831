"""The gateway's param allow-list against the training job's ALGORITHMS and pyspark's estimators.

tests/algorithms.json is src/training/algorithms.ts's ALGORITHMS as JSON (the node test
test/unit/algorithms-drift.test.ts fails when it is stale and says how to regenerate it).
For every algorithm the gateway allows: sparkgate_jobs/algorithms.py knows it, with the
same task; every allowed param is a Param of the estimator, of the type the gateway
checks; and the values at the edges of what the gateway accepts (each enum value, each
bound of a range) are accepted by Spark.

Values are set the way train.py sets them (`estimator.setParams(**params)`), then sent to
the JVM (`_transfer_params_to_java()`): pyspark's Python side converts types only, Spark's
ParamValidators (enums, ranges) run in the JVM, so a value Spark refuses would otherwise
pass here and fail only when a job fits. pyspark's docs are not used for enums: some are
behind Spark (NaiveBayes's modelType doc omits 'complement', which Spark accepts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.errors import IllegalArgumentException
from pyspark.ml.param import TypeConverters

from sparkgate_jobs import algorithms

ALLOWED: dict[str, Any] = json.loads(Path(__file__).with_name("algorithms.json").read_text())

CONVERTERS = {
    "integer": TypeConverters.toInt,
    "number": TypeConverters.toFloat,
    "boolean": TypeConverters.toBoolean,
    "string": TypeConverters.toString,
    "integer[]": TypeConverters.toListInt,
}

# Known disagreements between algorithms.ts and Spark, as (algorithm, param, edge). Each
# is a strict xfail: once algorithms.ts is fixed it passes, fails as XPASS, and its line
# here goes.
KNOWN_MISMATCHES: dict[tuple[str, str, str], str] = {}


def edges(rule: dict[str, Any]) -> list[tuple[str, Any]]:
    """Values the gateway accepts for `rule`, at the edges of what it accepts."""
    kind = rule["type"]
    if kind == "boolean":
        return [("true", True), ("false", False)]
    if kind == "string":
        return [(f"enum:{v}", v) for v in rule["enum"]]
    if kind == "integer[]":
        return [("min", [max(rule.get("min", 1), 1)] * rule["minItems"])]
    values: list[tuple[str, Any]] = []
    if "min" in rule:
        low = rule["min"]
        if rule.get("exclusiveMin"):
            gap = rule["max"] - low if "max" in rule else 1.0
            low = low + min(1e-6, gap / 2)
        values.append(("min", low))
    if "max" in rule:
        values.append(("max", rule["max"]))
    if not values:
        values.append(("any", 1 if kind == "integer" else 0.5))
    return values


def cases(select) -> list[Any]:
    """pytest params: what `select` yields for each (algorithm, param, rule) of ALLOWED."""
    return [
        case
        for name, algorithm in ALLOWED.items()
        for param, rule in algorithm["params"].items()
        for case in select(name, param, rule)
    ]


def edge_cases(name: str, param: str, rule: dict[str, Any]):
    for edge, value in edges(rule):
        reason = KNOWN_MISMATCHES.get((name, param, edge))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(name, param, value, marks=marks, id=f"{name}.{param}.{edge}")


def enum_params(name: str, param: str, rule: dict[str, Any]):
    if rule["type"] == "string":
        yield pytest.param(name, param, id=f"{name}.{param}")


def all_params(name: str, param: str, rule: dict[str, Any]):
    yield pytest.param(name, param, rule, id=f"{name}.{param}")


def estimator(name: str):
    """A fresh estimator of `name`, as train.py builds it (its JVM twin needs the `spark`
    fixture's SparkContext)."""
    if name not in algorithms.ALGORITHMS:
        pytest.skip(f"{name} is not in algorithms.ALGORITHMS (test_task_matches fails for it)")
    return algorithms.ALGORITHMS[name][1]()


def test_train_py_and_the_allow_list_name_the_same_algorithms():
    assert sorted(set(ALLOWED) - set(algorithms.ALGORITHMS)) == [], "allowed, unknown to train.py"
    assert sorted(set(algorithms.ALGORITHMS) - set(ALLOWED)) == [], "in train.py, not allowed"


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_task_matches(name):
    assert name in algorithms.ALGORITHMS, f"{name} is allowed but not in algorithms.ALGORITHMS"
    task, expected = algorithms.ALGORITHMS[name][0], ALLOWED[name]["task"]
    assert task == expected, f"{name}: train.py's task is {task}, algorithms.ts's {expected}"


@pytest.mark.parametrize(("name", "param", "rule"), cases(all_params))
def test_param_is_a_param_of_the_estimator_with_the_allowed_type(spark, name, param, rule):
    est = estimator(name)
    klass = type(est).__name__
    assert est.hasParam(param), f"{klass} has no Param {param!r}"
    converter = est.getParam(param).typeConverter
    assert converter is CONVERTERS[rule["type"]], (
        f"{klass}.{param} converts with {converter.__name__}, the allow-list says {rule['type']}"
    )


@pytest.mark.parametrize(("name", "param", "value"), cases(edge_cases))
def test_spark_accepts_what_the_gateway_accepts(spark, name, param, value):
    est = estimator(name)
    est.setParams(**{param: value})  # as train.py does: an unknown kwarg is a TypeError
    est._transfer_params_to_java()  # Spark's ParamValidators: IllegalArgumentException
    assert est.getOrDefault(param) == value


@pytest.mark.parametrize(("name", "param"), cases(enum_params))
def test_spark_refuses_a_value_outside_an_enum(spark, name, param):
    """The enum checks above mean something only if Spark validates the param."""
    est = estimator(name)
    est.setParams(**{param: "sparkgate-not-a-value"})
    with pytest.raises(IllegalArgumentException, match="invalid value"):
        est._transfer_params_to_java()

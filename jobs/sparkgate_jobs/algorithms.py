"""The MLlib algorithms a training spec may name, what applies to which, and the estimator.

The gateway's allow-list is src/training/algorithms.ts: test/unit/algorithms-drift.test.ts
reads ALGORITHMS below as text (one `"name": ("task", module.Class),` a line), and
tests/test_algorithms.py checks every allowed param against these estimators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyspark.ml import classification as cls
from pyspark.ml import clustering as clu
from pyspark.ml import regression as reg

from sparkgate_jobs.errors import SpecError

if TYPE_CHECKING:
    from sparkgate_jobs.preparation import Prepared

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

"""Training (train.py: the sparkgate_jobs package) on local Spark, with data the tests
generate (file:// paths in a temp dir)."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from pyspark.ml import PipelineModel
from pyspark.ml.feature import ImputerModel
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.class_weight import compute_class_weight

from sparkgate_jobs import algorithms, cross_validation, preparation, storage, training
from sparkgate_jobs import spec as spec_rules
from sparkgate_jobs.curves import MAX_POINTS
from sparkgate_jobs.errors import SpecError

JOBS = Path(__file__).resolve().parents[1]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> str:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path.as_uri()


def binary_rows(n: int = 600, seed: int = 1) -> list[list[object]]:
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        x1, x2 = rnd.gauss(0, 1), rnd.gauss(0, 1)
        color = rnd.choice(["red", "green", "blue"])
        noisy = x1 + 2 * x2 + rnd.gauss(0, 0.3)
        rows.append([round(x1, 4), round(x2, 4), color, 1 if noisy > 0 else 0])
    return rows


def blobs(n: int = 450, seed: int = 2) -> list[list[object]]:
    rnd = random.Random(seed)
    centers = {"a": (0, 0), "b": (6, 6), "c": (-6, 6)}
    rows = []
    for i in range(n):
        name = "abc"[i % 3]
        cx, cy = centers[name]
        rows.append([round(cx + rnd.gauss(0, 1), 4), round(cy + rnd.gauss(0, 1), 4), name])
    return rows


def linear_rows(n: int = 500, seed: int = 3) -> list[list[object]]:
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        x1, x2 = rnd.uniform(-5, 5), rnd.uniform(-5, 5)
        rows.append([round(x1, 4), round(x2, 4), round(3 * x1 - 2 * x2 + 1 + rnd.gauss(0, 0.5), 4)])
    return rows


def spec(tmp_path: Path, uri: str, **kw) -> dict:
    return {
        "jobId": "test",
        "input": {"uri": uri, "format": "csv"},
        "split": {"test": 0.25, "seed": 7},
        "output": (tmp_path / "run").as_uri(),
        **kw,
    }


def read_metrics(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_binary_logistic_regression(spark, tmp_path):
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows())
    s = spec(tmp_path, uri, label="label", algorithm="logistic_regression", params={"maxIter": 50})
    result = training.train(spark, s)
    assert result["task"] == "classification"
    m = result["metrics"]
    assert m["areaUnderROC"] > 0.9
    assert m["accuracy"] > 0.85
    for key in ("f1", "weightedPrecision", "weightedRecall", "areaUnderPR"):
        assert 0 <= m[key] <= 1
    assert result["features"] == ["x1", "x2", "color"]
    # one coefficient per one-hot slot: each value of color, and the unseen/null slot
    assert set(result["coefficients"]) == {
        "x1",
        "x2",
        *(f"color={c}" for c in ("red", "green", "blue", "(unknown)")),
    }
    assert result["preprocessing"]["encoding"] == {"color": "one-hot"}
    assert result["preprocessing"]["missing"] == {
        "strategy": "impute",
        "impute": "mean",
        "default": True,
    }
    assert result["preprocessing"]["standardize"] is True  # MLlib's own default
    assert result["confusionMatrix"]["labels"] == ["0", "1"]
    assert sum(map(sum, result["confusionMatrix"]["matrix"])) == result["rows"]["test"]
    rows = result["rows"]
    assert rows["train"] + rows["test"] == rows["used"] == rows["total"] == 600
    assert rows["dropped"] == {}
    per_class = {c["label"]: c for c in result["perClass"]}
    assert sum(c["support"] for c in per_class.values()) == rows["test"]
    assert 0.8 < per_class["1"]["recall"] <= 1
    curves = result["curves"]
    roc, pr = curves["roc"], curves["pr"]
    assert 10 < len(roc) <= MAX_POINTS and 10 < len(pr) <= MAX_POINTS
    assert (roc[0]["fpr"], roc[0]["tpr"]) == (0.0, 0.0)
    assert (roc[-1]["fpr"], roc[-1]["tpr"]) == (1.0, 1.0)
    assert all(a["fpr"] <= b["fpr"] and a["tpr"] <= b["tpr"] for a, b in zip(roc, roc[1:]))
    # the trapezoids under the curve's points: Spark's own areaUnderROC (issue 29: 1e-6)
    area = sum((b["fpr"] - a["fpr"]) * (a["tpr"] + b["tpr"]) / 2 for a, b in zip(roc, roc[1:]))
    assert area == pytest.approx(m["areaUnderROC"], abs=1e-6)
    assert curves["areaUnderROC"] == pytest.approx(m["areaUnderROC"], abs=1e-9)
    assert curves["areaUnderPR"] == pytest.approx(m["areaUnderPR"], abs=1e-9)
    assert read_metrics(tmp_path)["metrics"] == m
    assert (tmp_path / "run" / "model" / "metadata").is_dir()
    # the plots: real 640 × 480 PNGs, not blank, listed in the result
    names = ["calibration", "confusion-matrix", "importances", "pr", "roc"]
    assert [p["name"] for p in result["plots"]] == names
    assert_pngs(tmp_path / "run", names)
    assert result["timings"]["plotSeconds"] > 0


def assert_pngs(run: Path, names: list[str]) -> None:
    """Each plot a real 640 × 480 PNG that is not blank (its pixels differ)."""
    for name in names:
        image = matplotlib.image.imread(run / "plots" / f"{name}.png")
        assert image.shape[:2] == (480, 640) and float(image.std()) > 0.01, name


def test_multiclass_random_forest_with_a_string_label(spark, tmp_path):
    uri = write_csv(tmp_path / "m.csv", ["x", "y", "kind"], blobs())
    s = spec(
        tmp_path,
        uri,
        label="kind",
        algorithm="random_forest_classifier",
        params={"numTrees": 20, "seed": 1},
    )
    result = training.train(spark, s)
    assert result["metrics"]["accuracy"] > 0.95
    assert "areaUnderROC" not in result["metrics"]
    assert sorted(result["confusionMatrix"]["labels"]) == ["a", "b", "c"]
    assert set(result["featureImportances"]) == {"x", "y"}
    assert "curves" not in result
    assert [c["label"] for c in result["perClass"]] == result["confusionMatrix"]["labels"]
    # one ROC curve per class against the others, its area from the full curve
    by_class = result["rocByClass"]
    assert sorted(c["label"] for c in by_class) == ["a", "b", "c"]
    assert sum(c["support"] for c in by_class) == result["rows"]["test"]
    assert all(0.9 < c["areaUnderROC"] <= 1 for c in by_class)
    assert result["featureImportancesByColumn"] == result["featureImportances"]
    names = ["confusion-matrix", "confusion-matrix-normalized", "importances", "roc-per-class"]
    assert [p["name"] for p in result["plots"]] == names
    assert_pngs(tmp_path / "run", names)


def test_regression_and_cross_validation(spark, tmp_path):
    uri = write_csv(tmp_path / "r.csv", ["x1", "x2", "y"], linear_rows())
    s = spec(
        tmp_path,
        uri,
        label="y",
        algorithm="linear_regression",
        crossValidation={"folds": 2, "grid": {"regParam": [0.0, 0.5]}, "metric": "rmse"},
    )
    result = training.train(spark, s)
    assert result["metrics"]["r2"] > 0.95
    assert result["metrics"]["rmse"] < 1.0
    cv = result["crossValidation"]
    assert cv["metric"] == "rmse" and cv["largerIsBetter"] is False and cv["folds"] == 2
    assert 1 <= cv["parallelism"] <= cross_validation.MAX_PARALLELISM
    assert [c["params"] for c in cv["candidates"]] == [{"regParam": 0.0}, {"regParam": 0.5}]
    for c in cv["candidates"]:
        assert len(c["folds"]) == 2
        assert c["mean"] == pytest.approx(sum(c["folds"]) / 2)
        assert c["std"] >= 0
    assert cv["avgMetrics"] == [c["mean"] for c in cv["candidates"]]
    assert cv["best"] == min(cv["candidates"], key=lambda c: c["mean"])
    assert cv["best"]["params"] == {"regParam": 0.0}  # no noise to regularize away
    assert result["coefficients"]["x1"] == pytest.approx(3, abs=0.1)
    res = result["residuals"]
    assert abs(res["mean"]) < 0.2 and 0.3 < res["std"] < 0.8
    assert res["min"] <= res["p25"] <= res["median"] <= res["p75"] <= res["max"]
    # the plots draw every test row (fewer than the sample's 1,000), pairs from the model
    sample = result["predictedVsActual"]
    assert sample["rows"] == sample["sampled"] == result["rows"]["test"] == len(sample["points"])
    assert all(abs(p["actual"] - p["predicted"]) < 3 for p in sample["points"])
    names = ["importances", "predicted-vs-actual", "residuals"]
    assert [p["name"] for p in result["plots"]] == names
    assert_pngs(tmp_path / "run", names)


def test_k_fold_evaluation_without_a_grid(spark, tmp_path):
    uri = write_csv(tmp_path / "r.csv", ["x1", "x2", "y"], linear_rows(200))
    s = spec(tmp_path, uri, label="y", algorithm="linear_regression", evaluation={"folds": 3})
    result = training.train(spark, s)
    ev = result["evaluation"]
    assert ev["folds"] == 3 and set(ev["metrics"]) == {"rmse", "mae", "r2"}
    for metric in ev["metrics"].values():
        assert len(metric["folds"]) == 3
        assert metric["mean"] == pytest.approx(sum(metric["folds"]) / 3)
    assert ev["metrics"]["r2"]["mean"] > 0.95 and ev["metrics"]["r2"]["std"] < 0.05
    assert "crossValidation" not in result
    with pytest.raises(SpecError, match="exclude each other"):
        training.train(spark, {**s, "crossValidation": {"grid": {"regParam": [0.0]}}})


def test_kmeans_clusters(spark, tmp_path):
    rows = [r[:2] for r in blobs()]
    uri = write_csv(tmp_path / "k.csv", ["x", "y"], rows)
    result = training.train(
        spark, spec(tmp_path, uri, algorithm="kmeans", params={"k": 3, "seed": 1})
    )
    assert result["task"] == "clustering"
    assert result["metrics"]["silhouette"] > 0.6


def test_a_bad_column_is_one_clear_error(spark, tmp_path):
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows(50))
    with pytest.raises(SpecError, match="label column 'target' not found; columns: x1"):
        training.train(spark, spec(tmp_path, uri, label="target", algorithm="logistic_regression"))
    with pytest.raises(SpecError, match="feature column\\(s\\) 'nope' not found"):
        training.train(
            spark,
            spec(tmp_path, uri, label="label", features=["x1", "nope"], algorithm="naive_bayes"),
        )
    with pytest.raises(SpecError, match="regression label must be numeric"):
        training.train(spark, spec(tmp_path, uri, label="color", algorithm="linear_regression"))


def test_as_a_script_a_bad_spec_exits_2_with_one_line(tmp_path):
    """As on the cluster: the entry point alone in its folder, the package only in a zip on
    the path (the gateway stages the same files: jobs/sparkgate_jobs/*.py, zipped)."""
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows(50))
    s = spec(tmp_path, uri, label="missing", algorithm="logistic_regression")
    (tmp_path / "spec.json").write_text(json.dumps(s))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for script in ("train.py", "score.py"):
        shutil.copy(JOBS / script, bin_dir / script)
    package = tmp_path / "sparkgate_jobs.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for path in sorted((JOBS / "sparkgate_jobs").glob("*.py")):
            archive.write(path, f"sparkgate_jobs/{path.name}")
    run = {
        "capture_output": True,
        "text": True,
        "timeout": 300,
        "cwd": bin_dir,
        "env": {**os.environ, "PYTHONPATH": str(package)},
    }
    usage = subprocess.run([sys.executable, str(bin_dir / "score.py")], **run)
    assert usage.returncode == 2
    assert usage.stderr == "SPARKGATE_ERROR: usage: score.py <spec.json URI>\n"
    spec_uri = (tmp_path / "spec.json").as_uri()
    done = subprocess.run([sys.executable, str(bin_dir / "train.py"), spec_uri], **run)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("SPARKGATE_ERROR: ")]
    reason = "label column 'missing' not found; columns: x1, x2, color, label"
    assert errors == [f"SPARKGATE_ERROR: {reason}"]
    # and in the run's folder (spec.json's), for a cluster whose driver stderr is elsewhere
    assert json.loads((tmp_path / "error.json").read_text())["message"] == reason


def _split(spark, s: dict, task: str):
    """The train and test rows train.py fits and evaluates on (same spec, same split)."""
    prepared = preparation.prepare(storage.load(spark, s["input"]), s, task)
    return training.split(prepared.df.cache(), s)


def _arrays(df, features: list[str], label: str, strings: tuple[str, ...] = ()):
    rows = df.select(*features, label).collect()
    numeric = [f for f in features if f not in strings]
    x = np.array([[float(r[f]) for f in numeric] for r in rows])
    y = np.array([float(r[label]) for r in rows])
    return x, y, [[r[f] for f in strings] for r in rows]


def test_metrics_agree_with_scikit_learn(spark, tmp_path):
    """The same model family on the same split, fitted by scikit-learn: within 0.02."""
    uri = write_csv(
        tmp_path / "b.csv", ["x1", "x2", "label"], [r[:2] + r[3:] for r in binary_rows(800)]
    )
    s = spec(
        tmp_path, uri, label="label", algorithm="logistic_regression", params={"regParam": 0.0}
    )
    ours = training.train(spark, s)["metrics"]["accuracy"]
    train_df, test_df = _split(spark, s, "classification")
    x_train, y_train, _ = _arrays(train_df, ["x1", "x2"], "label")
    x_test, y_test, _ = _arrays(test_df, ["x1", "x2"], "label")
    theirs = accuracy_score(y_test, LogisticRegression(C=1e6).fit(x_train, y_train).predict(x_test))
    assert abs(ours - theirs) <= 0.02, (ours, theirs)

    uri = write_csv(tmp_path / "r.csv", ["x1", "x2", "y"], linear_rows(600))
    s = spec(tmp_path, uri, label="y", algorithm="linear_regression")
    s["output"] = (tmp_path / "run2").as_uri()
    ours = training.train(spark, s)["metrics"]["r2"]
    train_df, test_df = _split(spark, s, "regression")
    x_train, y_train, _ = _arrays(train_df, ["x1", "x2"], "y")
    x_test, y_test, _ = _arrays(test_df, ["x1", "x2"], "y")
    theirs = r2_score(y_test, LinearRegression().fit(x_train, y_train).predict(x_test))
    assert abs(ours - theirs) <= 0.02, (ours, theirs)


PLAN_EFFECT = {"basic": 0.0, "plus": 2.5, "pro": -2.0, "max": 1.0}  # in no order at all


def plan_rows(n: int, seed: int) -> list[list[object]]:
    """A string feature whose effect is not monotone in any index order of its values."""
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        x, plan = rnd.gauss(0, 1), rnd.choice(list(PLAN_EFFECT))
        score = x + PLAN_EFFECT[plan] - 0.5 + rnd.gauss(0, 0.3)
        y = 2 * x + 3 * PLAN_EFFECT[plan] + rnd.gauss(0, 0.5)
        rows.append([round(x, 4), plan, 1 if score > 0 else 0, round(y, 4)])
    return rows


def test_a_string_feature_is_one_hot_encoded_like_scikit_learn(spark, tmp_path):
    """Linear models on a non-monotone string feature: one-hot encoded, they match
    scikit-learn's one-hot logistic and linear regression within 0.02."""
    uri = write_csv(tmp_path / "p.csv", ["x", "plan", "churned", "spend"], plan_rows(500, 5))
    cases = [
        ("churned", "logistic_regression", LogisticRegression(C=1e6, max_iter=1000), "accuracy"),
        ("spend", "linear_regression", LinearRegression(), "r2"),
    ]
    for label, algorithm, model, metric in cases:
        other = "spend" if label == "churned" else "churned"
        s = spec(tmp_path, uri, label=label, features=["x", "plan"], algorithm=algorithm)
        s["output"] = (tmp_path / label).as_uri()
        result = training.train(spark, s)
        slots = {f"plan={p}" for p in [*PLAN_EFFECT, "(unknown)"]}
        assert set(result["coefficients"]) == {"x", *slots}, result["coefficients"]
        train_df, test_df = _split(spark, s, result["task"])
        x_train, y_train, plans_train = _arrays(train_df, ["x", "plan"], label, ("plan",))
        x_test, y_test, plans_test = _arrays(test_df, ["x", "plan"], label, ("plan",))
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(plans_train)
        fitted = model.fit(np.hstack([x_train, encoder.transform(plans_train)]), y_train)
        predicted = fitted.predict(np.hstack([x_test, encoder.transform(plans_test)]))
        score = accuracy_score if metric == "accuracy" else r2_score
        ours, theirs = result["metrics"][metric], score(y_test, predicted)
        assert abs(ours - theirs) <= 0.02, (algorithm, ours, theirs)
        assert other not in result["features"]
    # the linear regression's contrasts between plans: those of the data, and scikit-learn's
    c = result["coefficients"]
    assert c["plan=plus"] - c["plan=pro"] == pytest.approx(3 * 4.5, abs=0.3)
    assert c["plan=max"] - c["plan=basic"] == pytest.approx(3 * 1.0, abs=0.3)


def missing_rows() -> tuple[list[list[object]], dict[str, int]]:
    """binary_rows with holes: x1 every 7th row, color every 11th, the label every 13th."""
    rows, counts = [], {"x1": 0, "color": 0, "label": 0, "features": 0}
    for i, (x1, x2, color, label) in enumerate(binary_rows(300, seed=4)):
        x1 = "" if i % 7 == 0 else x1
        color = "" if i % 11 == 0 else color
        label = "" if i % 13 == 0 else label
        counts["x1"] += x1 == ""
        counts["color"] += color == ""
        counts["label"] += label == ""
        counts["features"] += label != "" and (x1 == "" or color == "")
        rows.append([x1, x2, color, label])
    return rows, counts


def test_missing_values_under_each_policy(spark, tmp_path):
    rows, n = missing_rows()
    uri = write_csv(tmp_path / "m.csv", ["x1", "x2", "color", "label"], rows)
    base = spec(tmp_path, uri, label="label", algorithm="logistic_regression")

    dropped = training.train(spark, {**base, "missing": {"strategy": "drop"}})
    r = dropped["rows"]
    assert r["dropped"] == {"labelMissing": n["label"], "featureMissing": n["features"]}
    assert r["used"] == 300 - n["label"] - n["features"] == r["train"] + r["test"]
    assert dropped["preprocessing"]["missing"] == {"strategy": "drop"}
    assert dropped["preprocessing"]["missingValues"] == {"x1": n["x1"], "color": n["color"]}

    imputed = training.train(spark, {**base, "missing": {"strategy": "impute", "impute": "mean"}})
    r = imputed["rows"]
    assert r["dropped"] == {"labelMissing": n["label"]}
    assert r["used"] == 300 - n["label"] == r["train"] + r["test"]
    assert imputed["metrics"]["accuracy"] > 0.8
    # the surrogate is the mean of the training split's x1; null colors have their own slot
    model = PipelineModel.load((tmp_path / "run" / "model").as_uri())
    imputer = next(s for s in model.stages if isinstance(s, ImputerModel))
    train_df, _ = _split(spark, {**base, "missing": {"strategy": "impute"}}, "classification")
    x1 = [r[0] for r in train_df.select("x1").collect() if r[0] is not None]
    assert imputer.surrogateDF.first()["x1"] == pytest.approx(float(np.mean(x1)))
    assert imputed["coefficients"]["color=(unknown)"] != 0

    with pytest.raises(SpecError) as refused:
        training.train(spark, {**base, "missing": {"strategy": "error"}})
    assert str(refused.value) == (
        f"missing values (missing.strategy is error) in label 'label': {n['label']}, "
        f"'x1': {n['x1']}, 'color': {n['color']} of 300 rows; use missing.strategy drop or impute"
    )


def test_labels_that_are_not_0_to_k_minus_1(spark, tmp_path):
    rows = [[x1, x2, color, 1 if y else -1] for x1, x2, color, y in binary_rows(300)]
    uri = write_csv(tmp_path / "pm.csv", ["x1", "x2", "color", "label"], rows)
    s = spec(tmp_path, uri, label="label", algorithm="linear_svc")
    result = training.train(spark, s)
    assert result["confusionMatrix"]["labels"] == ["-1", "1"]
    assert result["metrics"]["accuracy"] > 0.85
    assert result["curves"]["score"] == "rawPrediction"
    # one row of a fourth class, which this split puts in the test split only
    rows = [*blobs(150), [0.0, 20.0, "d"]]
    uri = write_csv(tmp_path / "d.csv", ["x", "y", "kind"], rows)
    s = spec(tmp_path, uri, label="kind", algorithm="logistic_regression")
    s["split"] = {"test": 0.5, "seed": 3}
    result = training.train(spark, s)
    assert result["warnings"] == [
        "class(es) 'd' only in the test split: the model never saw them "
        "(more rows, or another split.seed)"
    ]
    assert "d" in result["confusionMatrix"]["labels"]
    with pytest.raises(SpecError, match="has over 1000 distinct values"):
        uri = write_csv(tmp_path / "r.csv", ["x1", "x2", "y"], linear_rows(1100))
        training.train(spark, spec(tmp_path, uri, label="y", algorithm="naive_bayes"))


def test_balanced_class_weights(spark, tmp_path):
    rnd = random.Random(9)
    rows = []
    for _ in range(400):
        x = rnd.gauss(0, 1)
        rows.append([round(x, 4), 1 if x + rnd.gauss(0, 0.8) > 1.6 else 0])
    uri = write_csv(tmp_path / "w.csv", ["x", "label"], rows)
    s = spec(tmp_path, uri, label="label", algorithm="logistic_regression")
    plain = training.train(spark, s)
    weighted = training.train(spark, {**s, "classWeights": "balanced"})
    train_df, _ = _split(spark, s, "classification")
    y = np.array([r[0] for r in train_df.select("label").collect()])
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    got = weighted["preprocessing"]["classWeights"]
    assert [got["0"], got["1"]] == pytest.approx(list(expected))
    recall = {
        name: {c["label"]: c["recall"] for c in r["perClass"]}["1"]
        for name, r in (("plain", plain), ("weighted", weighted))
    }
    assert recall["weighted"] > recall["plain"], recall


def test_trees_index_strings_and_fall_back_past_max_bins(spark, tmp_path):
    rnd = random.Random(6)
    rows = [
        [x, y, f"store{rnd.randrange(40)}", "ab"[i % 2], k]
        for i, (x, y, k) in enumerate(blobs(150))
    ]
    uri = write_csv(tmp_path / "t.csv", ["x", "y", "store", "shade", "kind"], rows)
    s = spec(tmp_path, uri, label="kind", algorithm="decision_tree_classifier")
    result = training.train(spark, s)
    assert result["preprocessing"]["encoding"] == {"store": "ordinal", "shade": "index"}
    assert result["warnings"] == [
        "feature 'store' has 40 values, more than maxBins (32): used as an ordinal index "
        "(frequency order); raise params.maxBins to split on it as a category"
    ]
    assert set(result["featureImportances"]) == {"x", "y", "store", "shade"}
    assert result["preprocessing"]["missing"]["impute"] == "median"
    result = training.train(spark, {**s, "params": {"maxBins": 64}})
    assert result["preprocessing"]["encoding"] == {"store": "index", "shade": "index"}
    assert result["warnings"] == []


def test_the_perceptron_standardized_with_its_layers_set(spark, tmp_path):
    uri = write_csv(tmp_path / "b.csv", ["x1", "x2", "color", "label"], binary_rows(200))
    s = spec(
        tmp_path,
        uri,
        label="label",
        algorithm="multilayer_perceptron",
        params={"layers": [3, 4, 2], "seed": 1, "maxIter": 50},
        standardize=True,
    )
    result = training.train(spark, s)
    assert result["warnings"] == ["params.layers set to [6, 4, 2]: 6 feature slots, 2 classes"]
    assert result["preprocessing"]["standardize"] is True
    assert result["metrics"]["accuracy"] > 0.8


ALLOWED = json.loads((JOBS / "tests" / "algorithms.json").read_text())


def test_options_follow_the_gateways_allow_list():
    """algorithms.py's STANDARDIZE and WEIGHTED are algorithms.ts's `standardize` and
    `classWeights` (tests/algorithms.json)."""
    assert {n: a["standardize"] for n, a in ALLOWED.items() if "standardize" in a} == (
        algorithms.STANDARDIZE
    )
    assert {n for n, a in ALLOWED.items() if a.get("classWeights")} == algorithms.WEIGHTED


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"algorithm": "kmeans", "standardize": True}, "standardize applies to"),
        ({"algorithm": "linear_regression", "classWeights": "balanced"}, "classWeights applies"),
        ({"algorithm": "multilayer_perceptron", "classWeights": "balanced"}, "classWeights"),
        ({"evaluation": {"folds": 3}, "crossValidation": {"grid": {}}}, "exclude each other"),
        ({"missing": {"strategy": "drop", "impute": "mean"}}, "only with missing.strategy impute"),
        ({"missing": {"strategy": "zero"}}, "one of drop, impute, error"),
    ],
)
def test_option_rules(extra, message):
    s = {"algorithm": "logistic_regression", "params": {"layers": [2, 2]}, **extra}
    with pytest.raises(SpecError, match=message):
        spec_rules.check_options(s, algorithms.ALGORITHMS[s["algorithm"]][0])
        spec_rules.missing_policy(s, "classification")


def test_standardize_defaults():
    assert algorithms.standardize_of({"algorithm": "logistic_regression"}) is True
    assert algorithms.standardize_of({"algorithm": "multilayer_perceptron"}) is False
    assert algorithms.standardize_of({"algorithm": "kmeans"}) is None
    s = {"algorithm": "linear_svc", "params": {"standardization": False}}
    assert algorithms.standardize_of(s) is False
    with pytest.raises(SpecError, match="disagree"):
        algorithms.standardize_of({**s, "standardize": True})


def test_multinomial_coefficients_by_class(spark, tmp_path):
    uri = write_csv(tmp_path / "m.csv", ["x", "y", "kind"], blobs(300))
    result = training.train(
        spark, spec(tmp_path, uri, label="kind", algorithm="logistic_regression")
    )
    assert "coefficients" not in result
    by_class = result["coefficientsByClass"]
    assert sorted(by_class) == ["a", "b", "c"]
    assert all(set(row) == {"x", "y"} for row in by_class.values())
    assert sorted(result["interceptByClass"]) == ["a", "b", "c"]
    # blob b sits at (6, 6), c at (-6, 6): x pulls towards b and away from c
    assert by_class["b"]["x"] > 0 > by_class["c"]["x"]


def test_libsvm_slots_are_named_by_their_index(spark, tmp_path):
    path = tmp_path / "d.libsvm"
    lines = [f"{int(y)} 1:{x1} 2:{x2} 3:0.5" for x1, x2, _, y in binary_rows(300)]
    path.write_text("\n".join(lines) + "\n")
    s = spec(tmp_path, path.as_uri(), algorithm="logistic_regression")
    s["input"]["format"] = "libsvm"
    result = training.train(spark, s)
    assert set(result["coefficients"]) == {"1", "2", "3"}
    assert result["coefficients"]["2"] > result["coefficients"]["1"] > 0
    s = spec(tmp_path, path.as_uri(), algorithm="random_forest_classifier", params={"seed": 1})
    s["input"]["format"] = "libsvm"
    result = training.train(spark, s)
    assert set(result["featureImportances"]) == {"1", "2", "3"}

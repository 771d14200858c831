"""Exact ROC and precision-recall curves of a binary classifier, as Spark's own evaluator
draws them (so the area under the curve data is `areaUnderROC`/`areaUnderPR`), thinned for
metrics.json without changing that area where it can.

Spark's BinaryClassificationEvaluator scores each row by `rawPrediction[1]`, counts the
positives and negatives at each distinct score (highest first), and — with more than twice
`numBins` (1,000) distinct scores — groups runs of consecutive scores into bins. Each
(cumulated) bin is one point: ROC is (0, 0), then (false positive rate, recall) per point,
then (1, 1); PR is (0, the first point's precision), then (recall, precision) per point.
The areas are the trapezoids under those points. A multi-class classifier's one-vs-rest ROC
curves are counted the same way, all classes in one Spark job; a binary classifier's
calibration curve bins its `probability[1]`."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

NUM_BINS = 1000  # BinaryClassificationEvaluator's default
MAX_POINTS = 300  # what metrics.json keeps of each curve


def score_counts(
    predictions: DataFrame, label_col: str, score_of, column: str, classes: list[int]
) -> list[list[tuple[float, float, float]]]:
    """For each class k of `classes`, in one Spark job: (score, positives, negatives) per
    distinct score of `column[k]`, highest score first; a row is positive when its label is k."""
    wanted = F.array(*(F.lit(float(k)) for k in classes))
    rows = (
        predictions.select(
            F.col(label_col).alias("y"),
            F.posexplode(F.array(*(score_of(column, k) for k in classes))).alias("i", "s"),
        )
        .withColumn("p", (F.col("y") == F.element_at(wanted, F.col("i") + 1)).cast("double"))
        .groupBy("i", "s")
        .agg(F.sum("p"), F.sum(1.0 - F.col("p")))
        .collect()
    )
    counts: list[list[tuple[float, float, float]]] = [[] for _ in classes]
    for r in rows:
        counts[r[0]].append((float(r[1]), float(r[2]), float(r[3])))
    return [sorted(c, key=lambda c: -c[0]) for c in counts]


def binned(counts: list[tuple[float, float, float]], num_bins: int = NUM_BINS):
    """Spark's grouping of consecutive scores (each group named by its first, highest score)
    when there are at least twice `num_bins` of them; else the counts as they are."""
    grouping = len(counts) // num_bins if num_bins > 0 else 0
    if grouping < 2:
        return counts
    out = []
    for i in range(0, len(counts), grouping):
        group = counts[i : i + grouping]
        out.append((group[0][0], sum(g[1] for g in group), sum(g[2] for g in group)))
    return out


def roc_pr(counts: list[tuple[float, float, float]]) -> tuple[list[dict], list[dict]]:
    """The ROC and PR points of the (binned) counts, with each point's threshold."""
    positives = sum(c[1] for c in counts)
    negatives = sum(c[2] for c in counts)
    roc: list[dict[str, Any]] = [{"threshold": None, "fpr": 0.0, "tpr": 0.0}]
    pr: list[dict[str, Any]] = []
    tp = fp = 0.0
    for score, p, n in counts:
        tp, fp = tp + p, fp + n
        recall = tp / positives if positives else 0.0
        roc.append({"threshold": score, "fpr": fp / negatives if negatives else 0.0, "tpr": recall})
        pr.append(
            {"threshold": score, "recall": recall, "precision": tp / (tp + fp) if tp + fp else 1.0}
        )
    roc.append({"threshold": None, "fpr": 1.0, "tpr": 1.0})
    if pr:
        pr.insert(0, {"threshold": None, "recall": 0.0, "precision": pr[0]["precision"]})
    return roc, pr


def area(points: list[dict], x: str, y: str) -> float:
    """The trapezoids under the points, in their order (as Spark's AreaUnderCurve)."""
    return sum((b[x] - a[x]) * (a[y] + b[y]) / 2.0 for a, b in zip(points, points[1:]))


def thin(points: list[dict], x: str, y: str, most: int = MAX_POINTS) -> list[dict]:
    """At most `most` points: first those in the middle of a straight run go (the area stays
    exactly the same), then, if still too many, every k-th is kept (ends included)."""
    kept = [points[0]] if points else []
    for i in range(1, len(points) - 1):
        a, b, c = kept[-1], points[i], points[i + 1]
        cross = (b[x] - a[x]) * (c[y] - a[y]) - (b[y] - a[y]) * (c[x] - a[x])
        if abs(cross) > 1e-15:
            kept.append(b)
    if len(points) > 1:
        kept.append(points[-1])
    if len(kept) <= most:
        return kept
    step = (len(kept) - 1) / (most - 1)
    return [kept[round(i * step)] for i in range(most)]


def exact_curves(predictions: DataFrame, label_col: str, score_of) -> dict[str, Any]:
    """The curves of a binary classifier's test predictions, thinned, with the areas of the
    full curves (equal to the evaluator's areaUnderROC and areaUnderPR)."""
    counts = binned(score_counts(predictions, label_col, score_of, "rawPrediction", [1])[0])
    roc, pr = roc_pr(counts)
    return {
        "score": "rawPrediction",
        "points": len(counts),
        "areaUnderROC": area(roc, "fpr", "tpr"),
        "areaUnderPR": area(pr, "recall", "precision"),
        "roc": thin(roc, "fpr", "tpr"),
        "pr": thin(pr, "recall", "precision"),
    }


def one_vs_rest(
    predictions: DataFrame, label_col: str, score_of, classes: list[str], most: int = 20
) -> list[dict[str, Any]]:
    """Each class's ROC curve against all others (scored by `probability[k]`, else
    `rawPrediction[k]`), for the `most` classes with the most test rows: [{label, support,
    areaUnderROC, roc}], the area of the full curve, the points thinned. One Spark job
    counts every class's scores (two when there are more than `most` classes)."""
    column = "probability" if "probability" in predictions.columns else "rawPrediction"
    k_all = len(classes)
    if k_all > most:
        support = {int(r[0]): r[1] for r in predictions.groupBy(label_col).count().collect()}
        top = sorted(sorted(support, key=lambda k: (-support[k], k))[:most])
    else:
        top = list(range(k_all))
    out = []
    for k, ordered in zip(top, score_counts(predictions, label_col, score_of, column, top)):
        support = int(sum(c[1] for c in ordered))
        if support == 0:
            continue  # a class absent from the test split has no curve
        roc, _ = roc_pr(binned(ordered))
        out.append(
            {
                "label": classes[k] if k < len(classes) else str(k),
                "support": support,
                "score": f"{column}[{k}]",
                "areaUnderROC": area(roc, "fpr", "tpr"),
                "roc": thin(roc, "fpr", "tpr"),
            }
        )
    return out


def calibration(predictions: DataFrame, label_col: str, score_of, bins: int = 10) -> dict:
    """A binary classifier's reliability curve: `probability[1]` in `bins` equal-width bins
    of [0, 1] (scikit-learn's calibration_curve, strategy "uniform"); each non-empty bin's
    mean predicted probability, fraction of positives and row count."""
    p = score_of("probability", 1)
    rows = (
        predictions.select(
            F.least(F.floor(p * bins), F.lit(bins - 1)).cast("int").alias("b"),
            p.alias("p"),
            (F.col(label_col) == 1.0).cast("double").alias("y"),
        )
        .groupBy("b")
        .agg(F.avg("p"), F.avg("y"), F.count(F.lit(1)))
        .orderBy("b")
        .collect()
    )
    points = [
        {
            "bin": int(r[0]),
            "meanPredicted": float(r[1]),
            "fractionPositive": float(r[2]),
            "rows": r[3],
        }
        for r in rows
    ]
    return {"score": "probability[1]", "bins": bins, "points": points}

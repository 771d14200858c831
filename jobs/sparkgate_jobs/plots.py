"""Evaluation plots: PNG figures drawn with matplotlib's headless Agg backend from what a
run's result says — a training's metrics.json (of the model on its held-out test split,
never on the training rows) or a scoring's scoring.json. Each figure has a title naming
the plot, a caption naming the job and the model, and labelled axes.

  training   roc, pr, calibration, confusion-matrix     binary classification
             confusion-matrix, confusion-matrix-normalized, roc-per-class   multi-class
             predicted-vs-actual, residuals             regression
             importances                                every model with importances or
                                                        coefficients (one-hot slots `col=value`)
  scoring    score-histogram                            binary classifiers, regression
             predicted-classes                          multi-class, clustering

`training_figures(result, caption)` / `scoring_figures(report, caption)` return
{name: (title, PNG bytes)} for the plots the result has data for. Spark-free: the job
hands them its result's dict; the gateway serves the files."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a cluster node

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen

SIZE = (6.4, 4.8)  # inches: 640 × 480 px at DPI
DPI = 100
TOP_FEATURES = 20

Figures = dict[str, tuple[str, bytes]]


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _figure(title: str, caption: str):
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI, layout="constrained")
    ax.set_title(f"{title}\n{caption}", fontsize=10)
    return fig, ax


def _unit_square(ax, x: str, y: str) -> None:
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)


def _line(ax, points: list[dict[str, Any]], x: str, y: str, **style) -> None:
    ax.plot([p[x] for p in points], [p[y] for p in points], **style)


def roc(curves: list[tuple[str, list[dict[str, Any]]]], title: str, caption: str) -> bytes:
    """ROC curves, each (its legend, its points), over the chance diagonal."""
    fig, ax = _figure(title, caption)
    for legend, points in curves:
        _line(ax, points, "fpr", "tpr", label=legend)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    _unit_square(ax, "false positive rate", "true positive rate (recall)")
    ax.legend(loc="lower right", fontsize=8 if len(curves) > 1 else None)
    return _png(fig)


def pr(curves: dict[str, Any], title: str, caption: str) -> bytes:
    fig, ax = _figure(title, caption)
    _line(ax, curves["pr"], "recall", "precision", label=f"area = {curves['areaUnderPR']:.4f}")
    _unit_square(ax, "recall", "precision")
    ax.legend(loc="lower left")
    return _png(fig)


def calibration(data: dict[str, Any], title: str, caption: str) -> bytes:
    fig, ax = _figure(title, caption)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    _line(ax, data["points"], "meanPredicted", "fractionPositive", marker="o", label="model")
    _unit_square(ax, "mean predicted probability (per bin)", "fraction of positives")
    ax.legend(loc="upper left")
    return _png(fig)


def confusion(matrix: dict[str, Any], title: str, caption: str, normalized: bool = False) -> bytes:
    labels, m = matrix["labels"], matrix["matrix"]
    values = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in m] if normalized else m
    fig, ax = _figure(title, caption)
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(len(labels)), labels=labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    top = max((max(row) for row in values), default=0)
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            text = f"{v:.2f}" if normalized else str(v)
            ax.text(j, i, text, ha="center", va="center", color="white" if v > top / 2 else "black")
    return _png(fig)


def predicted_vs_actual(data: dict[str, Any], title: str, caption: str) -> bytes:
    fig, ax = _figure(title, caption)
    actual = [p["actual"] for p in data["points"]]
    predicted = [p["predicted"] for p in data["points"]]
    ax.scatter(actual, predicted, s=8, alpha=0.5)
    if actual:
        low, high = min(actual + predicted), max(actual + predicted)
        ax.plot([low, high], [low, high], linestyle="--", color="grey", label="predicted = actual")
        ax.legend(loc="upper left")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.grid(alpha=0.3)
    return _png(fig)


def residuals(data: dict[str, Any], title: str, caption: str) -> bytes:
    fig, ax = _figure(title, caption)
    predicted = [p["predicted"] for p in data["points"]]
    ax.scatter(predicted, [p["actual"] - p["predicted"] for p in data["points"]], s=8, alpha=0.5)
    ax.axhline(0, linestyle="--", color="grey")
    ax.set_xlabel("predicted")
    ax.set_ylabel("residual (actual − predicted)")
    ax.grid(alpha=0.3)
    return _png(fig)


def importances(values: dict[str, float], kind: str, title: str, caption: str) -> bytes:
    top = sorted(values.items(), key=lambda kv: abs(kv[1]), reverse=True)[:TOP_FEATURES][::-1]
    fig, ax = _figure(title, caption)
    ax.barh([k for k, _ in top], [v for _, v in top])
    ax.set_xlabel(kind)
    ax.set_ylabel("feature (one-hot columns as column=value)")
    return _png(fig)


def bars(counts: dict[str, int], title: str, caption: str, x: str) -> bytes:
    fig, ax = _figure(title, caption)
    names = list(counts)
    ax.bar(names, [counts[n] for n in names])
    ax.set_xticks(range(len(names)), labels=names, rotation=45, ha="right")
    ax.set_xlabel(x)
    ax.set_ylabel("rows")
    return _png(fig)


def histogram(data: dict[str, Any], title: str, caption: str) -> bytes:
    fig, ax = _figure(title, caption)
    edges, counts = data["edges"], data["counts"]
    ax.stairs(counts, edges, fill=True)
    ax.set_xlabel(data["of"])
    ax.set_ylabel("rows")
    return _png(fig)


def _importance_of(result: dict[str, Any]) -> tuple[dict[str, float], str] | None:
    if result.get("featureImportances"):
        return result["featureImportances"], "importance"
    if result.get("coefficients"):
        return result["coefficients"], "coefficient"
    by_class = result.get("coefficientsByClass")
    if by_class:  # multinomial: one row per class; its size per slot, over the classes
        rows = list(by_class.values())
        mean = {s: sum(abs(r[s]) for r in rows) / len(rows) for s in rows[0]}
        return mean, "mean |coefficient| over the classes"
    return None


def training_figures(result: dict[str, Any], caption: str) -> Figures:
    """The PNGs a training's result has data for, by name, with their titles."""
    out: Figures = {}
    test = f"test split, {result.get('rows', {}).get('test', '?')} rows"

    def add(name: str, title: str, draw) -> None:
        out[name] = (title, draw(title))

    curves = result.get("curves")
    if curves and curves.get("roc"):
        area = f"AUC = {curves['areaUnderROC']:.4f}"
        add("roc", f"ROC curve ({test})", lambda t: roc([(area, curves["roc"])], t, caption))
        add("pr", f"Precision-recall curve ({test})", lambda t: pr(curves, t, caption))
    if result.get("calibration", {}).get("points"):
        add(
            "calibration",
            f"Calibration ({test})",
            lambda t: calibration(result["calibration"], t, caption),
        )
    matrix = result.get("confusionMatrix")
    if matrix:
        add(
            "confusion-matrix",
            f"Confusion matrix ({test})",
            lambda t: confusion(matrix, t, caption),
        )
        if len(matrix["labels"]) > 2:
            add(
                "confusion-matrix-normalized",
                f"Confusion matrix, rows normalised ({test})",
                lambda t: confusion(matrix, t, caption, normalized=True),
            )
    if result.get("rocByClass"):
        per_class = [
            (f"{c['label']} (AUC = {c['areaUnderROC']:.4f})", c["roc"])
            for c in result["rocByClass"]
        ]
        add(
            "roc-per-class",
            f"ROC per class, one-vs-rest ({test})",
            lambda t: roc(per_class, t, caption),
        )
    sample = result.get("predictedVsActual")
    if sample and sample.get("points"):
        shown = f"test split, {sample['sampled']} of {sample['rows']} rows"
        add(
            "predicted-vs-actual",
            f"Predicted against actual ({shown})",
            lambda t: predicted_vs_actual(sample, t, caption),
        )
        add(
            "residuals",
            f"Residuals against predicted ({shown})",
            lambda t: residuals(sample, t, caption),
        )
    importance = _importance_of(result)
    if importance:
        values, kind = importance
        shown = min(len(values), TOP_FEATURES)
        title = {
            "importance": f"Feature importances (top {shown})",
            "coefficient": f"Coefficients (top {shown} by size)",
        }.get(kind, f"Coefficient size by feature, mean over the classes (top {shown})")
        add("importances", title, lambda t: importances(values, kind, t, caption))
    return out


def scoring_figures(report: dict[str, Any], caption: str) -> Figures:
    """The PNGs a scoring's report has data for: its predictions' distribution."""
    d = report.get("distribution")
    if not d:
        return {}
    rows = report.get("rows", {}).get("scored", "?")
    if d["kind"] == "histogram":
        title = f"Predicted {d['of']} ({rows} rows scored)"
        return {"score-histogram": (title, histogram(d, title, caption))}
    title = f"Predicted classes ({rows} rows scored)"
    return {"predicted-classes": (title, bars(d["counts"], title, caption, "predicted class"))}

"""Evaluation plots of a training (issue 29, in progress): PNG figures drawn with matplotlib's
headless Agg backend from what metrics.json says of the model on its test split — never
from the training rows. Each figure has a title naming the plot, the job and the model, and
labelled axes; `figures(result, caption)` returns {name: PNG bytes} for the plots the result
has data for:

  roc, pr, confusion-matrix     binary classification (curves.py's exact curves)
  confusion-matrix, confusion-matrix-normalized   multi-class
  importances                   feature importances or coefficients by slot (top 20 by size)

Spark-free: the job hands it metrics.json's dict; the gateway serves the files."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a cluster node

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen

SIZE = (6.4, 4.8)  # inches: 640 × 480 px at DPI
DPI = 100
TOP_FEATURES = 20


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _figure(title: str, caption: str):
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI, layout="constrained")
    ax.set_title(f"{title}\n{caption}", fontsize=10)
    return fig, ax


def roc(curves: dict[str, Any], caption: str) -> bytes:
    fig, ax = _figure("ROC curve (test split)", caption)
    points = curves["roc"]
    ax.plot(
        [p["fpr"] for p in points],
        [p["tpr"] for p in points],
        label=f"AUC = {curves['areaUnderROC']:.4f}",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (recall)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right")
    return _png(fig)


def pr(curves: dict[str, Any], caption: str) -> bytes:
    fig, ax = _figure("Precision-recall curve (test split)", caption)
    points = curves["pr"]
    ax.plot(
        [p["recall"] for p in points],
        [p["precision"] for p in points],
        label=f"area = {curves['areaUnderPR']:.4f}",
    )
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower left")
    return _png(fig)


def confusion(matrix: dict[str, Any], caption: str, normalized: bool = False) -> bytes:
    labels, m = matrix["labels"], matrix["matrix"]
    values = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in m] if normalized else m
    title = "Confusion matrix, rows normalised" if normalized else "Confusion matrix"
    fig, ax = _figure(f"{title} (test split)", caption)
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


def importances(values: dict[str, float], kind: str, caption: str) -> bytes:
    top = sorted(values.items(), key=lambda kv: abs(kv[1]), reverse=True)[:TOP_FEATURES][::-1]
    fig, ax = _figure(f"{kind} (top {len(top)} by size)", caption)
    ax.barh([k for k, _ in top], [v for _, v in top])
    ax.set_xlabel(kind.lower())
    ax.set_ylabel("feature (one-hot columns as column=value)")
    return _png(fig)


def figures(result: dict[str, Any], caption: str) -> dict[str, bytes]:
    """The PNGs the result has data for, by name."""
    out: dict[str, bytes] = {}
    curves = result.get("curves")
    if curves and curves.get("roc"):
        out["roc"] = roc(curves, caption)
        out["pr"] = pr(curves, caption)
    matrix = result.get("confusionMatrix")
    if matrix:
        out["confusion-matrix"] = confusion(matrix, caption)
        if len(matrix["labels"]) > 2:
            out["confusion-matrix-normalized"] = confusion(matrix, caption, normalized=True)
    if result.get("featureImportances"):
        out["importances"] = importances(
            result["featureImportances"], "Feature importance", caption
        )
    elif result.get("coefficients"):
        out["importances"] = importances(result["coefficients"], "Coefficient", caption)
    return out

"""What a scoring's predictions look like, for scoring.json and its plot: a histogram of the
predicted scores (a binary classifier's probability of its second class, a regression's
predicted values) or the rows per predicted class (multi-class, clustering). Read from the
scored file as written, rows without a prediction left out."""

from __future__ import annotations

from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

BINS = 20
MOST_CLASSES = 30


def histogram(df: DataFrame, x: Column, of: str, low=None, high=None) -> dict[str, Any]:
    """`BINS` equal-width bins from `low` to `high` (the values' own range when not given):
    {kind, of, edges (BINS + 1), counts (BINS)}; the top edge is in the last bin."""
    values = df.select(x.alias("x")).where(F.col("x").isNotNull())
    if low is None or high is None:
        row = values.agg(F.min("x"), F.max("x")).first()
        low, high = (row[0], row[1]) if row[0] is not None else (0.0, 1.0)
    low, high = float(low), float(high)
    width = (high - low) / BINS if high > low else 1.0
    found = (
        values.select(
            F.least(F.greatest(F.floor((F.col("x") - low) / width), F.lit(0)), F.lit(BINS - 1))
            .cast("int")
            .alias("b")
        )
        .groupBy("b")
        .count()
        .collect()
    )
    counts = [0] * BINS
    for r in found:
        counts[r[0]] = r[1]
    return {
        "kind": "histogram",
        "of": of,
        "edges": [low + i * width for i in range(BINS + 1)],
        "counts": counts,
    }


def classes(df: DataFrame, known: list[Any] | None) -> dict[str, Any]:
    """Rows per predicted class: in the model's order of classes when it has one, else by
    count; at most `MOST_CLASSES` (the others summed as `(others)`)."""
    rows = df.where(F.col("prediction").isNotNull()).groupBy("prediction").count().collect()
    found = {str(r[0]): r[1] for r in rows}
    order = [str(c) for c in known or []]
    names = [c for c in order if c in found] + sorted(
        (c for c in found if c not in order), key=lambda c: -found[c]
    )
    counts = {c: found[c] for c in names[:MOST_CLASSES]}
    if len(names) > MOST_CLASSES:
        counts["(others)"] = sum(found[c] for c in names[MOST_CLASSES:])
    return {"kind": "classes", "counts": counts}


def of_scores(
    df: DataFrame, fmt: str, task: str | None, known: list[Any] | None, span=(None, None)
):
    """The distribution a scored file's predictions have, or None (nothing to draw); `span`:
    the predicted values' (min, max) when the caller has them."""
    if task == "regression":
        return histogram(df, F.col("prediction").cast("double"), "value", *span)
    binary = known is not None and len(known) == 2 and "probability" in df.columns
    if binary:
        p = F.col("probability")
        p = F.from_json(p, "array<double>") if fmt == "csv" else p
        return histogram(df, p[1], f"probability of class {known[1]}", 0.0, 1.0)
    if task in ("classification", "clustering"):
        return classes(df, known)
    return None

"""Drawing a run's plots without ever failing the run: the model and its metrics matter
more than its pictures. matplotlib missing from the job's Python (a cluster whose
environment lacks it) or a figure that cannot be drawn leaves the run without plots and
says why in its warnings."""

from __future__ import annotations

from typing import Any


def draw(which: str, data: dict[str, Any], caption: str, warnings: list[str]) -> dict:
    """plots.py's `<which>_figures(data, caption)` ({name: (title, PNG)}); {} and a warning
    when they cannot be drawn."""
    try:
        from sparkgate_jobs import plots
    except ImportError as error:
        warnings.append(
            f"no plots: matplotlib cannot be imported in the job's Python ({error}); "
            "install it where Spark runs the job"
        )
        return {}
    try:
        return getattr(plots, f"{which}_figures")(data, caption)
    except Exception as error:  # noqa: BLE001 - a figure never fails the run
        warnings.append(f"no plots: drawing them failed ({type(error).__name__}: {error})")
        return {}

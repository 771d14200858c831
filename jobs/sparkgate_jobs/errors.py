"""The error of a bad spec or bad data (pyspark-free: the gateway's zip test imports it)."""

from __future__ import annotations


class SpecError(Exception):
    """A problem with the spec or the data: one SPARKGATE_ERROR line, and error.json."""

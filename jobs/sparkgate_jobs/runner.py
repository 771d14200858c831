"""How train.py and score.py run: the spec.json named on the command line in, one JSON line
out; a bad spec or bad data is one SPARKGATE_ERROR line on stderr and exit code 2."""

from __future__ import annotations

import json
import sys

from pyspark.sql import SparkSession

from sparkgate_jobs.errors import SpecError
from sparkgate_jobs.storage import read_text


def report(text: str) -> None:
    """One SPARKGATE_ERROR line in ONE write: an unbuffered stderr would otherwise get the
    text and its newline separately, and the JVM's log lines (same pipe) could land between."""
    sys.stderr.write(f"SPARKGATE_ERROR: {text}\n")
    sys.stderr.flush()


def run_job(argv: list[str], name: str, work) -> int:
    """Runs `work(spark, spec)` on the spec.json named by argv[1] and prints what it returns;
    a SpecError is one SPARKGATE_ERROR line and exit code 2 (score.py runs the same way)."""
    if len(argv) != 2:
        report(f"usage: {name}.py <spec.json URI>")
        return 2
    spark = SparkSession.builder.appName(f"sparkgate-{name}").getOrCreate()
    try:
        print(json.dumps(work(spark, json.loads(read_text(spark, argv[1])))))
        return 0
    except SpecError as error:
        report(str(error))
        return 2
    except Exception as error:  # noqa: BLE001 - Spark's own errors: one line, then re-raise
        line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        report(f"{type(error).__name__}: {line}")
        raise
    finally:
        spark.stop()

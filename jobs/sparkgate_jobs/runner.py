"""How train.py and score.py run: the spec.json named on the command line in, one JSON line
out; a bad spec or bad data is one SPARKGATE_ERROR line on stderr and exit code 2.

A failure is also written to `error.json` in the run's folder (spec.json's own folder,
where metrics.json and scoring.json go): {"code", "message", "type"}. The gateway reads it
first when the application fails, since in YARN cluster mode the driver's stderr is in
the container's log, not in Livy's. The file is removed when a run starts, so a retried
run never shows an earlier one's reason (the gateway removes it when it stages, too)."""

from __future__ import annotations

import json
import sys

from pyspark.sql import SparkSession

from sparkgate_jobs.errors import SpecError
from sparkgate_jobs.storage import read_text, remove, write_text

ERROR_FILE = "error.json"
ERROR_CODE = "SPARK_JOB_ERROR"
MAX_MESSAGE = 4000


def report(text: str) -> None:
    """One SPARKGATE_ERROR line in ONE write: an unbuffered stderr would otherwise get the
    text and its newline separately, and the JVM's log lines (same pipe) could land between."""
    sys.stderr.write(f"SPARKGATE_ERROR: {text}\n")
    sys.stderr.flush()


def error_uri(spec_uri: str) -> str:
    """error.json beside spec.json: the run's folder, known even when the spec is not."""
    return f"{spec_uri.rsplit('/', 1)[0]}/{ERROR_FILE}"


def write_error(spark: SparkSession, uri: str, message: str, error: BaseException) -> None:
    """Best effort: a store that refuses the file must not hide the error being reported
    (already on stderr), so a failure here is one more stderr line, never an exception."""
    body = {"code": ERROR_CODE, "message": message[:MAX_MESSAGE], "type": type(error).__name__}
    try:
        write_text(spark, uri, json.dumps(body))
    except Exception as failure:  # noqa: BLE001 - whatever the store says, the job's error wins
        sys.stderr.write(f"sparkgate: could not write {uri}: {type(failure).__name__}\n")


def run_with(spark: SparkSession, spec_uri: str, work) -> int:
    """Runs `work(spark, spec)` in a session the caller owns (tests share one); see run_job."""
    where = error_uri(spec_uri)
    try:
        remove(spark, where)  # a previous attempt's reason is not this one's
    except Exception as failure:  # noqa: BLE001 - a stale file is the gateway's to ignore
        sys.stderr.write(f"sparkgate: could not remove {where}: {type(failure).__name__}\n")
    try:
        print(json.dumps(work(spark, json.loads(read_text(spark, spec_uri)))))
        return 0
    except SpecError as error:
        report(str(error))
        write_error(spark, where, str(error), error)
        return 2
    except Exception as error:  # noqa: BLE001 - Spark's own errors: one line, then re-raise
        message = explain(error)
        report(message)
        write_error(spark, where, message, error)
        raise


def explain(error: BaseException) -> str:
    """One line for an error: `Type: first line`. PySpark's Py4JJavaError only says which
    call failed ("An error occurred while calling o31.csv."): the Java exception under it
    says why (`org.apache.hadoop.security.AccessControlException: Permission denied: …`)."""
    java = getattr(error, "java_exception", None)
    if java is not None:
        try:
            text = str(java.toString()).strip()
            if text:
                return text.splitlines()[0]
        except Exception:  # noqa: BLE001 - the JVM may be gone: the Python side still says what
            pass
    line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return f"{type(error).__name__}: {line}"


def run_job(argv: list[str], name: str, work) -> int:
    """Runs `work(spark, spec)` on the spec.json named by argv[1] and prints what it returns;
    a SpecError is one SPARKGATE_ERROR line, error.json and exit code 2 (score.py runs the
    same way)."""
    if len(argv) != 2:
        report(f"usage: {name}.py <spec.json URI>")
        return 2
    spark = SparkSession.builder.appName(f"sparkgate-{name}").getOrCreate()
    try:
        return run_with(spark, argv[1], work)
    finally:
        spark.stop()

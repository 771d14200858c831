"""A warm engine (jobs/engine.py): one long-running Spark application that runs a tenant's
training and scoring jobs one after another, in-process, with the code train.py and score.py
run, so a job does not wait for Spark to start.

The engine asks the gateway for work over HTTP: JSON both ways, `Authorization: Bearer
<token>` on every request (the token comes from a file and is never printed), every path
under `<gateway>/engine/v1/engines/<engine id>`:

  POST /poll?wait=<s>  {"appId", "memory": {"usedBytes", "maxBytes"}, "jobsServed"}
    200 {"job": {"id", "attempt", "kind": "training"|"scoring", "spec": <spec.json URI>}}
                       run it, report it (below), poll again
    200 {"stop": true} exit 0 (idle timeout, or the engine was deleted)
    204                no job within `wait` seconds: poll again at once
    401 403 404 410    the engine was revoked or deleted: exit 0
  POST /jobs/<id>/heartbeat  {"attempt", "memory"}  every few seconds while the job runs
    200 {"cancel": true}  cancel the job's Spark jobs (its job group); outcome "cancelled"
  POST /jobs/<id>/done  {"attempt", "outcome": "succeeded"|"failed"|"cancelled",
                         "log": [the job's last 500 lines], "error"?: one line}
    2xx accepted; 409 the attempt is no longer this engine's; another 4xx: report dropped

No answer (a network error, a timeout, 5xx, 429, a redirect, a poll answer that is not one
of the above): the request is tried again 1 s, 2 s, 4 s … 10 s apart; after `give_up_seconds`
in a row without one, the engine exits 1 with a SPARKGATE_ERROR line.

A job runs as train.py and score.py run it (runner.run_with: one JSON line on stdout; a
SPARKGATE_ERROR line and error.json on a failure), and a failing job does not end the
engine. The job's Python stdout and stderr still reach the driver's and are kept for the
done report. Around each job the engine writes two lines to stdout:

  sparkgate-engine: job <id> attempt <n> (<kind>) started
  sparkgate-engine: job <id> attempt <n> (<kind>) ended: <outcome> in <seconds>s
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote

from pyspark import SparkContext
from pyspark.sql import SparkSession

from sparkgate_jobs import scoring, training
from sparkgate_jobs.engine_gateway import Backoff, Gateway, Unanswered
from sparkgate_jobs.runner import explain, report, run_with
from sparkgate_jobs.storage import read_text
from sparkgate_jobs.warm_up import warm_up

USAGE = "usage: engine.py <gateway base URL> <engine id> <token file URI>"
Work = Callable[[SparkSession, dict[str, Any]], dict[str, Any]]
# the very functions train.py and score.py run: the same result line, the same files
WORK: dict[str, Work] = {"training": training.work, "scoring": scoring.work}
REVOKED = frozenset({401, 403, 404, 410})
LOG_LINES = 500
LINE_CHARS = 2000
POLL_SLACK_SECONDS = 15  # the socket waits this much longer than the gateway holds a poll
DONE_TIMEOUT_SECONDS = 30.0
HEARTBEAT_TIMEOUT_SECONDS = 10.0
ERROR_PREFIX = "SPARKGATE_ERROR: "
# what SparkContext.setJobGroup sets (Scala's clearJobGroup unsets them; PySpark has none)
JOB_GROUP_PROPERTIES = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")


def say(stream: TextIO, text: str) -> None:
    """One line in one write, flushed: the JVM's log lines share the driver's pipes."""
    stream.write(f"sparkgate-engine: {text}\n")
    stream.flush()


@dataclass(frozen=True)
class Job:
    id: str
    attempt: int
    kind: str
    spec: str

    def __str__(self) -> str:
        return f"job {self.id} attempt {self.attempt} ({self.kind})"


@dataclass(frozen=True)
class Ended:
    outcome: str  # succeeded, failed, cancelled
    error: str | None
    log: list[str]


def job_of(value: Any) -> Job:
    """The poll's `job`; one the engine could not even report on is no answer at all."""
    if not isinstance(value, dict):
        raise Unanswered("a job that is not an object")
    job_id, attempt = value.get("id"), value.get("attempt")
    kind, spec = value.get("kind"), value.get("spec")
    if not (isinstance(job_id, str) and job_id and isinstance(spec, str) and spec):
        raise Unanswered("a job without its id or spec")
    if not isinstance(attempt, int) or isinstance(attempt, bool) or not isinstance(kind, str):
        raise Unanswered(f"job {job_id}: its attempt or kind is missing")
    return Job(job_id, attempt, kind, spec)


def memory(spark: SparkSession) -> dict[str, int]:
    """The driver JVM's heap: what the gateway weighs an engine's next job against."""
    runtime = spark._jvm.java.lang.Runtime.getRuntime()
    total, free = int(runtime.totalMemory()), int(runtime.freeMemory())
    return {"usedBytes": total - free, "maxBytes": int(runtime.maxMemory())}


class _Tee:
    """A stream that writes through to the real one and keeps complete lines (cut to
    LINE_CHARS) in a shared bounded deque: a chatty job cannot grow the engine's memory."""

    def __init__(self, real: TextIO, lines: deque[str], lock: threading.Lock) -> None:
        self._real = real
        self._lines = lines
        self._lock = lock
        self._partial = ""

    def write(self, text: str) -> int:
        self._real.write(text)
        with self._lock:  # the job's own threads (cross-validation) may write too
            pieces = (self._partial + text).split("\n")
            self._partial = pieces.pop()[:LINE_CHARS]
            self._lines.extend(p.rstrip("\r")[:LINE_CHARS] for p in pieces)
        return len(text)

    def flush(self) -> None:
        self._real.flush()

    def finish(self) -> None:
        """The last line, when the job wrote it without its newline."""
        with self._lock:
            if self._partial:
                self._lines.append(self._partial)
            self._partial = ""

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno…: the real stream's
        return getattr(self._real, name)


@contextlib.contextmanager
def captured() -> Iterator[deque[str]]:
    """sys.stdout and sys.stderr teed while the block runs; yields the kept lines (the last
    LOG_LINES of both, in the order written)."""
    lines: deque[str] = deque(maxlen=LOG_LINES)
    lock = threading.Lock()
    out, err = _Tee(sys.stdout, lines, lock), _Tee(sys.stderr, lines, lock)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # type: ignore[type-var]
            yield lines
    finally:
        out.finish()
        err.finish()


class Heartbeat:
    """While a job runs, a daemon thread POSTs its heartbeat every `every` seconds; an answer
    {"cancel": true} cancels the job's group. Spark cancels only the jobs of the group that
    are running at that moment, and a training runs many in a row, so once asked the cancel
    is repeated at every later beat until the job ends. Errors: the next beat tries again."""

    def __init__(self, spark: SparkSession, api: Gateway, job: Job, every: float) -> None:
        self._spark = spark
        self._api = api
        self._job = job
        self._every = every
        self._path = f"/jobs/{quote(job.id, safe='')}/heartbeat"
        self._ended = threading.Event()
        # held to cancel and to end: no cancel lands once stop() returns, when the next
        # attempt of the same job (the same group) may already run
        self._lock = threading.Lock()
        self.cancelled = False
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> bool:
        """Ends the beats; True when the job was cancelled."""
        with self._lock:
            self._ended.set()
        # a beat in flight finishes before the done report, which the gateway expects last
        self._thread.join(HEARTBEAT_TIMEOUT_SECONDS)
        return self.cancelled

    def _run(self) -> None:
        while not self._ended.wait(self._every):
            self._cancel(asked=self._beat())

    def _beat(self) -> bool:
        """One heartbeat; True when the gateway asks for a cancel."""
        try:
            body = {"attempt": self._job.attempt, "memory": memory(self._spark)}
            status, answer = self._api.post(self._path, body, HEARTBEAT_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - a missed beat is no reason to stop the job
            return False
        return status == 200 and answer is not None and answer.get("cancel") is True

    def _cancel(self, asked: bool) -> None:
        with self._lock:
            if self._ended.is_set() or not (asked or self.cancelled):
                return
            self.cancelled = True
            with contextlib.suppress(Exception):  # the next beat cancels again
                self._spark.sparkContext.cancelJobGroup(self._job.id)


def clear_job_group(sc: SparkContext) -> None:
    """The engine's own Spark work (the next poll's) belongs to no job."""
    for key in JOB_GROUP_PROPERTIES:
        sc.setLocalProperty(key, None)  # type: ignore[arg-type] - null removes the property


def execute(spark: SparkSession, job: Job) -> tuple[str, str | None]:
    """Runs the job as train.py or score.py would: (outcome, error or None)."""
    work = WORK.get(job.kind)
    if work is None:
        message = f"unknown job kind {job.kind!r}: one of {', '.join(WORK)}"
        report(message)
        return "failed", message
    try:
        code = run_with(spark, job.spec, work)
    except Exception as error:  # noqa: BLE001 - the engine outlives a failing job
        return "failed", explain(error)  # run_with reported it and wrote error.json
    return ("succeeded", None) if code == 0 else ("failed", None)


def last_error(lines: deque[str]) -> str | None:
    """The reason of the last SPARKGATE_ERROR line (a SpecError's, from run_with)."""
    for line in reversed(lines):
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX) :]
    return None


def run_job(spark: SparkSession, api: Gateway, job: Job, heartbeat_seconds: float) -> Ended:
    """One job, in its job group, with its heartbeat and its output kept; never raises for
    the job's own failures."""
    say(sys.stdout, f"{job} started")
    started = time.monotonic()
    sc = spark.sparkContext
    # the group: what a cancel cancels, and the job the Spark UI shows the stages under;
    # cross-validation's threads inherit it (inheritable_thread_target)
    sc.setJobGroup(job.id, f"sparkgate job {job.id}", interruptOnCancel=True)
    heartbeat = Heartbeat(spark, api, job, heartbeat_seconds)
    heartbeat.start()
    lines: deque[str] = deque()
    try:
        with captured() as lines:
            outcome, error = execute(spark, job)
    finally:
        cancelled = heartbeat.stop()
        clear_job_group(sc)
    if cancelled:  # whatever the job did after the cancel, the gateway asked for it
        outcome, error = "cancelled", None
    elif outcome == "failed" and error is None:
        error = last_error(lines)
    forget(spark)
    say(sys.stdout, f"{job} ended: {outcome} in {time.monotonic() - started:.1f}s")
    return Ended(outcome, error, list(lines))


def forget(spark: SparkSession) -> None:
    """Drops what the job cached: the next job, maybe another tenant's model, gets the
    memory. A failure is one line: the next poll finds out whether Spark still works."""
    try:
        spark.catalog.clearCache()
    except Exception as error:  # noqa: BLE001
        say(sys.stderr, f"could not clear the cache: {explain(error)}")


def report_done(api: Gateway, job: Job, ended: Ended, backoff: Backoff) -> bool:
    """POSTs the job's end until the gateway settles it (accepted, 409 or another 4xx);
    False when it did not answer for give_up seconds in a row."""
    body: dict[str, Any] = {"attempt": job.attempt, "outcome": ended.outcome, "log": ended.log}
    if ended.error:
        body["error"] = ended.error
    while True:
        try:
            status, _ = api.post(f"/jobs/{quote(job.id, safe='')}/done", body, DONE_TIMEOUT_SECONDS)
        except Unanswered as error:
            if backoff.wait():
                continue
            report(f"the gateway did not take the report of {job} ({error}); giving up")
            return False
        if 200 <= status < 300:
            return True
        if status == 409:
            say(sys.stderr, f"{job}: the gateway no longer counts this attempt as this engine's")
        else:
            say(sys.stderr, f"{job}: the gateway refused its report (HTTP {status}); dropped")
        return True


def poll_body(spark: SparkSession, served: int) -> dict[str, Any]:
    return {
        "appId": spark.sparkContext.applicationId,
        "memory": memory(spark),
        "jobsServed": served,
    }


def serve(
    spark: SparkSession,
    gateway: str,
    engine_id: str,
    token: str,
    *,
    poll_seconds: int = 20,
    heartbeat_seconds: float = 2.0,
    give_up_seconds: float = 600,
    sleep: Callable[[float], Any] = time.sleep,
) -> int:
    """Polls for jobs and runs them until the gateway says stop (0), revokes the engine (0)
    or does not answer for give_up_seconds (1). The session is the caller's: never stopped."""
    api = Gateway(gateway, engine_id, token)
    backoff = Backoff(give_up_seconds, sleep)
    served = 0
    path = f"/poll?wait={poll_seconds}"
    say(sys.stdout, f"engine {engine_id} ({spark.sparkContext.applicationId}) serving")
    while True:
        try:
            status, answer = api.post(
                path, poll_body(spark, served), poll_seconds + POLL_SLACK_SECONDS
            )
            if status in REVOKED:
                say(
                    sys.stderr, f"the gateway answered {status}: engine revoked or deleted; exiting"
                )
                return 0
            if status == 204:
                backoff.reset()
                continue
            if status != 200 or answer is None:
                raise Unanswered(f"poll answered HTTP {status} without a job or stop")
            if answer.get("stop") is True:
                say(sys.stdout, f"stop asked by the gateway after {served} job(s)")
                return 0
            job = job_of(answer.get("job"))
        except Unanswered as error:
            if backoff.wait():
                continue
            report(f"the gateway did not answer the engine's poll for {give_up_seconds}s ({error})")
            return 1
        backoff.reset()
        ended = run_job(spark, api, job, heartbeat_seconds)
        served += 1
        if not report_done(api, job, ended, Backoff(give_up_seconds, sleep)):
            return 1


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        report(USAGE)
        return 2
    _, gateway, engine_id, token_uri = argv
    spark = SparkSession.builder.appName(f"sparkgate-engine-{engine_id}").getOrCreate()
    try:
        token = read_text(spark, token_uri).strip()
        if not token:
            report(f"the token file {token_uri} is empty")
            return 2
        seconds = warm_up(spark, token_uri.rsplit("/", 1)[0])
        say(sys.stdout, f"warmed up in {seconds:.1f}s")
        return serve(spark, gateway, engine_id, token)
    finally:
        spark.stop()

"""A warm engine (engine.py) against a scripted gateway: a real HTTP server in a thread on
127.0.0.1, the shared local Spark session, jobs staged as the gateway stages them (a run's
folder with its spec.json, file: URIs)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pyspark.util import inheritable_thread_target

from sparkgate_jobs import engine, runner, training

from .test_train import JOBS, binary_rows, write_csv
from .test_train import spec as train_spec

TOKEN = "tok-3c9f1e7a-never-printed"
ENGINE = "eng-1"
PREFIX = f"/engine/v1/engines/{ENGINE}"
HEADER = ["x1", "x2", "color", "label"]
Answer = tuple[int, Any]


class FakeGateway:
    """The gateway's engine API, scripted: polls answer from `polls` (then stop), done reports
    from `dones` (then 204), heartbeats from `heartbeat`; every request is kept."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.polls: deque[Answer] = deque()
        self.dones: deque[Answer] = deque()
        self.heartbeat: Callable[[dict[str, Any]], Answer] = lambda _request: (200, {})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_of(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"  # a trailing slash

    def answer(self, request: dict[str, Any]) -> Answer:
        self.requests.append(request)
        if request["kind"] == "poll":
            return self.polls.popleft() if self.polls else (200, {"stop": True})
        if request["kind"] == "done":
            return self.dones.popleft() if self.dones else (204, None)
        if request["kind"] == "heartbeat":
            return self.heartbeat(request)
        return 400, {"error": "no such path"}

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["kind"] == kind]


def handler_of(gateway: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rest = url.path[len(PREFIX) :] if url.path.startswith(PREFIX + "/") else ""
            parts = rest.split("/")[1:]  # ["poll"] or ["jobs", <id>, "heartbeat" | "done"]
            on_job = len(parts) == 3 and parts[0] == "jobs"
            request = {
                "kind": "poll" if parts == ["poll"] else parts[2] if on_job else "?",
                "job": parts[1] if on_job else None,
                "path": url.path,
                "query": parse_qs(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": json.loads(raw),
            }
            status, body = gateway.answer(request)
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def gateway():
    fake = FakeGateway()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


class Sleeps(list):
    """A `sleep` that only notes how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def serve(spark, gateway: FakeGateway, sleeps: Sleeps | None = None, **options) -> int:
    options = {"poll_seconds": 1, "heartbeat_seconds": 0.1, "give_up_seconds": 60, **options}
    return engine.serve(
        spark, gateway.url, ENGINE, TOKEN, sleep=Sleeps() if sleeps is None else sleeps, **options
    )


def stage(root: Path, job_id: str, spec: dict | None = None) -> str:
    """The run's folder with its spec.json, as the gateway stages it (a training's output is
    the run's folder, where metrics.json and error.json go); spec.json's URI."""
    folder = root / "runs" / job_id
    folder.mkdir(parents=True)
    spec = {"jobId": job_id, "output": folder.as_uri(), **(spec or {})}
    (folder / "spec.json").write_text(json.dumps(spec))
    return (folder / "spec.json").as_uri()


def job(job_id: str, spec_uri: str, kind: str = "training", attempt: int = 1) -> Answer:
    return 200, {"job": {"id": job_id, "attempt": attempt, "kind": kind, "spec": spec_uri}}


def done_bodies(gateway: FakeGateway) -> dict[str, dict[str, Any]]:
    return {r["job"]: r["body"] for r in gateway.of("done")}


def result_line(log: list[str]) -> dict[str, Any]:
    """The job's one JSON line (run_with's), among the log's lines."""
    return json.loads(next(line for line in log if line.startswith("{")))


def a_training(tmp_path: Path, rows: int = 200, **kw) -> dict[str, Any]:
    """test_train's logistic regression on tmp_path/train.csv (written by the first call),
    without its output: stage() puts it in the run's folder."""
    data = tmp_path / "train.csv"
    uri = data.as_uri() if data.exists() else write_csv(data, HEADER, binary_rows(rows))
    spec = train_spec(tmp_path, uri, label="label", algorithm="logistic_regression")
    del spec["output"]
    return {**spec, **kw}


def test_a_training_job_then_stop(spark, tmp_path, gateway, capfd):
    """The job's files and numbers are those of train.py's run of the same spec; the token is
    on every request and in no output."""
    spec = a_training(tmp_path, 300)
    gateway.polls.append(job("job-1", stage(tmp_path / "engine", "job-1", spec)))
    sleeps = Sleeps()
    assert serve(spark, gateway, sleeps) == 0
    assert sleeps == []

    done = gateway.of("done")
    assert [r["path"] for r in done] == [f"{PREFIX}/jobs/job-1/done"]
    body = done[0]["body"]
    assert (body["attempt"], body["outcome"]) == (1, "succeeded") and "error" not in body
    metrics = json.loads((tmp_path / "engine" / "runs" / "job-1" / "metrics.json").read_text())
    assert result_line(body["log"]) == {"metrics": metrics["metrics"], "rows": metrics["rows"]}
    assert (tmp_path / "engine" / "runs" / "job-1" / "model" / "metadata").is_dir()
    assert not (tmp_path / "engine" / "runs" / "job-1" / "error.json").exists()

    direct_uri = stage(tmp_path / "direct", "job-1", spec)
    assert runner.run_with(spark, direct_uri, training.train) == 0
    direct = json.loads((tmp_path / "direct" / "runs" / "job-1" / "metrics.json").read_text())
    for key in ("metrics", "rows", "coefficients", "confusionMatrix", "curves"):
        assert metrics[key] == direct[key], key

    polls = gateway.of("poll")
    assert [p["body"]["jobsServed"] for p in polls] == [0, 1]
    for poll in polls:
        assert poll["path"] == f"{PREFIX}/poll" and poll["query"] == {"wait": ["1"]}
        assert poll["body"]["appId"] == spark.sparkContext.applicationId
        used, most = poll["body"]["memory"]["usedBytes"], poll["body"]["memory"]["maxBytes"]
        assert 0 < used <= most
    beats = gateway.of("heartbeat")
    assert beats, "a training runs longer than a beat (0.1 s)"
    assert all(b["path"] == f"{PREFIX}/jobs/job-1/heartbeat" for b in beats)
    assert all(b["body"]["attempt"] == 1 and b["body"]["memory"]["maxBytes"] > 0 for b in beats)
    last_beat = max(i for i, r in enumerate(gateway.requests) if r["kind"] == "heartbeat")
    assert last_beat < gateway.requests.index(done[0]), "no beat after the done report"

    for request in gateway.requests:
        assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
        assert request["headers"]["content-type"] == "application/json"
        assert TOKEN not in json.dumps(request["body"])
    out, err = capfd.readouterr()
    assert TOKEN not in out and TOKEN not in err
    assert "sparkgate-engine: job job-1 attempt 1 (training) started\n" in out
    ended = r"sparkgate-engine: job job-1 attempt 1 \(training\) ended: succeeded in \d+\.\ds\n"
    assert re.search(ended, out)
    assert body["log"][0] in out, "the job's output still reaches the driver's"
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None


def test_failing_jobs_leave_the_engine_serving(spark, tmp_path, gateway):
    """A bad spec (SpecError), a spec that is not there (Spark's error), a kind the engine
    does not know: each fails alone; a training and a scoring of its model then succeed."""
    root = tmp_path / "engine"
    model = (root / "runs" / "train" / "model").as_uri()
    scoring = {
        "input": {"uri": (tmp_path / "train.csv").as_uri(), "format": "csv"},
        "model": {"uri": model, "name": "m", "version": 1},
        "output": {"uri": (root / "runs" / "score").as_uri(), "format": "parquet"},
    }
    gateway.polls.extend(
        [
            job("bad", stage(root, "bad", a_training(tmp_path, label="nope"))),
            job("gone", (root / "runs" / "gone" / "spec.json").as_uri()),
            job("odd", stage(root, "odd"), kind="sql"),
            job("train", stage(root, "train", a_training(tmp_path))),
            job("score", stage(root, "score", scoring), kind="scoring"),
        ]
    )
    assert serve(spark, gateway) == 0
    done = done_bodies(gateway)
    assert {name: body["outcome"] for name, body in done.items()} == {
        "bad": "failed",
        "gone": "failed",
        "odd": "failed",
        "train": "succeeded",
        "score": "succeeded",
    }
    reason = "label column 'nope' not found; columns: x1, x2, color, label"
    assert done["bad"]["error"] == reason
    assert f"SPARKGATE_ERROR: {reason}" in done["bad"]["log"]
    assert json.loads((root / "runs" / "bad" / "error.json").read_text())["message"] == reason
    gone = json.loads((root / "runs" / "gone" / "error.json").read_text())["message"]
    assert done["gone"]["error"] == gone and "gone/spec.json" in gone
    assert done["odd"]["error"] == "unknown job kind 'sql': one of training, scoring"
    assert result_line(done["score"]["log"]) == {"rows": {"scored": 200, "withoutPrediction": 0}}
    assert [p["body"]["jobsServed"] for p in gateway.of("poll")] == [0, 1, 2, 3, 4, 5]


def test_nothing_to_do_then_a_job_then_stop(spark, tmp_path, gateway):
    uri = stage(tmp_path, "j", {"algorithm": "nope"})
    gateway.polls.extend([(204, None), (204, None), job("j", uri)])
    sleeps = Sleeps()
    assert serve(spark, gateway, sleeps) == 0
    assert [p["body"]["jobsServed"] for p in gateway.of("poll")] == [0, 0, 0, 1]
    assert sleeps == [], "a 204 is an answer: poll again at once"
    assert done_bodies(gateway)["j"]["error"].startswith("unknown algorithm 'nope'")


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_revoked_engine_exits_0(spark, gateway, capsys, status):
    gateway.polls.append((status, {"error": "revoked"}))
    assert serve(spark, gateway) == 0
    assert len(gateway.requests) == 1
    err = capsys.readouterr().err
    assert f"sparkgate-engine: the gateway answered {status}: engine revoked or deleted" in err


def test_no_answer_to_a_poll_is_tried_again_later(spark, gateway):
    """5xx and answers that are no answer wait 1 s, 2 s, 4 s…; an answer starts again at 1 s."""
    gateway.polls.extend(
        [
            (503, None),
            (200, {}),
            (200, {"job": {"kind": "training"}}),
            (204, None),
            (502, {"error": "bad gateway"}),
            (429, None),
        ]
    )
    sleeps = Sleeps()
    assert serve(spark, gateway, sleeps) == 0
    assert sleeps == [1, 2, 4, 1, 2]
    assert len(gateway.of("poll")) == 7 and not gateway.of("done")


@pytest.mark.parametrize(
    ("answers", "sleeps", "said"),
    [
        ([(409, None)], [], "no longer counts this attempt as this engine's"),
        ([(400, {"error": "?"})], [], "refused its report (HTTP 400); dropped"),
        ([(503, None), (500, None), (200, {})], [1, 2], ""),
    ],
)
def test_a_done_report_settles_then_polling_goes_on(
    spark, tmp_path, gateway, capsys, answers, sleeps, said
):
    gateway.polls.extend([job("j", stage(tmp_path, "j", {"algorithm": "nope"})), (204, None)])
    gateway.dones.extend(answers)
    waited = Sleeps()
    assert serve(spark, gateway, waited) == 0
    assert waited == sleeps
    assert len(gateway.of("done")) == len(answers)
    assert len(gateway.of("poll")) == 3, "polling goes on after the report"
    assert said in capsys.readouterr().err


def test_a_done_report_nobody_takes_ends_the_engine(spark, tmp_path, gateway, capsys):
    gateway.polls.append(job("j", stage(tmp_path, "j", {"algorithm": "nope"})))
    gateway.dones.extend([(503, None)] * 10)
    sleeps = Sleeps()
    assert serve(spark, gateway, sleeps, give_up_seconds=5) == 1
    assert sleeps == [1, 2, 4] and len(gateway.of("done")) == 4
    err = capsys.readouterr().err
    assert "SPARKGATE_ERROR: the gateway did not take the report of job j attempt 1" in err


def test_an_unreachable_gateway_ends_the_engine_after_give_up_seconds(spark, capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    code = engine.serve(
        spark, f"http://127.0.0.1:{port}", ENGINE, TOKEN, give_up_seconds=30, sleep=sleeps
    )
    assert code == 1
    assert sleeps == [1, 2, 4, 8, 10, 10]
    err = capsys.readouterr().err
    assert "SPARKGATE_ERROR: the gateway did not answer the engine's poll for 30s" in err
    assert TOKEN not in err


def test_a_cancel_stops_the_jobs_spark_work(spark, tmp_path, gateway, monkeypatch, capsys):
    """The gateway answers one heartbeat with cancel, before the job's Spark job starts (on
    another thread, as cross-validation's fits run): Spark cancels only running jobs, so it
    is the engine's repeats of the cancel that stop it. The next attempt of the same job, in
    the same job group, is not cancelled."""
    entered = threading.Event()
    cancels: list[dict[str, Any]] = []

    def heartbeat(request: dict[str, Any]) -> Answer:
        cancel = entered.is_set() and not cancels and request["body"]["attempt"] == 1
        if cancel:
            cancels.append(request)
        return 200, {"cancel": cancel}

    def endless(session, _spec):
        def count():
            entered.set()
            time.sleep(0.6)  # the one cancel comes now (beats every 0.2 s), before the job
            return session.range(0, 10**13, 1, 2).selectExpr("sum(id)").first()[0]  # hours

        with ThreadPool(1) as pool:
            return {"sum": pool.apply(inheritable_thread_target(count))}

    def quick(session, _spec):
        return {"n": session.range(5).count()}

    monkeypatch.setitem(engine.WORK, "endless", endless)
    monkeypatch.setitem(engine.WORK, "quick", quick)
    gateway.heartbeat = heartbeat
    uri = stage(tmp_path, "long")
    gateway.polls.extend([job("long", uri, "endless"), job("long", uri, "quick", attempt=2)])
    sc = spark.sparkContext
    watchdog = threading.Timer(120, sc.cancelAllJobs)  # a broken cancel fails, not hangs
    watchdog.start()
    started = time.monotonic()
    try:
        assert serve(spark, gateway, heartbeat_seconds=0.2) == 0
    finally:
        watchdog.cancel()
    assert time.monotonic() - started < 30
    assert len(cancels) == 1
    outcomes = [(r["body"]["attempt"], r["body"]["outcome"]) for r in gateway.of("done")]
    assert outcomes == [(1, "cancelled"), (2, "succeeded")]
    first, second = (r["body"] for r in gateway.of("done"))
    assert "error" not in first
    assert any("cancelled part of cancelled job group long" in line for line in first["log"])
    assert result_line(second["log"]) == {"n": 5}
    out = capsys.readouterr().out
    assert "sparkgate-engine: job long attempt 1 (endless) ended: cancelled in " in out
    deadline = time.monotonic() + 10
    while sc.statusTracker().getActiveStageIds() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sc.statusTracker().getActiveStageIds() == [], "the cancelled tasks were killed"


def test_the_tee_keeps_the_last_lines_cut(capsys):
    with engine.captured() as lines:
        for i in range(engine.LOG_LINES + 100):
            print(f"line {i}")
        sys.stderr.write("x" * 5000 + "\n")
        sys.stdout.write("no newline")
    assert len(lines) == engine.LOG_LINES
    assert lines[0] == "line 102" and lines[-2] == "x" * engine.LINE_CHARS
    assert lines[-1] == "no newline"
    out, err = capsys.readouterr()
    assert out.startswith("line 0\n") and out.endswith("no newline") and len(err) == 5001


def test_main_checks_its_arguments(capsys):
    assert engine.main(["engine.py", "http://gateway"]) == 2
    assert capsys.readouterr().err == f"SPARKGATE_ERROR: {engine.USAGE}\n"


def test_main_reads_the_token_file_and_serves(spark, tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}\n")
    served = []

    def fake_serve(*args, **kwargs):
        served.append((args, kwargs))
        return 7

    monkeypatch.setattr(engine, "serve", fake_serve)
    monkeypatch.setattr(spark, "stop", lambda: None)  # getOrCreate: the shared session
    argv = ["engine.py", "http://gateway:8080/", ENGINE, token_file.as_uri()]
    assert engine.main(argv) == 7
    assert served == [((spark, "http://gateway:8080/", ENGINE, TOKEN), {})]


def test_as_a_script_from_the_zip(tmp_path):
    """As the gateway ships it: engine.py alone in its folder, the package only in a zip."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shutil.copy(JOBS / "engine.py", bin_dir / "engine.py")
    package = tmp_path / "sparkgate_jobs.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for path in sorted((JOBS / "sparkgate_jobs").glob("*.py")):
            archive.write(path, f"sparkgate_jobs/{path.name}")
    usage = subprocess.run(
        [sys.executable, str(bin_dir / "engine.py"), "http://gateway"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=bin_dir,
        env={**os.environ, "PYTHONPATH": str(package)},
    )
    assert usage.returncode == 2
    assert usage.stderr == f"SPARKGATE_ERROR: {engine.USAGE}\n"


def test_warm_up_trains_in_the_engine_folder_and_leaves_nothing(
    spark, tmp_path: Path, monkeypatch
) -> None:
    from sparkgate_jobs import warm_up as module
    from sparkgate_jobs.engine import warm_up

    drawn: list[dict] = []

    def draw(which, data, caption, warnings):
        figures = real_draw(which, data, caption, warnings)
        drawn.append({"which": which, "figures": sorted(figures), "warnings": warnings})
        return figures

    real_draw = module.draw
    monkeypatch.setattr(module, "draw", draw)
    folder = tmp_path / "engine"
    folder.mkdir()
    seconds = warm_up(spark, folder.as_uri())
    assert seconds > 0
    assert list(folder.iterdir()) == [], "the warm-up model is removed"
    # the plots' library is loaded (and a figure drawn) before the first job
    assert drawn == [{"which": "training", "figures": ["confusion-matrix"], "warnings": []}]

"""How a job reports its end (runner.py): error.json in the run's folder on a bad spec and on
Spark's own errors, never on success, never from an earlier attempt; a store that refuses
the file hides nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sparkgate_jobs import runner, training
from sparkgate_jobs.errors import SpecError


def run_folder(tmp_path: Path, spec: dict | None = None) -> tuple[Path, str]:
    """A run's folder with its spec.json, as the gateway stages it; spec.json's URI."""
    folder = tmp_path / "runs" / "job-1"
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(json.dumps(spec or {"jobId": "job-1"}))
    return folder, (folder / "spec.json").as_uri()


def error_file(folder: Path) -> dict:
    return json.loads((folder / "error.json").read_text())


def test_a_spec_error_is_one_line_and_error_json(spark, tmp_path, capsys):
    folder, uri = run_folder(tmp_path)

    def work(_spark, _spec):
        raise SpecError("label 'y' has one class ('1'): nothing to classify")

    assert runner.run_with(spark, uri, work) == 2
    message = "label 'y' has one class ('1'): nothing to classify"
    assert capsys.readouterr().err == f"SPARKGATE_ERROR: {message}\n"
    assert error_file(folder) == {
        "code": "SPARK_JOB_ERROR",
        "message": message,
        "type": "SpecError",
    }


def test_a_spark_error_is_reported_and_raised(spark, tmp_path, capsys):
    folder, uri = run_folder(tmp_path)

    def work(session, _spec):
        return session.sql("SELECT nope FROM range(1)").collect()

    with pytest.raises(Exception) as raised:
        runner.run_with(spark, uri, work)
    kind = type(raised.value).__name__
    written = error_file(folder)
    assert written["code"] == "SPARK_JOB_ERROR"
    assert written["type"] == kind
    assert written["message"].startswith(f"{kind}: ") and "nope" in written["message"]
    assert "\n" not in written["message"], "the first line only, as on stderr"
    assert f"SPARKGATE_ERROR: {written['message']}\n" in capsys.readouterr().err


def test_success_leaves_no_error_file_and_clears_an_earlier_attempts(spark, tmp_path, capsys):
    folder, uri = run_folder(tmp_path)
    (folder / "error.json").write_text('{"code": "SPARK_JOB_ERROR", "message": "attempt 1"}')
    assert runner.run_with(spark, uri, lambda _s, spec: {"jobId": spec["jobId"]}) == 0
    assert not (folder / "error.json").exists(), "attempt 1's reason is not attempt 2's"
    assert json.loads(capsys.readouterr().out) == {"jobId": "job-1"}


def test_a_store_that_refuses_the_file_hides_nothing(spark, tmp_path, capsys, monkeypatch):
    _, uri = run_folder(tmp_path)

    def refuse(*_args):
        raise OSError("permission denied")

    monkeypatch.setattr(runner, "write_text", refuse)
    monkeypatch.setattr(runner, "remove", refuse)

    def bad_spec(_spark, _spec):
        raise SpecError("label 'target' not found")

    assert runner.run_with(spark, uri, bad_spec) == 2
    err = capsys.readouterr().err
    assert "SPARKGATE_ERROR: label 'target' not found\n" in err
    assert "could not write" in err and "could not remove" in err

    def crash(_spark, _spec):
        raise RuntimeError("executor lost")

    with pytest.raises(RuntimeError, match="executor lost"):
        runner.run_with(spark, uri, crash)
    assert "SPARKGATE_ERROR: RuntimeError: executor lost\n" in capsys.readouterr().err


def test_one_label_class_fails_naming_the_label_and_the_class(spark, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("x1,x2,label\n" + "".join(f"{i},{i % 7},1\n" for i in range(40)))
    spec = {
        "jobId": "job-1",
        "input": {"uri": data.as_uri(), "format": "csv"},
        "label": "label",
        "algorithm": "logistic_regression",
        "output": (tmp_path / "runs" / "job-1").as_uri(),
    }
    folder, uri = run_folder(tmp_path, spec)
    assert runner.run_with(spark, uri, training.train) == 2
    assert error_file(folder)["message"] == "label 'label' has one class ('1'): nothing to classify"
    assert not (folder / "metrics.json").exists()


def test_a_java_error_is_explained_by_the_java_exception(spark, tmp_path, capsys):
    folder, uri = run_folder(tmp_path)
    missing = tmp_path / "no-such-folder" / "data.csv"

    def work(session, _spec):
        # a JVM call that PySpark does not convert: a Py4JJavaError around a Java exception
        path = session._jvm.org.apache.hadoop.fs.Path(str(missing))
        fs = path.getFileSystem(session._jsc.hadoopConfiguration())
        return fs.open(path)

    with pytest.raises(Exception) as raised:
        runner.run_with(spark, uri, work)
    assert type(raised.value).__name__ == "Py4JJavaError"
    message = error_file(folder)["message"]
    assert message.startswith("java.io.FileNotFoundException: "), message
    assert str(missing) in message
    assert f"SPARKGATE_ERROR: {message}\n" in capsys.readouterr().err

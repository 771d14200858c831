"""line_stats on local Spark, with data written by the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from examples.line_stats import line_stats

JOBS = Path(__file__).resolve().parents[1]


def test_counts_lines_words_and_top_words(spark):
    lines = spark.createDataFrame(
        [("the cat sat",), ("The dog",), ("",), ("cat  the end",)], ["value"]
    )
    stats = line_stats(lines, top=2)
    assert stats["lines"] == 4
    assert stats["words"] == 8
    assert stats["top"] == [{"word": "the", "count": 3}, {"word": "cat", "count": 2}]


def test_runs_as_a_script_and_writes_one_json_file(tmp_path: Path):
    source = tmp_path / "in.txt"
    source.write_text("a b\nb c\nc c\n")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(JOBS / "examples" / "line_stats.py"), source.as_uri(), out.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    parts = [p for p in out.iterdir() if p.name.startswith("part-")]
    assert len(parts) == 1
    assert json.loads(parts[0].read_text()) == {
        "lines": 3,
        "words": 6,
        "top": [{"word": "c", "count": 3}, {"word": "b", "count": 2}, {"word": "a", "count": 1}],
    }


def test_usage_error_exits_2():
    done = subprocess.run(
        [sys.executable, str(JOBS / "examples" / "line_stats.py")], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "usage" in done.stderr

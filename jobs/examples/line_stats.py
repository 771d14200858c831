"""Counts the lines and words of a text file and writes the result as one JSON file.

Usage: line_stats.py <input uri> <output dir uri>

The output directory gets a single part file holding one JSON object:
{"lines": N, "words": N, "top": [{"word": w, "count": n}, ...]}. Used by the stack
tests (a real batch through Livy reading and writing HDFS) and as a minimal example of
a user-supplied PySpark file.
"""

from __future__ import annotations

import json
import sys

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def line_stats(lines: DataFrame, top: int = 3) -> dict:
    """Line count, word count and the most frequent words (ties broken by word)."""
    words = lines.select(F.explode(F.split(F.lower(F.col("value")), r"\s+")).alias("word")).where(
        F.col("word") != ""
    )
    counts = words.groupBy("word").count().orderBy(F.desc("count"), F.asc("word")).limit(top)
    return {
        "lines": lines.count(),
        "words": words.count(),
        "top": [{"word": r["word"], "count": r["count"]} for r in counts.collect()],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: line_stats.py <input uri> <output dir uri>", file=sys.stderr)
        return 2
    spark = SparkSession.builder.appName("sparkgate-line-stats").getOrCreate()
    try:
        stats = line_stats(spark.read.text(argv[1]))
        print(f"line_stats: {json.dumps(stats)}")
        spark.createDataFrame([(json.dumps(stats),)], ["value"]).coalesce(1).write.mode(
            "overwrite"
        ).text(argv[2])
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

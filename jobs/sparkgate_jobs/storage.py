"""Reading a job's input data, and small files (spec.json, metrics.json, error.json) through
Hadoop's FileSystem, so hdfs://, file:// and abfss:// URIs all work."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession

from sparkgate_jobs.errors import SpecError


def load(spark: SparkSession, source: dict[str, Any]) -> DataFrame:
    fmt = source.get("format", "csv")
    uri = source["uri"]
    if fmt == "csv":
        return (
            spark.read.option("header", str(source.get("header", True)).lower())
            .option("sep", source.get("separator", ","))
            .option("inferSchema", "true")
            .csv(uri)
        )
    if fmt == "parquet":
        return spark.read.parquet(uri)
    if fmt == "json":
        return spark.read.json(uri)
    if fmt == "libsvm":
        return spark.read.format("libsvm").load(uri)
    raise SpecError(f"format {fmt!r} cannot be trained on (csv, parquet, json, libsvm)")


def file_system(spark: SparkSession, uri: str):
    """Hadoop's FileSystem of a URI (hdfs://, file://, abfss://…) and the URI as its Path."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Writes one small file through Hadoop's FileSystem (hdfs://, file://, abfss://…)."""
    write_bytes(spark, uri, text.encode("utf-8"))


def write_bytes(spark: SparkSession, uri: str, data: bytes) -> None:
    """Writes one small file's bytes (a PNG) through Hadoop's FileSystem, replacing it."""
    fs, path = file_system(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(data))
    finally:
        stream.close()


def write_plots(spark: SparkSession, folder: str, figures: dict[str, tuple[str, bytes]]):
    """Each figure (plots.py: name → (title, PNG)) as `<folder>/<name>.png`; [{name, title}]
    sorted by name, what the run's result lists."""
    for name, (_, png) in figures.items():
        write_bytes(spark, f"{folder}/{name}.png", png)
    return [{"name": n, "title": figures[n][0]} for n in sorted(figures)]


def remove(spark: SparkSession, uri: str) -> bool:
    """Deletes one file, if it is there (True when it was)."""
    fs, path = file_system(spark, uri)
    return bool(fs.delete(path, False))


def read_text(spark: SparkSession, uri: str) -> str:
    return spark.read.text(uri, wholetext=True).first()[0]

"""Connections to the warehouse file, and the DuckDB resource settings every process shares.

DuckDB allows one writing process per file; every step opens, works, and closes,
and the job runs its steps one after another (in-process executor), so steps
never fight each other or dbt for the lock.

`engine` in segmentation.yaml bounds DuckDB's memory in each process (the pipeline's
connections here, and dbt's through the environment variables `profiles.yml` reads), so
a large join or window spills to disk instead of growing towards DuckDB's default of 80%
of the machine's RAM.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.settings import Settings

# Read by dbt_project/profiles.yml (dbt-duckdb `config_options`).
ENV_MEMORY_LIMIT = "SEGMENTATION_DUCKDB_MEMORY_LIMIT"
ENV_THREADS = "SEGMENTATION_DUCKDB_THREADS"
ENV_TEMP_DIRECTORY = "SEGMENTATION_DUCKDB_TEMP_DIRECTORY"
ENV_STORAGE_VERSION = "SEGMENTATION_DUCKDB_STORAGE_VERSION"
# dbt's own setting for its log file (dbt.log in each invocation's target folder). dbt's default,
# debug, writes every statement, connection and timing: 3,600 JSON lines (4.5 MB) per nightly build,
# 1.4-2.1 s of dbt's sampled time in a 100k night (BENCHMARKS.md, runs AV and AW). The pipeline asks
# for info (what ran, its result and timing, every warning and error) unless this variable is set.
ENV_DBT_LOG_LEVEL_FILE = "DBT_LOG_LEVEL_FILE"
DBT_LOG_LEVEL_FILE_DEFAULT = "info"


def duckdb_settings(settings: Settings) -> dict[str, str | int]:
    engine = settings.config.engine
    temp = engine.temp_directory or str(settings.warehouse.parent / "duckdb_tmp")
    values: dict[str, str | int] = {"memory_limit": engine.memory_limit, "temp_directory": temp}
    if engine.threads:
        values["threads"] = engine.threads
    return values


@contextmanager
def dbt_environment(settings: Settings, **extra: str) -> Iterator[None]:
    """Point dbt at this warehouse with the same limits, for the dbt processes started inside.

    dbt's log file is written at info level unless DBT_LOG_LEVEL_FILE says otherwise.

    dbt runs as a child process that reads profiles.yml; dagster-dbt gives it a copy of
    os.environ when it starts. The variables (and `extra` ones) are set for the block only, so
    nothing leaks into later runs of the same process.
    """
    values = duckdb_settings(settings)
    wanted = {
        "SEGMENTATION_WAREHOUSE": str(settings.warehouse),
        ENV_MEMORY_LIMIT: str(values["memory_limit"]),
        ENV_TEMP_DIRECTORY: str(values["temp_directory"]),
        ENV_THREADS: str(values.get("threads", os.cpu_count() or 1)),
        ENV_STORAGE_VERSION: settings.config.engine.storage_version,
        ENV_DBT_LOG_LEVEL_FILE: os.environ.get(ENV_DBT_LOG_LEVEL_FILE) or DBT_LOG_LEVEL_FILE_DEFAULT,
        **extra,
    }
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def connect(
    path: str, settings: Settings, read_only: bool = False, storage_version: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to any file of the pipeline, with the engine limits applied.

    `storage_version` is the format of the file if this connection creates it (DuckDB's
    storage_compatibility_version); a file that exists keeps its own format. None: DuckDB's default.
    """
    config = {k: str(v) for k, v in duckdb_settings(settings).items()}
    if storage_version:
        config["storage_compatibility_version"] = storage_version
    return duckdb.connect(path, read_only=read_only, config=config)


@contextmanager
def warehouse_connection(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    settings.ensure_dirs()
    con = connect(str(settings.warehouse), settings, read_only=read_only,
                  storage_version=settings.config.engine.storage_version)
    try:
        yield con
    finally:
        con.close()


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """CREATE OR REPLACE `table` with the rows of `frame`, handed to DuckDB as an Arrow table.

    DuckDB's pandas scan reads pandas' Arrow-backed string columns value by value (1M user ids and
    risk bands: 1.4 s); as Arrow they are read as they are (0.5 s). Same column types.
    """
    con.register("incoming_frame", pa.Table.from_pandas(frame, preserve_index=False))
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM incoming_frame")
    finally:
        con.unregister("incoming_frame")

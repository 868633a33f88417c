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

from segmentation_pipeline.settings import Settings

# Read by dbt_project/profiles.yml (dbt-duckdb `config_options`).
ENV_MEMORY_LIMIT = "SEGMENTATION_DUCKDB_MEMORY_LIMIT"
ENV_THREADS = "SEGMENTATION_DUCKDB_THREADS"
ENV_TEMP_DIRECTORY = "SEGMENTATION_DUCKDB_TEMP_DIRECTORY"


def duckdb_settings(settings: Settings) -> dict[str, str | int]:
    engine = settings.config.engine
    temp = engine.temp_directory or str(settings.warehouse.parent / "duckdb_tmp")
    values: dict[str, str | int] = {"memory_limit": engine.memory_limit, "temp_directory": temp}
    if engine.threads:
        values["threads"] = engine.threads
    return values


def export_dbt_environment(settings: Settings) -> None:
    """Point dbt (a child process reading profiles.yml) at this warehouse with the same limits."""
    values = duckdb_settings(settings)
    os.environ["SEGMENTATION_WAREHOUSE"] = str(settings.warehouse)
    os.environ[ENV_MEMORY_LIMIT] = str(values["memory_limit"])
    os.environ[ENV_TEMP_DIRECTORY] = str(values["temp_directory"])
    os.environ[ENV_THREADS] = str(values.get("threads", os.cpu_count() or 1))


def connect(path: str, settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to any file of the pipeline, with the engine limits applied."""
    return duckdb.connect(path, read_only=read_only, config={k: str(v) for k, v in duckdb_settings(settings).items()})


@contextmanager
def warehouse_connection(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    settings.ensure_dirs()
    con = connect(str(settings.warehouse), settings, read_only=read_only)
    try:
        yield con
    finally:
        con.close()

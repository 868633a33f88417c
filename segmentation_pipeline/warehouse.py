"""Connections to the warehouse file.

DuckDB allows one writing process per file; every step opens, works, and closes,
and the job runs its steps one after another (in-process executor), so steps
never fight each other or dbt for the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from segmentation_pipeline.settings import Settings


@contextmanager
def warehouse_connection(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.warehouse), read_only=read_only)
    try:
        yield con
    finally:
        con.close()

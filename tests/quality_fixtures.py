"""Corrupting a copy of the demo landing files, one problem at a time."""

from __future__ import annotations

from pathlib import Path

import duckdb


def rewrite_csv(path: Path, select_sql: str, delimiter: str = ",") -> None:
    """Replace `path` with `select_sql` evaluated over it (as text, with a row number `_n` from 1)."""
    tmp = path.with_suffix(".rewrite.csv")
    duckdb.sql(
        f"""
        COPY (
            WITH src AS (SELECT row_number() OVER () AS _n, * FROM read_csv('{path}', all_varchar = true))
            {select_sql}
        ) TO '{tmp}' (HEADER, DELIMITER '{delimiter}')
        """
    )
    tmp.replace(path)


def set_cell(path: Path, row: int, column: str, value: str | None) -> None:
    literal = "NULL" if value is None else "'" + value.replace("'", "''") + "'"
    rewrite_csv(path, f"SELECT * EXCLUDE (_n) REPLACE (CASE WHEN _n = {row} THEN {literal} ELSE {column} END AS {column}) FROM src")


def negative_amounts(path: Path, share: float) -> int:
    """Make every n-th order's amount negative; returns how many rows were changed."""
    every = round(1 / share)
    rewrite_csv(
        path,
        f"SELECT * EXCLUDE (_n) REPLACE (CASE WHEN _n % {every} = 0 THEN '-5.00' ELSE amount END AS amount) FROM src",
    )
    return duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', all_varchar = true) WHERE amount = '-5.00'").fetchone()[0]

"""Which landing files a table's GX suite has already passed: `raw._validated_files`.

A nightly run validates only the rows of landing files the suite has not passed yet (new or
reloaded files: a reloaded file has a new `loaded_at` in `raw._landing_files`), instead of
re-validating years of unchanged deliveries. A file is recorded only when its table's gate
passed, with a signature of the suite and of the settings it was run with; when either changes
(an edited expectation, `amount_ceiling`, `max_quarantine_share`, the accepted event types),
every file is validated again. The quarantine share that the gate also checks is always counted
over the whole table. `quality.validate_new_files_only: false` validates everything every run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb

from segmentation_pipeline.ingest.manifest import MANIFEST

LEDGER = "raw._validated_files"
# The run's clock, not a property of the rows: a row that passed "not in the future" stays past.
VOLATILE_PARAMETERS = ("latest_allowed_timestamp",)


def suite_signature(suite_file: Path, parameters: dict[str, Any], mostly: float | None) -> str:
    stable = {k: v for k, v in parameters.items() if k not in VOLATILE_PARAMETERS}
    text = suite_file.read_text() + json.dumps({"parameters": stable, "mostly": mostly}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} (table_name VARCHAR, file VARCHAR, loaded_at TIMESTAMP, "
        "signature VARCHAR, validated_at TIMESTAMP)"
    )


def _ledger_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = '_validated_files'"
    ).fetchone()[0])


def files_to_validate(con: duckdb.DuckDBPyConnection, table: str, signature: str) -> list[str] | None:
    """The table's landing files the suite has not passed with this signature, or None when the
    manifest knows no file of the table (validate the whole table, as for an empty optional table)."""
    loaded = con.execute(f"SELECT file, loaded_at FROM {MANIFEST} WHERE table_name = ?", [table]).fetchall()
    if not loaded:
        return None
    if not _ledger_exists(con):
        return sorted(file for file, _ in loaded)
    passed = set(con.execute(
        f"SELECT file, loaded_at FROM {LEDGER} WHERE table_name = ? AND signature = ?", [table, signature]
    ).fetchall())
    return sorted(file for file, loaded_at in loaded if (file, loaded_at) not in passed)


def record_passed(con: duckdb.DuckDBPyConnection, table: str, files: list[str], signature: str) -> None:
    """Note that the suite passed on `files` (as loaded now); earlier entries of the table are replaced."""
    _ensure(con)
    con.execute(f"DELETE FROM {LEDGER} WHERE table_name = ? AND (signature <> ? OR list_contains(?, file))",
                [table, signature, files])
    con.execute(
        f"INSERT INTO {LEDGER} SELECT table_name, file, loaded_at, ?, now()::TIMESTAMP FROM {MANIFEST} "
        "WHERE table_name = ? AND list_contains(?, file)",
        [signature, table, files],
    )

"""Which landing files `raw.<table>` holds: `raw._landing_files`, one row per loaded file.

A nightly run reloads only what changed. A file is matched by its path relative to the data
folder, its size and its modification time; its rows stay in `raw.<table>` while all three are
the same. The table's load signature (its segmentation.yaml entry and the loader version) must
match too, else the whole table is reloaded. To force a full reload, delete the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from segmentation_pipeline.config import TableConfig

MANIFEST = "raw._landing_files"
# Bump when the shape of raw.<table> changes, so existing warehouses reload every table once.
LOADER_VERSION = 2


@dataclass(frozen=True)
class LandingFile:
    path: Path
    key: str  # path relative to the data folder: `_source_file` of its rows
    size: int
    modified_ns: int

    @classmethod
    def of(cls, path: Path, data_dir: Path) -> LandingFile:
        stat = path.stat()
        key = str(path.relative_to(data_dir)) if path.is_relative_to(data_dir) else str(path)
        return cls(path=path, key=key, size=stat.st_size, modified_ns=stat.st_mtime_ns)


def signature(table_cfg: TableConfig) -> str:
    text = json.dumps({"config": table_cfg.model_dump(mode="json"), "loader": LOADER_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_manifest(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MANIFEST} (table_name VARCHAR, file VARCHAR, size BIGINT, "
        "modified_ns BIGINT, rows BIGINT, columns VARCHAR[], signature VARCHAR, loaded_at TIMESTAMP)"
    )
    # The file's latest readable activity timestamp (orders, events), for the as-of date (as_of.py).
    # NULL in a warehouse from before this column: as_of.py then reads the file's rows instead.
    con.execute(f"ALTER TABLE {MANIFEST} ADD COLUMN IF NOT EXISTS latest_activity_at TIMESTAMP")


def loaded_files(con: duckdb.DuckDBPyConnection, table: str, table_signature: str) -> dict[str, tuple[int, int]] | None:
    """{file: (size, modified_ns)} held by raw.<table>, or None when the table must be rebuilt."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' AND table_name = ?", [table]
    ).fetchone()[0]
    if not exists:
        return None
    rows = con.execute(
        f"SELECT file, size, modified_ns, signature FROM {MANIFEST} WHERE table_name = ?", [table]
    ).fetchall()
    if not rows or any(sig != table_signature for *_, sig in rows):
        return None
    return {file: (size, modified) for file, size, modified, _ in rows}


def forget(con: duckdb.DuckDBPyConnection, table: str, files: list[str] | None = None) -> None:
    """Drop `files` (all when None) of `table` from the manifest."""
    if files is None:
        con.execute(f"DELETE FROM {MANIFEST} WHERE table_name = ?", [table])
    elif files:
        con.execute(f"DELETE FROM {MANIFEST} WHERE table_name = ? AND list_contains(?, file)", [table, files])


def record(
    con: duckdb.DuckDBPyConnection, table: str, file: LandingFile, rows: int, columns: list[str], table_signature: str,
    latest_activity_at: datetime | None = None,
) -> None:
    """Note that `file` (with `rows` rows and the contract `columns` it delivered) is in raw.<table>."""
    con.execute(
        f"INSERT INTO {MANIFEST} (table_name, file, size, modified_ns, rows, columns, signature, loaded_at, "
        "latest_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?)",
        [table, file.key, file.size, file.modified_ns, rows, columns, table_signature, latest_activity_at],
    )


def delivered_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Contract columns delivered by at least one file of raw.<table>."""
    rows = con.execute(f"SELECT DISTINCT unnest(columns) FROM {MANIFEST} WHERE table_name = ?", [table]).fetchall()
    return {r[0] for r in rows}

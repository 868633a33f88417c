"""Writing the landing tables (CSV or Parquet) with pyarrow, via a staging folder.

Everything is first written to `<out>/.demo_data_staging/`; only when all tables
are complete are stale files of these tables removed from `<out>` and the new
ones moved in (same file system, so each move is a rename).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("csv", "parquet")
SINGLE_FILE_TABLES = ("users", "orders", "order_items", "reviews")
EVENTS_DIR = "events"
STAGING = ".demo_data_staging"


class TableSink:
    """Streams blocks of one table into a single file."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt, self._writer, self.rows = path, fmt, None, 0

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            if self.fmt == "csv":
                self._writer = pacsv.CSVWriter(str(self.path), table.schema)
            else:
                self._writer = pq.ParquetWriter(str(self.path), table.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "csv":
        pacsv.write_csv(table, str(path))
    else:
        pq.write_table(table, str(path))


class LandingWriter:
    def __init__(self, out_dir: Path, fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
        self.out_dir, self.fmt = Path(out_dir), fmt
        self.staging = self.out_dir / STAGING
        shutil.rmtree(self.staging, ignore_errors=True)  # leftovers of a crashed run
        (self.staging / EVENTS_DIR).mkdir(parents=True)
        self.sinks = {t: TableSink(self.staging / f"{t}.{fmt}", fmt) for t in SINGLE_FILE_TABLES}
        self.event_parts: list[str] = []

    def write(self, name: str, table: pa.Table) -> None:
        self.sinks[name].write(table)

    def write_event_part(self, table: pa.Table) -> None:
        name = f"part-{len(self.event_parts):05d}.{self.fmt}"
        write_table(table, self.staging / EVENTS_DIR / name, self.fmt)
        self.event_parts.append(name)

    def commit(self) -> list[str]:
        """Close the files, drop stale outputs of these tables, move the new ones in."""
        for sink in self.sinks.values():
            sink.close()
        remove_stale(self.out_dir)
        (self.out_dir / EVENTS_DIR).mkdir(exist_ok=True)
        written = []
        for t in SINGLE_FILE_TABLES:
            os.replace(self.staging / f"{t}.{self.fmt}", self.out_dir / f"{t}.{self.fmt}")
            written.append(f"{t}.{self.fmt}")
        for part in self.event_parts:
            os.replace(self.staging / EVENTS_DIR / part, self.out_dir / EVENTS_DIR / part)
            written.append(f"{EVENTS_DIR}/{part}")
        shutil.rmtree(self.staging)
        return written

    def abort(self) -> None:
        for sink in self.sinks.values():
            try:
                sink.close()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
        shutil.rmtree(self.staging, ignore_errors=True)


def remove_stale(out_dir: Path) -> None:
    """Delete every file this generator may have written before, in any format."""
    for fmt in FORMATS:
        for t in SINGLE_FILE_TABLES:
            (out_dir / f"{t}.{fmt}").unlink(missing_ok=True)
        events = out_dir / EVENTS_DIR
        if events.is_dir():
            for part in events.glob(f"part-*.{fmt}"):
                part.unlink()


def write_truth(truth_dir: Path, table: pa.Table) -> Path:
    truth_dir.mkdir(parents=True, exist_ok=True)
    path = truth_dir / "user_personas.csv"
    tmp = truth_dir / ".user_personas.csv.tmp"
    pacsv.write_csv(table, str(tmp))
    os.replace(tmp, path)
    return path

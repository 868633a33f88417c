"""Activation exports: one file per segment under `<exports_dir>/<as_of_date>/`, from the published file.

Each file holds the published user id (a pseudonym when SEGMENTATION_ID_SECRET is set) and the columns a
campaign tool needs. The folder for a date is written beside the old one and swapped in, so a reader
never sees half a set; `manifest.json` lists the files with their row counts.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

EXPORT_COLUMNS = (
    "user_id, segment_id, segment_name, value_tier, array_to_string(tags, ';') AS tags, churn_probability, "
    "rfm_segment, lifecycle_stage, as_of_date"
)


@dataclass
class ExportSet:
    folder: Path
    files: dict[str, int]  # file name -> rows


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "segment"


def write_exports(published_db: Path, exports_dir: Path, file_format: str = "csv") -> ExportSet:
    with duckdb.connect(str(published_db), read_only=True) as con:
        as_of = con.execute("SELECT max(as_of_date) FROM segment_labels").fetchone()[0]
        segments = con.execute(
            "SELECT segment_id, any_value(segment_name), count(*) FROM segment_labels GROUP BY 1 ORDER BY 1"
        ).fetchall()
        folder = exports_dir / as_of.isoformat()
        staging = exports_dir / f".{folder.name}.{uuid.uuid4().hex}.tmp"
        staging.mkdir(parents=True)
        try:
            files = {}
            options = "FORMAT csv, HEADER" if file_format == "csv" else "FORMAT parquet"
            for segment_id, name, users in segments:
                file_name = f"segment_{segment_id}_{slug(name)}.{file_format}"
                con.execute(
                    f"COPY (SELECT {EXPORT_COLUMNS} FROM segment_labels WHERE segment_id = {int(segment_id)} "
                    f"ORDER BY user_id) TO '{staging / file_name}' ({options})"
                )
                files[file_name] = int(users)
            (staging / "manifest.json").write_text(json.dumps(
                {"as_of_date": as_of.isoformat(), "source": str(published_db), "files": files}, indent=2))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    old = exports_dir / f".{folder.name}.{uuid.uuid4().hex}.old"
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return ExportSet(folder, files)

"""Atomic publication of `segment_labels` to the readers' DuckDB file.

The new file is built beside the old one and renamed over it, so a reader with the
old file open keeps reading a consistent snapshot, and a failure at any point leaves
the previously published file exactly as it was.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from segmentation_pipeline.settings import Settings

PUBLISHED_COLUMNS = (
    "user_id",
    "segment_id",
    "segment_name",
    "rfm_segment",
    "r_score",
    "f_score",
    "m_score",
    "lifecycle_stage",
    "as_of_date",
    "model_version",
    "published_at",
)

SEGMENT_LABELS_SQL = """
CREATE TABLE segment_labels AS
SELECT
    rfm.user_id,
    seg.segment_id,
    seg.segment_name,
    rfm.rfm_segment,
    rfm.r_score,
    rfm.f_score,
    rfm.m_score,
    rfm.lifecycle_stage,
    rfm.as_of_date,
    seg.model_version,
    CAST(now() AS TIMESTAMP WITH TIME ZONE) AS published_at
FROM wh.marts.user_rfm_segments AS rfm
JOIN wh.ml.user_segments AS seg USING (user_id)
ORDER BY rfm.user_id
"""


@dataclass
class Publication:
    path: Path
    rows: int
    segments: list[tuple[str, int]]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_segment_labels(settings: Settings) -> Publication:
    target = settings.published_db
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        con = duckdb.connect(str(staging))
        try:
            con.execute(f"ATTACH '{settings.warehouse}' AS wh (READ_ONLY)")
            con.execute(SEGMENT_LABELS_SQL)
            columns = [r[0] for r in con.execute("DESCRIBE segment_labels").fetchall()]
            if tuple(columns) != PUBLISHED_COLUMNS:
                raise RuntimeError(f"segment_labels columns {columns} differ from the contract {PUBLISHED_COLUMNS}")
            rows = con.execute("SELECT count(*) FROM segment_labels").fetchone()[0]
            segments = con.execute(
                "SELECT segment_name, count(*) FROM segment_labels GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
            con.execute("DETACH wh")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _fsync(staging)
        os.replace(staging, target)
    finally:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return Publication(path=target, rows=rows, segments=segments)

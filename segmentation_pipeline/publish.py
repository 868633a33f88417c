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
import pandas as pd

from segmentation_pipeline.settings import Settings

PUBLISHED_COLUMNS = (
    "user_id",
    "segment_id",
    "segment_name",
    "segment_confidence",
    "value_tier",
    "tags",
    "churn_probability",
    "rfm_segment",
    "r_score",
    "f_score",
    "m_score",
    "lifecycle_stage",
    "as_of_date",
    "model_version",
    "churn_model_version",
    "published_at",
)

SEGMENT_LABELS_SQL = """
CREATE TABLE segment_labels AS
SELECT
    rfm.user_id,
    seg.segment_id,
    seg.segment_name,
    round(seg.segment_confidence, 4) AS segment_confidence,
    seg.value_tier,
    seg.tags,
    round(churn.churn_probability, 4) AS churn_probability,
    rfm.rfm_segment,
    rfm.r_score,
    rfm.f_score,
    rfm.m_score,
    rfm.lifecycle_stage,
    rfm.as_of_date,
    seg.model_version,
    churn.churn_model_version,
    CAST(now() AS TIMESTAMP WITH TIME ZONE) AS published_at
FROM wh.marts.user_rfm_segments AS rfm
JOIN wh.ml.user_segments AS seg USING (user_id)
LEFT JOIN wh.ml.churn_scores AS churn USING (user_id)
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


def discard(staged: Path) -> None:
    for leftover in (staged, staged.with_name(staged.name + ".wal")):
        leftover.unlink(missing_ok=True)


def build_publication(settings: Settings) -> Path:
    """Write the new published file beside the current one; nothing readers see changes yet."""
    target = settings.published_db
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with duckdb.connect(str(staged)) as con:
            con.execute(f"ATTACH '{settings.warehouse}' AS wh (READ_ONLY)")
            con.execute(SEGMENT_LABELS_SQL)
            con.execute("DETACH wh")
            con.execute("CHECKPOINT")
        _fsync(staged)
    except BaseException:
        discard(staged)
        raise
    return staged


def staged_frame(staged: Path) -> pd.DataFrame:
    with duckdb.connect(str(staged), read_only=True) as con:
        return con.execute("SELECT * FROM segment_labels").to_arrow_table().to_pandas()


def commit_publication(staged: Path, target: Path) -> Publication:
    """Atomically replace the published file with the staged one."""
    with duckdb.connect(str(staged), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM segment_labels").fetchone()[0]
        segments = con.execute(
            "SELECT segment_name, count(*) FROM segment_labels GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    os.replace(staged, target)
    return Publication(path=target, rows=rows, segments=segments)


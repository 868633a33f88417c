"""Atomic publication of the readers' DuckDB file (SEGMENTATION_PUBLISHED_DB).

The new file is built beside the old one and renamed over it, so a reader with the
old file open keeps reading a consistent snapshot, and a failure at any point leaves
the previously published file exactly as it was. `segment_labels` is written first so the
quality suite can check it before anything else is added. The new file starts as a copy of the
published one's history, so only the history slices that changed are written (published_history.py).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from segmentation_pipeline.analytics.migration import latest_migration_sql, moves_macro_sql
from segmentation_pipeline.analytics.protect import protect
from segmentation_pipeline.privacy import register_pseudonym_function
from segmentation_pipeline.published_history import (
    HistorySync, discard, has_table, start_from_previous, sync_history,
)
from segmentation_pipeline.quality.frames import table_frame
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import connect

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
    pseudonym(rfm.user_id) AS user_id,
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

# Published aggregate -> (warehouse table it needs, query on the attached warehouse `wh`).
AGGREGATE_SOURCES = {
    "segment_summary": ("history.segment_summary",
                        "SELECT * FROM wh.history.segment_summary ORDER BY as_of_date, segment_id"),
    "rfm_summary": ("history.rfm_summary", "SELECT * FROM wh.history.rfm_summary ORDER BY as_of_date, rfm_segment"),
    "segment_migration": ("history.segment_history", latest_migration_sql("wh.history.segment_history")),
    "segment_effects": ("history.segment_effects",
                        "SELECT * FROM wh.history.segment_effects ORDER BY as_of_date, next_as_of_date, segment_id"),
    "segment_associations": ("analytics.segment_associations",
                             "SELECT * FROM wh.analytics.segment_associations ORDER BY segment_id, lift DESC, "
                             "confidence DESC, antecedent, consequent"),
}


@dataclass
class Publication:
    path: Path
    rows: int
    segments: list[tuple[str, int]]
    tables: dict[str, int] = field(default_factory=dict)  # published table -> rows
    suppressed: dict[str, int] = field(default_factory=dict)  # aggregate -> rows suppressed
    history: HistorySync | None = None  # history slices written and carried over


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect(staged: Path, settings: Settings) -> duckdb.DuckDBPyConnection:
    con = connect(str(staged), settings)
    con.execute(f"ATTACH '{settings.warehouse}' AS wh (READ_ONLY)")
    register_pseudonym_function(con, settings.id_secret)
    return con


def build_publication(settings: Settings) -> Path:
    """Write `segment_labels` into a new file beside the published one; nothing readers see changes yet.

    The new file starts with the published history when that file can be reused (see published_history.py).
    """
    target = settings.published_db
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        start_from_previous(target, staged)
        with _connect(staged, settings) as con:
            con.execute(SEGMENT_LABELS_SQL)
            con.execute("DETACH wh")
            con.execute("CHECKPOINT")
    except BaseException:
        discard(staged)
        raise
    return staged


def staged_frame(staged: Path) -> pd.DataFrame:
    """The staged segment_labels, as its GX gate reads them (quality.frames.table_frame)."""
    with duckdb.connect(str(staged), read_only=True) as con:
        return table_frame(con, "segment_labels").data


def add_analytics(staged: Path, settings: Settings) -> tuple[dict[str, int], HistorySync]:
    """History, KPIs, migration, effects and rules into the staged file.

    Returns the rows suppressed per aggregate and the history slices written and carried over.
    """
    privacy = settings.config.privacy
    suppressed: dict[str, int] = {}
    try:
        with _connect(staged, settings) as con:
            history = sync_history(con)
            for table, (source, query) in AGGREGATE_SOURCES.items():
                if not has_table(con, "wh", *source.split(".")):
                    continue
                frame, suppressed[table] = protect(table, con.execute(query).to_arrow_table().to_pandas(), privacy)
                # The warehouse column types, whatever pandas made of them (e.g. ints with NULLs).
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM ({query}) LIMIT 0")
                con.register("protected", frame)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM protected")
                con.unregister("protected")
            con.execute(moves_macro_sql(privacy.min_group_size))
            con.execute("DETACH wh")
            con.execute("CHECKPOINT")
        _fsync(staged)
    except BaseException:
        discard(staged)
        raise
    return suppressed, history


def commit_publication(staged: Path, target: Path, suppressed: dict[str, int] | None = None,
                       history: HistorySync | None = None) -> Publication:
    """Atomically replace the published file with the staged one."""
    with duckdb.connect(str(staged), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM segment_labels").fetchone()[0]
        segments = con.execute(
            "SELECT segment_name, count(*) FROM segment_labels GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        tables = dict(con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE database_name = current_database() "
            "ORDER BY 1").fetchall())
    os.replace(staged, target)
    return Publication(path=target, rows=rows, segments=segments, tables=tables, suppressed=suppressed or {},
                       history=history)

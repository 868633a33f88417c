"""How publishing the history scales with the number of nights already published.

Builds a warehouse whose `history.segment_history` holds N nightly slices of U users (synthetic
rows, the real table layout), then times the publication's history step (published_history.py,
with the real pseudonym function) two ways:

- full: no earlier publication, every slice is written (what every night did before slices were
  carried over);
- night: one more night lands; the earlier publication is copied and only the new slice written.

    .venv/bin/python -m benchmarks.history_growth --users 1000000 --nights 1 4 16 64

Writes benchmarks/results/history_growth-<users>.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from segmentation_pipeline.analytics.history import HISTORY_COLUMNS, replace_slice
from segmentation_pipeline.privacy import register_pseudonym_function
from segmentation_pipeline.published_history import start_from_previous, sync_history

RESULTS = Path(__file__).parent / "results"
FIRST_NIGHT = date(2026, 1, 1)

SLICE_SQL = """
SELECT 'u' || lpad(i::VARCHAR, 8, '0') AS user_id, DATE '{day}' AS as_of_date,
       (hash(i, {n}) % 6)::INTEGER AS segment_id,
       'Segment ' || (hash(i, {n}) % 6) AS segment_name, 'Loyal' AS rfm_segment, 'active' AS lifecycle_stage,
       'mid' AS value_tier, round((hash(i, {n}) % 10000) / 10000, 4) AS churn_probability, 'v1' AS model_version
FROM range({users}) AS t(i)
"""


def _add_night(warehouse: Path, users: int, n: int) -> None:
    day = FIRST_NIGHT + timedelta(days=n)
    with duckdb.connect(str(warehouse)) as con:
        replace_slice(con, "history.segment_history", day, SLICE_SQL.format(day=day, n=n, users=users))


def _publish_history(warehouse: Path, target: Path) -> dict:
    staged = target.with_name(f".{target.name}.tmp")
    started = time.perf_counter()
    reused = start_from_previous(target, staged)
    with duckdb.connect(str(staged)) as con:
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        register_pseudonym_function(con, "benchmark-secret")
        sync = sync_history(con)
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
    staged.replace(target)
    return {"seconds": round(time.perf_counter() - started, 2), "reused_previous": reused,
            "dates_written": len(sync.written), "dates_carried": sync.carried,
            "file_mb": round(target.stat().st_size / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--nights", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warehouse, published = Path(tmp) / "warehouse.duckdb", Path(tmp) / "segments.duckdb"
        with duckdb.connect(str(warehouse)) as con:
            con.execute("CREATE SCHEMA history")
            con.execute(f"CREATE TABLE history.segment_history ({HISTORY_COLUMNS})")
        built = 0
        for nights in sorted(args.nights):
            while built < nights - 1:
                _add_night(warehouse, args.users, built)
                built += 1
            published.unlink(missing_ok=True)
            full = _publish_history(warehouse, published)  # N-1 nights, from scratch
            _add_night(warehouse, args.users, built)
            built += 1
            night = _publish_history(warehouse, published)  # night N on top of the N-1 published
            rewrite = Path(tmp) / "rewrite.duckdb"
            full_n = _publish_history(warehouse, rewrite)  # night N written from scratch, for comparison
            rewrite.unlink()
            rows.append({"nights": nights, "night_carry_over": night, "night_full_rewrite": full_n,
                         "previous_full": full})
            print(f"{nights:>4} nights: carry-over {night['seconds']:>6} s ({night['dates_written']} written, "
                  f"{night['dates_carried']} carried), full rewrite {full_n['seconds']:>6} s, "
                  f"file {night['file_mb']} MB (rewritten: {full_n['file_mb']} MB)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"history_growth-{args.users}.json"
    out.write_text(json.dumps({"users": args.users, "runs": rows}, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    main()

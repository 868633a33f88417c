"""Print what the last run published and how to query it: `python -m segmentation_pipeline.report`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

from segmentation_pipeline.settings import load_settings


def main() -> int:
    path = load_settings().published_db
    if not path.exists():
        print(f"No published file at {path}: run `make demo` (or the segmentation_job) first.", file=sys.stderr)
        return 1
    with duckdb.connect(str(path), read_only=True) as con:
        as_of, model, users = con.execute(
            "SELECT max(as_of_date), max(model_version), count(*) FROM segment_labels"
        ).fetchone()
        print(f"\nPublished {users} users to {path} (as of {as_of}, model {model}).\n")
        print("Segments:")
        for name, count, share in con.execute(
            "SELECT segment_name, count(*), round(100.0 * count(*) / sum(count(*)) OVER (), 1) "
            "FROM segment_labels GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall():
            print(f"  {name:<40} {count:>8}  {share:>5}%")
        print("\nRFM segments:")
        for name, count in con.execute(
            "SELECT rfm_segment, count(*) FROM segment_labels GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall():
            print(f"  {name:<40} {count:>8}")
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        dates = con.execute("SELECT count(DISTINCT as_of_date) FROM segment_history").fetchone()[0] \
            if "segment_history" in tables else 0
    print(f"\nTables: {', '.join(tables)} (history: {dates} as-of date(s); see README 'Querying the results').")
    exports = load_settings().exports_dir / str(as_of)
    if exports.exists():
        print(f"Exports (one file per segment): {exports}")
    print("\nQuery it (read-only, safe while a run is in progress):")
    cli = Path(sys.executable).with_name("duckdb")
    cli_name = os.path.relpath(cli) if cli.exists() else "duckdb"
    print(f'  {cli_name} {path} -readonly -c "select segment_name, count(*) from segment_labels group by 1"')
    print(f"  {os.path.relpath(sys.executable)} -c \"import duckdb; print(duckdb.connect('" + str(path) + "', read_only=True)"
          ".sql('select segment_name, count(*) from segment_labels group by 1'))\"")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

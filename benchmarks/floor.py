"""The floor: floor.sql (one DuckDB query over the landing files) in a fresh in-memory database.

Run by the harness as a child process:

    python benchmarks/floor.py --data data/bench/100k/landing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import probes  # the script's own folder is sys.path[0]

del sys.path[0]

import duckdb  # noqa: E402

TABLES = ("orders", "order_items", "events", "users", "reviews")
SQL = Path(__file__).with_name("floor.sql")


def files(data: Path, table: str) -> str:
    """A DuckDB list literal of the table's CSV files (`<table>.csv` or `<table>/*.csv`)."""
    single = data / f"{table}.csv"
    paths = [single] if single.exists() else sorted((data / table).glob("*.csv"))
    if not paths:
        raise SystemExit(f"floor: no CSV file for {table} in {data}")
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    args = p.parse_args(argv)
    sql = SQL.read_text()
    for table in TABLES:
        sql = sql.replace("{" + table + "}", files(args.data.resolve(), table))
    con = duckdb.connect()
    with probes.span("query") as info:
        con.execute(sql)
        info["users"] = con.execute("SELECT count(*) FROM user_aggregates").fetchone()[0]
    print(f"floor: {info['users']} users aggregated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

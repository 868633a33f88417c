"""Benchmark data: the demo shop at a given size (generated once, then reused), and the
one-new-day split for measuring a nightly run.

Layout under the bench folder (default data/bench/<size>/):
    shop-<as_of>-seed<seed>/landing/      what `python -m segmentation_pipeline.demo_data` wrote
    shop-<as_of>-seed<seed>/bench_data.json   row counts, sizes, generation time
    day-<day>-seed<seed>/base|day/        the shop generated as of <day>, split into history
                                          up to the day before (base) and <day> itself (day)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

SIZES = {"2k": 2_000, "20k": 20_000, "100k": 100_000, "1m": 1_000_000}
TABLES = ("users", "orders", "order_items", "events", "reviews")
TIMESTAMPS = {"users": "signup_at", "orders": "ordered_at", "events": "occurred_at", "reviews": "created_at"}


@dataclass
class Shop:
    landing: str
    users: int
    seed: int
    as_of: str
    rows: dict[str, int]
    sessions: int
    bytes: dict[str, int]
    generation_seconds: float
    generated_now: bool = False

    def per_user(self) -> dict[str, float]:
        per = {t: round(n / self.users, 2) for t, n in self.rows.items() if t != "users"}
        per["sessions"] = round(self.sessions / self.users, 2)
        return per


def users_for(size: str) -> int:
    key = size.lower()
    if key in SIZES:
        return SIZES[key]
    match = re.fullmatch(r"(\d+)([km]?)", key)
    if not match:
        raise ValueError(f"size {size!r}: use one of {', '.join(SIZES)} or a number such as 5000, 50k, 2m")
    return int(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]


def table_files(landing: Path, table: str) -> list[Path]:
    single = landing / f"{table}.csv"
    return [single] if single.exists() else sorted((landing / table).glob("*.csv"))


def _bytes(landing: Path) -> dict[str, int]:
    return {t: sum(f.stat().st_size for f in table_files(landing, t)) for t in TABLES}


def generate_shop(folder: Path, users: int, seed: int, as_of: date, source: Path, env: dict[str, str]) -> Shop:
    """The demo shop in `folder` (reused when it was already generated with these parameters)."""
    meta_path = folder / "bench_data.json"
    if meta_path.exists():
        shop = Shop(**json.loads(meta_path.read_text()))
        if (shop.users, shop.seed, shop.as_of) == (users, seed, as_of.isoformat()) and Path(shop.landing).is_dir():
            return shop
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    command = [
        os.environ.get("BENCH_PYTHON", "python"), "-m", "segmentation_pipeline.demo_data",
        "--users", str(users), "--seed", str(seed), "--as-of", as_of.isoformat(),
        "--out", str(folder / "landing"), "--truth", str(folder / "truth"),
    ]
    start = time.time()
    done = subprocess.run(command, cwd=source, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"demo data generation failed:\n{done.stdout}\n{done.stderr}")
    seconds = time.time() - start
    rows = {t: int(m.replace(",", "")) for t, m in re.findall(r"^\s+(\w+)\s+([\d,]+) rows", done.stdout, re.M)}
    sessions = re.search(r"([\d,]+) sessions", done.stdout)
    shop = Shop(
        landing=str(folder / "landing"), users=users, seed=seed, as_of=as_of.isoformat(),
        rows={t: rows.get(t, 0) for t in TABLES}, sessions=int(sessions.group(1).replace(",", "")) if sessions else 0,
        bytes=_bytes(folder / "landing"), generation_seconds=round(seconds, 2),
    )
    meta_path.write_text(json.dumps(asdict(shop), indent=2))
    shop.generated_now = True
    return shop


# --- one new day ---------------------------------------------------------------------------------

@dataclass
class DaySplit:
    base: Path  # history up to the end of the day before `day`: one folder per table
    day: Path  # the rows of `day`: <table>/day-<day>.csv
    day_rows: dict[str, int]
    base_rows: dict[str, int]


def _copy(con: duckdb.DuckDBPyConnection, source: Path, where: str, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = f"read_csv('{source}', header = true, all_varchar = true)"
    rows = con.execute(f"SELECT count(*) FROM {reader} WHERE {where}").fetchone()[0]
    if rows:  # no header-only files: the pipeline rejects empty files
        con.execute(f"COPY (SELECT * FROM {reader} WHERE {where}) TO '{target}' (HEADER, DELIMITER ',')")
    return rows


def split_day(landing: Path, day: date, folder: Path) -> DaySplit:
    """Split a shop generated as of `day` into history before `day` and the day's own rows.

    Every table becomes a folder (the landing contract allows `<table>/*.csv`), so the day can be
    delivered as one more file per table, as a nightly export would. order_items follow their order.
    """
    meta = folder / "split.json"
    base, day_dir = folder / "base", folder / "day"
    if meta.exists():
        saved = json.loads(meta.read_text())
        return DaySplit(base, day_dir, saved["day_rows"], saved["base_rows"])
    shutil.rmtree(folder, ignore_errors=True)
    cut = f"TIMESTAMP '{day.isoformat()}'"
    day_rows = dict.fromkeys(TABLES, 0)
    base_rows = dict.fromkeys(TABLES, 0)
    con = duckdb.connect()
    day_orders = folder / "day_orders.csv"
    for table in TABLES:
        for source in table_files(landing, table):
            if table == "order_items":
                in_day = f"order_id IN (SELECT order_id FROM read_csv('{day_orders}', header = true, all_varchar = true))"
            else:
                in_day = f"coalesce(try_cast({TIMESTAMPS[table]} AS TIMESTAMP) >= {cut}, false)"
            base_rows[table] += _copy(con, source, f"NOT ({in_day})", base / table / source.name)
            day_file = day_dir / table / f"{source.stem}-day-{day.isoformat()}.csv"
            day_rows[table] += _copy(con, source, in_day, day_file)
        if table == "orders":
            day_files = sorted((day_dir / "orders").glob("*.csv"))
            ids = f"SELECT order_id FROM read_csv({[str(f) for f in day_files]}, header = true, all_varchar = true)"
            con.execute(f"COPY ({ids if day_files else 'SELECT NULL::VARCHAR AS order_id LIMIT 0'}) TO '{day_orders}' (HEADER)")
    con.close()
    day_orders.unlink(missing_ok=True)
    meta.write_text(json.dumps({"day": day.isoformat(), "day_rows": day_rows, "base_rows": base_rows}, indent=2))
    return DaySplit(base, day_dir, day_rows, base_rows)


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of `source` into `target` (same file system: no copy)."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                dest.unlink()
            try:
                os.link(path, dest)
            except OSError:
                shutil.copy2(path, dest)


def day_before(day: date) -> date:
    return day - timedelta(days=1)

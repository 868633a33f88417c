"""Incremental row checks: a night that only adds landing files re-checks only the keys those
files touch (plus rows that were in the future), and every other change rebuilds in full; in
every case `staging.base_shop__<table>s_checked` equals what `dbt build --full-refresh` gives.

Real landing files, the pipeline's own `ingest_table`, real `dbt build` on a copy of the
project, real DuckDB. "Untouched" is observed with a mark: a value written into rows of the
checked table after a build survives an incremental build only on rows it did not re-check.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from test_dbt_user_features import DBT_PROJECT_DIR, run_dbt

from segmentation_pipeline.ingest.run import ingest_table
from segmentation_pipeline.settings import load_settings

TABLES = ("orders", "order_items", "events", "users", "reviews")
KEYS = {"orders": ["order_id"], "order_items": ["order_id", "product_id"], "events": ["event_id"],
        "users": ["user_id"], "reviews": ["review_id"]}
AS_OF = "2026-06-30"
MARK = "untouched-mark"

ORDERS = "order_id,user_id,ordered_at,amount,status\n"
ITEMS = "order_id,product_id,category,quantity,unit_price\n"
EVENTS = "event_id,user_id,event_type,occurred_at,session_id\n"

# The first night's delivery.
FIRST_NIGHT = {
    "orders/2026-06-01.csv": ORDERS + (
        "o1,u1,2026-05-01 10:00:00,10.0,completed\n"  # clean, key never delivered again: kept as is
        "o2,u1,2026-05-02 10:00:00,20.0,completed\n"  # clean, until o2 comes again with other values
        "o3,u2,2026-05-03 10:00:00,30.0,completed\n"  # clean, until it comes again unchanged
        ",u2,2026-05-04 10:00:00,5.0,completed\n"  # missing_id: one NULL key with the new file's
        "o5,u3,2026-05-05 10:00:00,-1,completed\n"  # negative_amount, kept as is
        "o6,u3,2999-01-01 00:00:00,6.0,completed\n"  # future_timestamp: re-checked every night
    ),
    "order_items/2026-06-01.csv": ITEMS + (
        "o1,p1,books,1,10.0\n"  # clean, kept as is
        "o2,p2,toys,2,10.0\n"  # clean, until (o2, p2) comes again with other values
        "o2,,toys,1,5.0\n"  # missing_id (product_id): key (o2, NULL), kept as is
        " o3 ,p3,books,1,3.0\n"  # key (o3, p3) once cleaned, delivered again without the spaces
    ),
    "events/2026-06-01.csv": EVENTS + (
        "e1,u1,page_view,2026-05-01 10:00:00,s1\n"  # clean, kept as is
        "e2,u1,add_to_cart,2026-05-01 10:01:00,s1\n"  # clean, until e2 comes again with other values
        "e3,u1,purchase,2026-05-01 10:02:00,s1\n"  # clean, until it comes again unchanged
        ",u1,page_view,2026-05-01 10:03:00,s1\n"  # missing_id
        "e5,u2,teleport,2026-05-02 10:00:00,s2\n"  # unknown_event_type, kept as is
        " e8 ,u3,page_view,2026-05-03 10:00:00,s4\n"  # e8 once cleaned, delivered again without the spaces
    ),
}
# The second night adds one file per table: a new clean row, a conflicting re-delivery of an
# old id, an exact duplicate of an old row, and a row without an id.
SECOND_NIGHT = {
    "orders/2026-06-02.csv": ORDERS + (
        "o7,u4,2026-06-02 10:00:00,70.0,completed\n"
        "o2,u1,2026-05-02 10:00:00,25.0,completed\n"
        "o3,u2,2026-05-03 10:00:00,30.0,completed\n"
        ",u5,2026-06-02 11:00:00,8.0,completed\n"
    ),
    "order_items/2026-06-02.csv": ITEMS + (
        "o7,p7,garden,1,70.0\n"
        "o2,p2,toys,3,10.0\n"
        "o9,,toys,1,5.0\n"  # missing_id: key (o9, NULL), not the same key as (o2, NULL)
        "o3,p3,books,1,3.0\n"
    ),
    "events/2026-06-02.csv": EVENTS + (
        "e6,u4,page_view,2026-06-02 10:00:00,s3\n"
        "e2,u1,add_to_cart,2026-05-01 10:01:30,s1\n"
        "e3,u1,purchase,2026-05-01 10:02:00,s1\n"
        ",u5,page_view,2026-06-02 10:05:00,s3\n"
        "e8,u3,page_view,2026-05-03 10:00:00,s4\n"
    ),
}


# --------------------------------------------------------------------------- helpers
class Shop:
    """Landing files, a warehouse loaded by the ingestion, and dbt runs on a copy of the project."""

    def __init__(self, root: Path, project_dir: Path):
        self.root, self.project_dir = root, project_dir
        self.landing = root / "landing"
        self.warehouse = root / "warehouse.duckdb"
        root.mkdir(parents=True, exist_ok=True)
        (root / "segmentation.yaml").write_text("")
        self.settings = load_settings({
            "SEGMENTATION_DATA_DIR": str(self.landing),
            "SEGMENTATION_WAREHOUSE": str(self.warehouse),
            "SEGMENTATION_CONFIG": str(root / "segmentation.yaml"),
        })

    def deliver(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            path = self.landing / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def ingest(self) -> None:
        for table in TABLES:
            ingest_table(self.settings, table)

    def build(self, *args: str, warehouse: Path | None = None, everything: bool = False, **variables) -> None:
        """`dbt build` of the row checks and what the tests compare (quarantine, counts), or of everything."""
        warehouse = warehouse or self.warehouse
        select = [] if everything else [
            "--select", "+path:models/staging/base", "path:models/quality", "--indirect-selection", "cautious"]
        vars_json = json.dumps({"as_of_date": AS_OF, **variables})
        result = run_dbt(self.project_dir, warehouse, self.root / "dbt", "build", "--vars", vars_json, *select, *args)
        assert result.returncode == 0, f"dbt build failed:\n{result.stdout}\n{result.stderr}"

    def full_rebuild(self, **variables) -> Path:
        """The same warehouse (raw data included), copied and built with --full-refresh."""
        copy = self.root / "full_refresh.duckdb"
        shutil.copy(self.warehouse, copy)
        assert not self.warehouse.with_name(self.warehouse.name + ".wal").exists()  # all in the copied file
        self.build("--full-refresh", warehouse=copy, **variables)
        return copy

    def query(self, sql: str, warehouse: Path | None = None) -> list[tuple]:
        with duckdb.connect(str(warehouse or self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def last_build(self, table: str) -> tuple[str, str | None]:
        return self.query(
            f"select last_build, full_rebuild_reason from staging._checked_tables "
            f"where model = 'base_shop__{table}_checked'"
        )[0]

    def mark(self, table: str, where: str) -> int:
        """Write MARK into raw_<first key column> (NULL on clean rows) of the clean rows `where`
        selects; returns how many. A full rebuild, or a re-check of the row, overwrites it."""
        with duckdb.connect(str(self.warehouse)) as con:
            return con.execute(
                f"update staging.base_shop__{table}_checked set raw_{KEYS[table][0]} = '{MARK}' "
                f"where is_clean and ({where})"
            ).fetchone()[0]

    def marked(self, table: str) -> list[tuple]:
        key = ", ".join(KEYS[table])
        return self.query(
            f"select {key}, _source_file, _source_row from staging.base_shop__{table}_checked "
            f"where raw_{KEYS[table][0]} = '{MARK}' order by all"
        )

    def unmark(self, table: str) -> None:
        """Put back the NULL that MARK replaced."""
        with duckdb.connect(str(self.warehouse)) as con:
            con.execute(
                f"update staging.base_shop__{table}_checked set raw_{KEYS[table][0]} = null "
                f"where raw_{KEYS[table][0]} = '{MARK}'"
            )


def differences(left: Path, right: Path, relation: str) -> list[tuple]:
    """Rows of `relation` (all columns, duplicates counted) in one warehouse but not the other."""
    with duckdb.connect(str(left), read_only=True) as con:
        con.execute(f"attach '{right}' as other (read_only)")
        return con.execute(
            f"(select 'only incremental' as side, * from (select * from {relation} except all "
            f"  select * from other.{relation})) "
            f"union all "
            f"(select 'only full rebuild', * from (select * from other.{relation} except all "
            f"  select * from {relation}))"
        ).fetchall()


def assert_same_as_full_rebuild(shop: Shop, **variables) -> None:
    full = shop.full_rebuild(**variables)
    relations = [f"staging.base_shop__{t}_checked" for t in TABLES]
    relations += [f"quarantine.quarantine_shop__{t}" for t in TABLES] + ["quarantine.dq_table_counts"]
    for relation in relations:
        assert differences(shop.warehouse, full, relation) == [], relation


# --------------------------------------------------------------------------- fixtures
def copy_project(target: Path) -> Path:
    shutil.copytree(DBT_PROJECT_DIR, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"))
    return target


def first_night(root: Path, project_dir: Path) -> Shop:
    """The first night's files, ingested and built in full."""
    shop = Shop(root, project_dir)
    shop.deliver(FIRST_NIGHT)
    shop.ingest()
    shop.build()
    assert all(shop.last_build(t) == ("full", "no record in staging._checked_tables (first build)") for t in TABLES)
    return shop


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("dbt_incremental") / "dbt_project")


@pytest.fixture
def shop(tmp_path, project_dir) -> Shop:
    return first_night(tmp_path, project_dir)


# --------------------------------------------------------------------------- tests
def test_a_new_file_rechecks_only_the_keys_it_delivers_and_matches_a_full_rebuild(shop):
    # Marked: clean rows with keys the second night does not deliver (o1, (o1, p1), e1) and
    # with keys it does deliver again.
    assert shop.mark("orders", "order_id in ('o1', 'o2', 'o3')") == 3
    assert shop.mark("order_items", "order_id in ('o1', 'o2') and product_id is not null") == 2
    assert shop.mark("events", "event_id in ('e1', 'e2', 'e3')") == 3

    shop.deliver(SECOND_NIGHT)
    shop.ingest()
    shop.build(everything=True)  # the nightly build: every model and data test passes on top

    assert all(shop.last_build(t) == ("incremental", None) for t in TABLES)
    # Rows of keys the new files do not deliver were not re-checked: their marks are still there.
    # The old rows of o2, o3, (o2, p2), e2, e3 were re-checked: marks gone, new verdicts below.
    assert shop.marked("orders") == [("o1", "orders/2026-06-01.csv", 1)]
    assert shop.marked("order_items") == [("o1", "p1", "order_items/2026-06-01.csv", 1)]
    assert shop.marked("events") == [("e1", "events/2026-06-01.csv", 1)]
    # A key delivered with spaces is the same key once cleaned: the old row was re-checked.
    respelled = shop.query(
        "select event_id, _source_file, quarantine_reason from staging.base_shop__events_checked "
        "where event_id = 'e8' order by all"
    )
    assert respelled == [
        ("e8", "events/2026-06-01.csv", "duplicate_id_conflict"), ("e8", "events/2026-06-02.csv", None),
    ]
    verdicts = shop.query(
        "select order_id, _source_file, _source_row, is_exact_duplicate, quarantine_reason "
        "from staging.base_shop__orders_checked where order_id is null or order_id in ('o2', 'o3', 'o7') order by all"
    )
    assert verdicts == [
        ("o2", "orders/2026-06-01.csv", 2, False, "duplicate_id_conflict"),  # superseded by the new file
        ("o2", "orders/2026-06-02.csv", 2, False, None),
        ("o3", "orders/2026-06-01.csv", 3, True, None),  # exact duplicate of the new file's o3
        ("o3", "orders/2026-06-02.csv", 3, False, None),
        ("o7", "orders/2026-06-02.csv", 1, False, None),
        (None, "orders/2026-06-01.csv", 4, False, "missing_id"),
        (None, "orders/2026-06-02.csv", 4, False, "missing_id"),
    ]
    files = shop.query(
        "select [f.file for f in files] from staging._checked_tables where model = 'base_shop__events_checked'"
    )
    assert files == [(["events/2026-06-01.csv", "events/2026-06-02.csv"],)]

    for table in ("orders", "order_items", "events"):
        shop.unmark(table)
    assert_same_as_full_rebuild(shop)


def test_a_withdrawn_or_changed_file_rebuilds_in_full(shop):
    shop.deliver(SECOND_NIGHT)
    shop.ingest()
    shop.build()
    assert shop.last_build("orders") == ("incremental", None)

    shop.mark("orders", "order_id = 'o1'")
    (shop.landing / "orders/2026-06-02.csv").unlink()  # withdrawn: its rows leave raw.orders
    shop.ingest()
    shop.build()
    assert shop.last_build("orders") == (
        "full", "file(s) withdrawn or reloaded since the last build: orders/2026-06-02.csv"
    )
    assert shop.last_build("events") == ("incremental", None)  # its files did not change
    assert shop.marked("orders") == []  # rebuilt: no row kept
    assert_same_as_full_rebuild(shop)

    shop.mark("events", "event_id = 'e1'")
    # The same name, new content: the ingestion reloads it (a new loaded_at).
    shop.deliver({"events/2026-06-02.csv": SECOND_NIGHT["events/2026-06-02.csv"] + "e7,u7,search,2026-06-02 12:00:00,s7\n"})
    shop.ingest()
    shop.build()
    assert shop.last_build("events") == (
        "full", "file(s) withdrawn or reloaded since the last build: events/2026-06-02.csv"
    )
    assert shop.last_build("orders") == ("incremental", None)
    assert shop.marked("events") == []
    assert_same_as_full_rebuild(shop)


def test_changed_rules_rebuild_the_tables_they_apply_to_in_full(tmp_path):
    project_dir = copy_project(tmp_path / "dbt_project")  # edited below
    shop = first_night(tmp_path / "shop", project_dir)
    rules_changed = ("full", "rules changed (model or macro SQL, vars, seeds or versions)")

    shop.mark("orders", "order_id = 'o1'")
    shop.build(amount_ceiling=15)  # o3 (30.0) is now above the ceiling; no new file
    assert shop.last_build("orders") == shop.last_build("order_items") == rules_changed
    assert shop.last_build("events") == ("incremental", None)  # no amount rule
    assert shop.marked("orders") == []
    assert shop.query("select quarantine_reason from staging.base_shop__orders_checked where order_id = 'o3'") == [
        ("amount_above_ceiling",)
    ]

    # A macro the models call through another one (dq_timestamp_rules -> dq_future_cutoff).
    macros = project_dir / "macros" / "data_quality.sql"
    macros.write_text(macros.read_text().replace("(timestamp '{{ run_started_at", "( timestamp '{{ run_started_at"))
    shop.build(amount_ceiling=15)
    assert shop.last_build("orders") == shop.last_build("events") == shop.last_build("users") == rules_changed
    assert shop.last_build("order_items") == ("incremental", None)  # no timestamp rule

    # The content of a seed: `teleport` becomes an accepted event type.
    seed = project_dir / "seeds" / "accepted_event_types.csv"
    seed.write_text(seed.read_text().rstrip("\n") + "\nteleport\n")
    shop.build(amount_ceiling=15)
    assert shop.last_build("events") == rules_changed
    assert shop.last_build("orders") == ("incremental", None)
    assert shop.query("select is_clean from staging.base_shop__events_checked where event_id = 'e5'") == [(True,)]
    assert_same_as_full_rebuild(shop, amount_ceiling=15)


def test_full_refresh_and_a_deleted_record_rebuild_in_full(shop):
    shop.mark("events", "event_id = 'e1'")
    shop.build("--full-refresh")
    assert shop.last_build("events") == ("full", "dbt --full-refresh") and shop.marked("events") == []

    shop.mark("events", "event_id = 'e1'")
    with duckdb.connect(str(shop.warehouse)) as con:  # the documented way to force it on the next run
        con.execute("delete from staging._checked_tables where model = 'base_shop__events_checked'")
    shop.build()
    assert shop.last_build("events") == ("full", "no record in staging._checked_tables (first build)")
    assert shop.marked("events") == []


def test_a_row_that_was_in_the_future_is_rechecked_when_its_time_has_come(tmp_path, project_dir):
    # The cut-off is the run's start (UTC) + 1 day. o8's second delivery is 45 s past the cut-off
    # of a run starting now: in the future at the first build, no longer at a build 45 s later.
    started = datetime.now(UTC).replace(tzinfo=None)
    soon = (started + timedelta(days=1, seconds=45)).strftime("%Y-%m-%d %H:%M:%S")
    shop = Shop(tmp_path, project_dir)
    shop.deliver({"orders/2026-06-01.csv": ORDERS + (
        "o1,u1,2026-05-01 10:00:00,10.0,completed\n"
        f"o8,u1,{soon},80.0,completed\n"
        "o8,u1,2026-05-01 10:00:00,85.0,completed\n"  # clean, last delivered: it wins today
    )})
    shop.deliver({"orders/2026-06-02.csv": ORDERS + f"o8,u1,{soon},90.0,completed\n"})
    shop.ingest()
    shop.build()
    reasons = "select _source_file, quarantine_reason from staging.base_shop__orders_checked where order_id = 'o8' order by all"
    assert shop.query(reasons) == [
        ("orders/2026-06-01.csv", "future_timestamp"),
        ("orders/2026-06-01.csv", None),
        ("orders/2026-06-02.csv", "future_timestamp"),
    ], "the first build started more than 45 s late: the row was not in the future"
    shop.mark("orders", "order_id = 'o1'")

    time.sleep(max(0.0, (started + timedelta(seconds=47) - datetime.now(UTC).replace(tzinfo=None)).total_seconds()))
    shop.build()  # no new file: only the time has moved on

    assert shop.last_build("orders") == ("incremental", None)
    assert shop.marked("orders") == [("o1", "orders/2026-06-01.csv", 1)]
    # The later delivery now passes and wins; the two earlier ones are superseded.
    assert shop.query(reasons) == [
        ("orders/2026-06-01.csv", "duplicate_id_conflict"),
        ("orders/2026-06-01.csv", "duplicate_id_conflict"),
        ("orders/2026-06-02.csv", None),
    ]
    shop.unmark("orders")
    assert_same_as_full_rebuild(shop)


def test_landing_files_named_with_surrounding_spaces_are_rechecked_by_their_raw_keys(tmp_path, project_dir):
    """The checked table keeps `_source_file` trimmed, so earlier rows cannot be found by their
    lineage when a file's name starts with a space: the build cleans every raw key instead."""
    shop = Shop(tmp_path, project_dir)
    (tmp_path / "segmentation.yaml").write_text("events: {path: ' spaced'}\n")
    shop.settings = load_settings({
        "SEGMENTATION_DATA_DIR": str(shop.landing), "SEGMENTATION_WAREHOUSE": str(shop.warehouse),
        "SEGMENTATION_CONFIG": str(tmp_path / "segmentation.yaml"),
    })
    spaced = lambda night: {name.replace("events/", " spaced/"): text for name, text in night.items()}  # noqa: E731
    shop.deliver(spaced(FIRST_NIGHT))
    shop.ingest()
    shop.build()
    shop.deliver(spaced(SECOND_NIGHT))
    shop.ingest()
    shop.build()
    assert shop.last_build("events") == ("incremental", None)
    assert shop.query("select count(*) from raw.events where _source_file like ' spaced/%'") == [(11,)]
    assert_same_as_full_rebuild(shop)

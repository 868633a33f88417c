"""Row-level data-quality rules in dbt: real DuckDB warehouse, real `dbt build`.

A hand-built raw fixture has one row per problem plus good rows; every bad row
must land in `quarantine.quarantine_shop__<table>s` with the right reason and
source file, good rows must reach staging, exact duplicates are dropped and
counted, conflicting re-deliveries keep the last version, and
`quarantine.dq_table_counts` / `dq_quarantine_reasons` must be exact.

As-of date 2024-03-31 (as_of_end 2024-04-01). Rows dated 2024-05/06 are after
the as-of but not in the future: not quarantined, not in staging. Rows dated
2999 are in the future: quarantined as future_timestamp.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from test_dbt_user_features import DBT_PROJECT_DIR, PII_COLUMNS, query_df, run_dbt

AS_OF = "2024-03-31"
TABLES = ("orders", "order_items", "events", "users", "reviews")

# --------------------------------------------------------------------------- data
# Each row ends with (_source_file, _source_row). The comment says what must happen.
RAW_TABLES: dict[str, tuple[str, list[tuple]]] = {
    "orders": (
        "order_id varchar, user_id varchar, ordered_at varchar, amount varchar, "
        "status varchar, items varchar, _source_file varchar, _source_row bigint",
        [
            ("o1", "u1", "2024-03-01 10:00:00", "10.0", "completed", "1", "orders_a.csv", 1),  # clean
            ("o2", "u1", "2024-03-02 10:00:00", "20.0", None, "1", "orders_a.csv", 2),  # clean, status -> completed
            ("o3", "u2", "2024-03-03 10:00:00", "30.0", "Paid", "1", "orders_a.csv", 3),  # exact dup of orders_b/1
            ("o4", "u2", "2024-03-04 10:00:00", "40.0", "completed", "1", "orders_a.csv", 4),  # conflict, superseded
            ("  ", "u2", "2024-03-05 10:00:00", "5.0", "completed", "1", "orders_a.csv", 5),  # missing_id
            ("o6", "", "2024-03-06 10:00:00", "6.0", "completed", "1", "orders_a.csv", 6),  # missing_user_id
            ("o7", "u3", None, "7.0", "completed", "1", "orders_a.csv", 7),  # missing_timestamp
            ("o8", "u3", "not a date", "8.0", "completed", "1", "orders_a.csv", 8),  # unparseable_timestamp
            ("o9", "u3", "2999-01-01 00:00:00", "9.0", "completed", "1", "orders_a.csv", 9),  # future_timestamp
            ("o10", "u3", "2024-06-01 10:00:00", "15.0", "completed", "1", "orders_a.csv", 10),  # after as-of: clean
            ("o11", "u3", "2024-03-11 10:00:00", "abc", "completed", "1", "orders_a.csv", 11),  # non_numeric_amount
            ("o12", "u3", "2024-03-12 10:00:00", "-5", "completed", "1", "orders_a.csv", 12),  # negative_amount
            ("o13", "u3", "2024-03-13 10:00:00", "100000.01", "completed", "1", "orders_a.csv", 13),  # above ceiling
            ("o14", "u3", "2024-03-14 10:00:00", "100000", "completed", "1", "orders_a.csv", 14),  # at ceiling: clean
            ("o15", "u3", "2024-03-15 10:00:00", "15.0", "pending", "1", "orders_a.csv", 15),  # unknown_status
            ("o16", None, "2024-03-16 10:00:00", "abc", "completed", "1", "orders_a.csv", 16),  # 2 rules: first wins
            ("o17", "u4", "2024-03-17 10:00:00", "17.0", "completed", "1", "orders_a.csv", 17),  # clean (later is bad)
            ("o18", "u4", None, "18.0", "completed", "1", "orders_a.csv", 18),  # exact dup of orders_b/4
            ("o3", "u2", "2024-03-03 10:00:00", "30.0", "Paid", "1", "orders_b.csv", 1),  # clean
            ("o4", "u2", "2024-03-04 10:00:00", "45.0", "completed", "1", "orders_b.csv", 2),  # clean, wins
            ("o17", "u4", "2024-03-17 10:00:00", "-1", "completed", "1", "orders_b.csv", 3),  # negative_amount
            ("o18", "u4", None, "18.0", "completed", "1", "orders_b.csv", 4),  # missing_timestamp
            ("o19", "u4", "2024-03-19 10:00:00", "NaN", "completed", "1", "orders_b.csv", 5),  # non_numeric_amount
        ],
    ),
    "order_items": (
        "order_id varchar, product_id varchar, category varchar, quantity varchar, "
        "unit_price varchar, _source_file varchar, _source_row bigint",
        [
            ("o1", "p1", "Books", "1", "10.0", "items_a.csv", 1),  # exact dup of items_b/1
            ("o2", "p2", "Toys", "2", "10.0", "items_a.csv", 2),  # conflict, superseded
            ("o1", None, "Books", "1", "5.0", "items_a.csv", 3),  # missing_id (product_id)
            ("", "p3", "Books", "1", "5.0", "items_a.csv", 4),  # missing_id (order_id)
            ("o2", "p4", "Toys", "two", "5.0", "items_a.csv", 5),  # non_numeric_quantity
            ("o2", "p5", "Toys", "1.5", "5.0", "items_a.csv", 6),  # non_numeric_quantity (fraction)
            ("o2", "p6", "Toys", "-1", "5.0", "items_a.csv", 7),  # negative_quantity
            ("o3", "p7", "Garden", "1", "n/a", "items_a.csv", 8),  # non_numeric_amount
            ("o3", "p8", "Garden", "1", "-3", "items_a.csv", 9),  # negative_amount
            ("o3", "p9", "Garden", "1", "250000", "items_a.csv", 10),  # amount_above_ceiling
            ("o3", "p10", "Garden", "x", "-3", "items_a.csv", 11),  # amount rules come before quantity rules
            ("o4", "p1", "Books", "", "", "items_a.csv", 12),  # clean, NULL quantity and price
            ("o1", "p1", "Books", "1", "10.0", "items_b.csv", 1),  # clean
            ("o2", "p2", "Toys", "3", "10.0", "items_b.csv", 2),  # clean, wins
        ],
    ),
    "events": (
        "event_id varchar, user_id varchar, event_type varchar, occurred_at varchar, "
        "session_id varchar, product_id varchar, category varchar, duration_seconds double, "
        "_source_file varchar, _source_row bigint",
        [
            ("e1", "u1", "PageView", "2024-03-01 10:00:00", "s1", "p1", "Books", 5.0, "ev_a.csv", 1),  # exact dup
            ("e2", "u1", "wishlist", "2024-03-01 10:01:00", "s1", "p1", "books", 2.0, "ev_a.csv", 2),  # clean
            ("e3", "u5", "Sign up", "2024-03-02 09:00:00", None, None, None, None, "ev_a.csv", 3),  # clean, signup
            ("e4", "u1", "teleport", "2024-03-03 09:00:00", "s2", None, None, 1.0, "ev_a.csv", 4),  # unknown type
            ("e5", "u1", None, "2024-03-03 09:01:00", "s2", None, None, 1.0, "ev_a.csv", 5),  # unknown type (NULL)
            ("e6", "", "page_view", "2024-03-03 09:02:00", "s2", None, None, 1.0, "ev_a.csv", 6),  # missing_user_id
            (None, "u1", "page_view", "2024-03-03 09:03:00", "s2", None, None, 1.0, "ev_a.csv", 7),  # missing_id
            ("e8", "u1", "page_view", "2999-12-31 00:00:00", "s2", None, None, 1.0, "ev_a.csv", 8),  # future
            ("e9", "u1", "page_view", "2024-05-01 10:00:00", "s3", None, None, 1.0, "ev_a.csv", 9),  # after as-of
            ("e10", "u1", "page_view", "2024-02-30 10:00:00", "s2", None, None, 1.0, "ev_a.csv", 10),  # unparseable
            ("e11", "u1", "page_view", "2024-03-04 10:00:00", "s4", "p2", "books", 1.0, "ev_a.csv", 11),  # conflict
            ("e1", "u1", "PageView", "2024-03-01 10:00:00", "s1", "p1", "Books", 5.0, "ev_b.csv", 1),  # clean
            ("e11", "u1", "page_view", "2024-03-04 10:00:00", "s4", "p2", "toys", 1.0, "ev_b.csv", 2),  # clean, wins
        ],
    ),
    "users": (
        "user_id varchar, signup_at varchar, country varchar, birth_year varchar, gender varchar, "
        "acquisition_channel varchar, email varchar, phone varchar, full_name varchar, "
        "_source_file varchar, _source_row bigint",
        [
            # u1 twice: same canonical columns, different PII -> exact duplicate.
            ("u1", "2024-01-01 00:00:00", "AT", "1990", "f", "ads", "a@x.com", "+43 1", "Ann A", "users_a.csv", 1),
            (None, "2024-01-02 00:00:00", "AT", "1991", "m", "ads", "b@x.com", "+43 2", "Bob B", "users_a.csv", 2),
            ("u3", None, "AT", "1992", "m", "ads", "c@x.com", "+43 3", "Cy C", "users_a.csv", 3),
            ("u4", "yesterday", "AT", "1993", "f", "ads", "d@x.com", "+43 4", "Di D", "users_a.csv", 4),
            ("u5", "2999-01-01 00:00:00", "AT", "1994", "f", "ads", "e@x.com", "+43 5", "Ed E", "users_a.csv", 5),
            ("u6", "2024-05-01 00:00:00", "AT", "1995", "f", "ads", "f@x.com", "+43 6", "Fe F", "users_a.csv", 6),
            ("u7", "2024-01-07 00:00:00", "DE", "1996", "f", "ads", "g@x.com", "+49 7", "Gi G", "users_a.csv", 7),
            ("u1", "2024-01-01 00:00:00", "AT", "1990", "f", "ads", "new@x.com", "+43 9", "Ann A", "users_b.csv", 1),
            ("u7", "2024-01-07 00:00:00", "FR", "1996", "f", "ads", "g@x.com", "+33 7", "Gi G", "users_b.csv", 2),
        ],
    ),
    "reviews": (
        "review_id varchar, user_id varchar, product_id varchar, rating varchar, text varchar, "
        "created_at varchar, _source_file varchar, _source_row bigint",
        [
            ("r1", "u1", "p1", "5", "Great", "2024-03-01 10:00:00", "rv_a.csv", 1),  # clean
            ("r2", "u1", "p2", "4.0", "ok", "2024-03-02 10:00:00", "rv_a.csv", 2),  # clean, rating 4
            ("r3", "u1", "p1", "7", "wow", "2024-03-03 10:00:00", "rv_a.csv", 3),  # rating_out_of_range
            ("r4", "u1", "p1", "five", "wow", "2024-03-04 10:00:00", "rv_a.csv", 4),  # rating_out_of_range
            ("r5", "u1", "p1", "3.5", "hm", "2024-03-05 10:00:00", "rv_a.csv", 5),  # rating_out_of_range
            ("r6", "u1", "p1", "0", "bad", "2024-03-06 10:00:00", "rv_a.csv", 6),  # rating_out_of_range
            ("r7", "u1", "p1", None, "no stars", "2024-03-07 10:00:00", "rv_a.csv", 7),  # clean, rating NULL
            ("r8", None, "p1", "3", "anon", "2024-03-08 10:00:00", "rv_a.csv", 8),  # missing_user_id
            ("r9", "u1", "p1", "3", "later", "2999-06-01 10:00:00", "rv_a.csv", 9),  # future_timestamp
            ("r10", "u1", "p1", "2", "meh", "2024-03-10 10:00:00", "rv_a.csv", 10),  # conflict, superseded
            ("r10", "u1", "p1", "3", "better", "2024-03-10 10:00:00", "rv_b.csv", 1),  # clean, wins
        ],
    ),
}

# (table, _source_file, _source_row) -> quarantine_reason: every row that must be quarantined.
EXPECTED_QUARANTINE: dict[tuple[str, str, int], str] = {
    ("orders", "orders_a.csv", 4): "duplicate_id_conflict",
    ("orders", "orders_a.csv", 5): "missing_id",
    ("orders", "orders_a.csv", 6): "missing_user_id",
    ("orders", "orders_a.csv", 7): "missing_timestamp",
    ("orders", "orders_a.csv", 8): "unparseable_timestamp",
    ("orders", "orders_a.csv", 9): "future_timestamp",
    ("orders", "orders_a.csv", 11): "non_numeric_amount",
    ("orders", "orders_a.csv", 12): "negative_amount",
    ("orders", "orders_a.csv", 13): "amount_above_ceiling",
    ("orders", "orders_a.csv", 15): "unknown_status",
    ("orders", "orders_a.csv", 16): "missing_user_id",
    ("orders", "orders_b.csv", 3): "negative_amount",
    ("orders", "orders_b.csv", 4): "missing_timestamp",
    ("orders", "orders_b.csv", 5): "non_numeric_amount",
    ("order_items", "items_a.csv", 2): "duplicate_id_conflict",
    ("order_items", "items_a.csv", 3): "missing_id",
    ("order_items", "items_a.csv", 4): "missing_id",
    ("order_items", "items_a.csv", 5): "non_numeric_quantity",
    ("order_items", "items_a.csv", 6): "non_numeric_quantity",
    ("order_items", "items_a.csv", 7): "negative_quantity",
    ("order_items", "items_a.csv", 8): "non_numeric_amount",
    ("order_items", "items_a.csv", 9): "negative_amount",
    ("order_items", "items_a.csv", 10): "amount_above_ceiling",
    ("order_items", "items_a.csv", 11): "negative_amount",
    ("events", "ev_a.csv", 4): "unknown_event_type",
    ("events", "ev_a.csv", 5): "unknown_event_type",
    ("events", "ev_a.csv", 6): "missing_user_id",
    ("events", "ev_a.csv", 7): "missing_id",
    ("events", "ev_a.csv", 8): "future_timestamp",
    ("events", "ev_a.csv", 10): "unparseable_timestamp",
    ("events", "ev_a.csv", 11): "duplicate_id_conflict",
    ("users", "users_a.csv", 2): "missing_id",
    ("users", "users_a.csv", 3): "missing_timestamp",
    ("users", "users_a.csv", 4): "unparseable_timestamp",
    ("users", "users_a.csv", 5): "future_timestamp",
    ("users", "users_a.csv", 7): "duplicate_id_conflict",
    ("reviews", "rv_a.csv", 3): "rating_out_of_range",
    ("reviews", "rv_a.csv", 4): "rating_out_of_range",
    ("reviews", "rv_a.csv", 5): "rating_out_of_range",
    ("reviews", "rv_a.csv", 6): "rating_out_of_range",
    ("reviews", "rv_a.csv", 8): "missing_user_id",
    ("reviews", "rv_a.csv", 9): "future_timestamp",
    ("reviews", "rv_a.csv", 10): "duplicate_id_conflict",
}

# table -> (raw_rows, exact_duplicate_rows, quarantined_rows, clean_rows)
EXPECTED_COUNTS = {
    "orders": (23, 2, 14, 7),
    "order_items": (14, 1, 10, 3),
    "events": (13, 1, 7, 5),
    "users": (9, 1, 5, 3),
    "reviews": (11, 0, 7, 4),
}

QUARANTINE_COLUMNS = {
    "orders": ["order_id", "user_id", "ordered_at", "amount", "status", "items"],
    "order_items": ["order_id", "product_id", "category", "quantity", "unit_price"],
    "events": ["event_id", "user_id", "event_type", "occurred_at", "session_id", "product_id",
               "category", "duration_seconds"],
    "users": ["user_id", "signup_at", "country", "birth_year", "gender", "acquisition_channel"],
    "reviews": ["review_id", "user_id", "product_id", "rating", "text", "created_at"],
}


# --------------------------------------------------------------------------- helpers
def create_tables(warehouse: Path, tables: dict[str, tuple[str, list[tuple]]]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw")
        for table, (columns, rows) in tables.items():
            con.execute(f"create or replace table raw.{table} ({columns})")
            if rows:
                placeholders = ", ".join(["?"] * len(rows[0]))
                con.executemany(f"insert into raw.{table} values ({placeholders})", rows)


def empty_tables() -> dict[str, tuple[str, list[tuple]]]:
    """The raw tables as the ingestion creates an undelivered table: canonical columns VARCHAR, no rows."""
    return {
        table: (", ".join(f'"{c}" varchar' for c in columns) + ", _source_file varchar, _source_row bigint", [])
        for table, columns in QUARANTINE_COLUMNS.items()
    }


def build(project_dir: Path, tmp: Path, tables: dict, **extra_vars) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    warehouse = tmp / "warehouse.duckdb"
    create_tables(warehouse, tables)
    variables = json.dumps({"as_of_date": AS_OF, **extra_vars})
    result = run_dbt(project_dir, warehouse, tmp, "build", "--vars", variables)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout}\n{result.stderr}"
    return warehouse


def quarantined(warehouse: Path, table: str) -> dict[tuple[str, int], dict]:
    df = query_df(warehouse, f"select * from quarantine.quarantine_shop__{table}")
    records = df.astype(object).where(df.notna(), None).to_dict("records")
    return {(row["_source_file"], row["_source_row"]): row for row in records}


def column(warehouse: Path, sql: str) -> list:
    return query_df(warehouse, sql).iloc[:, 0].tolist()


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def project_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("dbt_quarantine") / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR,
        target,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    return target


@pytest.fixture(scope="module")
def warehouse(project_dir, tmp_path_factory) -> Path:
    return build(project_dir, tmp_path_factory.mktemp("quarantine_run"), RAW_TABLES)


# --------------------------------------------------------------------------- tests
def test_every_bad_row_is_quarantined_with_its_reason_and_source(warehouse):
    got = {}
    for table in TABLES:
        for (source_file, source_row), row in quarantined(warehouse, table).items():
            got[(table, source_file, source_row)] = row["quarantine_reason"]
    assert got == EXPECTED_QUARANTINE


def test_quarantine_keeps_raw_values_as_varchar(warehouse):
    orders = quarantined(warehouse, "orders")
    assert orders[("orders_a.csv", 8)]["ordered_at"] == "not a date"
    assert orders[("orders_a.csv", 11)]["amount"] == "abc"
    assert orders[("orders_a.csv", 15)]["status"] == "pending"  # as delivered, not normalised
    assert orders[("orders_a.csv", 5)]["order_id"] == "  "  # not trimmed
    assert quarantined(warehouse, "events")[("ev_a.csv", 4)]["event_type"] == "teleport"
    assert quarantined(warehouse, "reviews")[("rv_a.csv", 4)]["rating"] == "five"
    types = query_df(
        warehouse,
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'quarantine' and table_name like 'quarantine_shop__%' order by ordinal_position",
    )
    for table, columns in QUARANTINE_COLUMNS.items():
        own = types[types.table_name == f"quarantine_shop__{table}"]
        assert own.column_name.tolist() == [*columns, "quarantine_reason", "_source_file", "_source_row"], table
        assert set(own[own.column_name.isin(columns)].data_type) == {"VARCHAR"}, table


def test_good_rows_reach_staging(warehouse):
    orders = query_df(warehouse, "select * from staging.stg_shop__orders order by order_id").set_index("order_id")
    # o10 is after the as-of; o17's later delivery is bad, so the earlier clean one stays.
    assert sorted(orders.index) == ["o1", "o14", "o17", "o2", "o3", "o4"]
    assert orders.loc["o2", "status"] == "completed" and orders.loc["o3", "status"] == "completed"
    assert orders.loc["o14", "amount"] == 100000
    assert orders.loc["o17", "amount"] == 17

    items = query_df(
        warehouse,
        "select order_id, product_id, quantity is null and unit_price is null as blank "
        "from staging.stg_shop__order_items",
    )
    got = {(r.order_id, r.product_id): r.blank for r in items.itertuples()}
    assert got == {("o1", "p1"): False, ("o2", "p2"): False, ("o4", "p1"): True}  # blank values stay NULL

    events = query_df(warehouse, "select event_id, event_type from staging.stg_shop__events")
    assert dict(zip(events.event_id, events.event_type)) == {
        "e1": "page_view", "e2": "wishlist", "e3": "signup", "e11": "page_view",
    }

    users = query_df(warehouse, "select user_id, country from staging.stg_shop__users order by user_id")
    assert dict(zip(users.user_id, users.country)) == {"u1": "AT", "u7": "FR"}

    reviews = query_df(warehouse, "select review_id, coalesce(rating, -1) as rating from staging.stg_shop__reviews")
    assert dict(zip(reviews.review_id, reviews.rating)) == {"r1": 5, "r2": 4, "r7": -1, "r10": 3}  # r7: NULL


def test_exact_duplicates_are_dropped_counted_and_not_quarantined(warehouse):
    # o3 / order_items (o1, p1) / e1 / u1 came twice with the same canonical values
    # (u1 with different PII, which does not count): one copy is kept, the last delivered.
    assert column(warehouse, "select _source_file from staging.stg_shop__orders where order_id = 'o3'") == [
        "orders_b.csv"
    ]
    assert column(
        warehouse, "select _source_file from staging.stg_shop__order_items where order_id = 'o1' and product_id = 'p1'"
    ) == ["items_b.csv"]
    assert column(warehouse, "select _source_file from staging.stg_shop__events where event_id = 'e1'") == [
        "ev_b.csv"
    ]
    assert column(warehouse, "select _source_file from staging.stg_shop__users where user_id = 'u1'") == [
        "users_b.csv"
    ]
    for table, source_file, source_row in [
        ("orders", "orders_a.csv", 3), ("order_items", "items_a.csv", 1),
        ("events", "ev_a.csv", 1), ("users", "users_a.csv", 1),
    ]:
        assert (source_file, source_row) not in quarantined(warehouse, table)
    # o18 (missing timestamp) came twice: one exact duplicate, one quarantined copy (the last).
    assert ("orders_a.csv", 18) not in quarantined(warehouse, "orders")
    assert quarantined(warehouse, "orders")[("orders_b.csv", 4)]["quarantine_reason"] == "missing_timestamp"


def test_conflicting_duplicate_keeps_last_delivered_version(warehouse):
    assert column(warehouse, "select amount from staging.stg_shop__orders where order_id = 'o4'") == [45]
    assert quarantined(warehouse, "orders")[("orders_a.csv", 4)]["amount"] == "40.0"
    assert column(
        warehouse, "select quantity from staging.stg_shop__order_items where order_id = 'o2' and product_id = 'p2'"
    ) == [3]
    assert column(warehouse, "select category from staging.stg_shop__events where event_id = 'e11'") == ["toys"]
    assert column(warehouse, "select review_text from staging.stg_shop__reviews where review_id = 'r10'") == [
        "better"
    ]


def test_after_as_of_is_ignored_but_future_is_quarantined(warehouse):
    staged = {
        "orders": column(warehouse, "select order_id from staging.stg_shop__orders"),
        "events": column(warehouse, "select event_id from staging.stg_shop__events"),
        "users": column(warehouse, "select user_id from staging.stg_shop__users"),
    }
    assert "o10" not in staged["orders"] and "e9" not in staged["events"] and "u6" not in staged["users"]
    checked = query_df(
        warehouse,
        "select 'orders' as t, order_id as id, is_clean, quarantine_reason from staging.base_shop__orders_checked "
        "union all select 'events', event_id, is_clean, quarantine_reason from staging.base_shop__events_checked "
        "union all select 'users', user_id, is_clean, quarantine_reason from staging.base_shop__users_checked",
    )
    after_as_of = checked[checked.id.isin(["o10", "e9", "u6"])]
    assert len(after_as_of) == 3 and after_as_of.is_clean.all() and after_as_of.quarantine_reason.isna().all()
    future = checked[checked.id.isin(["o9", "e8", "u5"])]
    assert set(future.quarantine_reason) == {"future_timestamp"} and len(future) == 3
    assert quarantined(warehouse, "reviews")[("rv_a.csv", 9)]["quarantine_reason"] == "future_timestamp"


def test_dq_table_counts_are_exact(warehouse):
    counts = query_df(warehouse, "select * from quarantine.dq_table_counts")
    assert counts.columns.tolist() == [
        "table_name", "raw_rows", "exact_duplicate_rows", "quarantined_rows", "quarantine_share", "clean_rows",
    ]
    got = {row.table_name: row for row in counts.itertuples()}
    assert set(got) == set(TABLES) and len(counts) == 5
    for table, (raw, duplicates, quarantined_rows, clean) in EXPECTED_COUNTS.items():
        row = got[table]
        assert (row.raw_rows, row.exact_duplicate_rows, row.quarantined_rows, row.clean_rows) == (
            raw, duplicates, quarantined_rows, clean,
        ), table
        assert row.quarantine_share == pytest.approx(quarantined_rows / (raw - duplicates)), table
        assert raw == len(RAW_TABLES[table][1])
        assert quarantined_rows == sum(1 for key in EXPECTED_QUARANTINE if key[0] == table)


def test_dq_quarantine_reasons(warehouse):
    reasons = query_df(warehouse, "select * from quarantine.dq_quarantine_reasons")
    assert reasons.columns.tolist() == [
        "table_name", "quarantine_reason", "rows", "example_source_file", "example_source_row",
    ]
    expected: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for (table, source_file, source_row), reason in EXPECTED_QUARANTINE.items():
        expected.setdefault((table, reason), []).append((source_file, source_row))
    got = {(r.table_name, r.quarantine_reason): (r.rows, r.example_source_file, r.example_source_row)
           for r in reasons.itertuples()}
    assert got == {key: (len(rows), *min(rows)) for key, rows in expected.items()}


def test_users_quarantine_has_no_pii(warehouse):
    columns = query_df(
        warehouse,
        "select table_name, column_name from information_schema.columns "
        "where table_schema in ('quarantine', 'staging')",
    )
    leaked = columns[columns.column_name.str.lower().isin(PII_COLUMNS)]
    assert leaked.empty, leaked.to_string()
    users = set(columns[columns.table_name == "quarantine_shop__users"].column_name)
    assert users == {*QUARANTINE_COLUMNS["users"], "quarantine_reason", "_source_file", "_source_row"}


def test_amount_ceiling_var(project_dir, tmp_path):
    warehouse = build(project_dir, tmp_path, RAW_TABLES, amount_ceiling=25)
    orders = quarantined(warehouse, "orders")
    assert orders[("orders_b.csv", 1)]["quarantine_reason"] == "amount_above_ceiling"  # o3, 30.0
    assert orders[("orders_b.csv", 2)]["quarantine_reason"] == "amount_above_ceiling"  # o4, 45.0
    assert ("orders_a.csv", 1) not in orders  # o1, 10.0
    # o4's earlier delivery (40.0) now fails a rule itself, so it is no longer a conflict
    assert orders[("orders_a.csv", 4)]["quarantine_reason"] == "amount_above_ceiling"
    assert orders[("orders_a.csv", 13)]["quarantine_reason"] == "amount_above_ceiling"


def test_build_works_on_empty_raw_tables(project_dir, tmp_path):
    warehouse = build(project_dir, tmp_path, empty_tables())
    counts = query_df(warehouse, "select * from quarantine.dq_table_counts order by table_name")
    assert sorted(counts.table_name) == sorted(TABLES)
    assert (counts[["raw_rows", "exact_duplicate_rows", "quarantined_rows", "clean_rows"]] == 0).all().all()
    assert (counts.quarantine_share == 0).all()
    assert query_df(warehouse, "select count(*) as n from quarantine.dq_quarantine_reasons").n[0] == 0
    for table in TABLES:
        assert query_df(warehouse, f"select count(*) as n from quarantine.quarantine_shop__{table}").n[0] == 0

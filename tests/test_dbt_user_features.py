"""End-to-end tests of the dbt project: real DuckDB warehouse, real `dbt build`.

A tiny hand-built shop is loaded into `raw.*`, the project is copied to a temp
directory and built with an as-of date, and the marts are checked against
values computed by hand (and, for the BTYD columns, against `lifetimes`).

As-of date 2024-03-31, so as_of_end = 2024-04-01 00:00, "last 30 days" starts
2024-03-02 and "last 90 days" starts 2024-01-02.

Users:
  u1  in users; 6 orders (two completed the same day, a refunded and a cancelled
      one, a duplicated delivery of o3, one order after the as-of), events in
      two tracker sessions, two reviews.
  u2  not in users; events only (no session_id -> gap-based sessions).
  u3  in users only, signed up 6 days before the as-of.
  u4  signs up and acts only after the as-of: must not exist.
  u5  old buyer, one order in 2023, one review.
  u6  not in users; one order the day before the as-of.
  u7  in users; two completed orders in February.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
AS_OF = "2024-03-31"
PII_COLUMNS = {"email", "phone", "full_name", "address"}

# --------------------------------------------------------------------------- data
# Types as DuckDB's file reader might detect them: orders/order_items/users all
# VARCHAR (CSV-ish), events/reviews partly native.
RAW_TABLES: dict[str, tuple[str, list[tuple]]] = {
    "orders": (
        "order_id varchar, user_id varchar, ordered_at varchar, amount varchar, "
        "status varchar, items varchar, _source_file varchar, _source_row bigint",
        [
            ("o1", "u1", "2024-01-10 09:00:00", "100.0", "completed", "1", "orders_1.csv", 1),
            ("o2", "u1", "2024-01-10T18:00:00", " 50.0 ", "Paid", "2", "orders_1.csv", 2),
            # o3 delivered twice: the later file (amount 30) wins.
            ("o3", "u1", "2024-02-15 12:00:00", "35.0", "delivered", "1", "orders_1.csv", 3),
            ("o3", "u1", "2024-02-15 12:00:00", "30.0", "delivered", "1", "orders_2.csv", 1),
            ("o4", "u1", "2024-03-20 08:00:00", "20.0", None, "1", "orders_2.csv", 2),
            ("o5", "u1", "2024-03-25 10:00:00", "40.0", " Returned", "1", "orders_2.csv", 3),
            ("o6", "u1", "2024-03-26 10:00:00", "60.0", "canceled", "1", "orders_2.csv", 4),
            ("o7", "u1", "2024-04-05 10:00:00", "999.0", "completed", "1", "orders_2.csv", 5),
            ("o8", "u6", "2024-03-30 10:00:00", "10.0", "Completed ", "2", "orders_2.csv", 6),
            ("o9", "u7", "2024-02-01 11:00:00", "80.0", "shipped", "1", "orders_1.csv", 4),
            ("o10", "u7", "2024-02-20 11:00:00", "70.0", "complete", "1", "orders_1.csv", 5),
            ("o11", "u5", "2023-08-01 15:00:00", "500.0", "completed", "3", "orders_0.csv", 1),
            ("o12", None, "2024-03-01 10:00:00", "5.0", "completed", "1", "orders_2.csv", 7),
            ("o13", "   ", "2024-03-01 10:00:00", "5.0", "completed", "1", "orders_2.csv", 8),
            ("o14", "u4", "2024-04-12 10:00:00", "25.0", "completed", "1", "orders_2.csv", 9),
        ],
    ),
    "order_items": (
        "order_id varchar, product_id varchar, category varchar, quantity varchar, "
        "unit_price varchar, _source_file varchar, _source_row bigint",
        [
            ("o1", "p1", "Electronics", "1", "100.0", "items_1.csv", 1),
            ("o1", "p1", "Electronics", "1", "100.0", "items_2.csv", 1),  # duplicate
            ("o2", "p2", " books ", "2", "25.0", "items_1.csv", 2),
            ("o3", "p3", "Books", "1", "30.0", "items_2.csv", 2),
            ("o4", "p4", "garden", "1", "20.0", "items_2.csv", 3),
            ("o5", "p9", "toys", "10", "40.0", "items_2.csv", 4),  # refunded order
            ("o7", "p9", "toys", "100", "999.0", "items_2.csv", 5),  # order after as-of
            ("o8", "p5", "toys", "1", "5.0", "items_2.csv", 6),
            ("o8", "p6", "games", "1", "5.0", "items_2.csv", 7),  # tie -> 'games'
        ],
    ),
    "events": (
        "event_id varchar, user_id varchar, event_type varchar, occurred_at timestamp, "
        "session_id varchar, product_id varchar, category varchar, duration_seconds double, "
        "_source_file varchar, _source_row bigint",
        [
            ("e1", "u2", "PageView", "2024-01-05 10:00:00", None, "p1", "Shoes ", 12.0, "ev_1.csv", 1),
            ("e2", "u2", "add to cart", "2024-01-05 10:10:00", None, "p1", "shoes", 3.0, "ev_1.csv", 2),
            ("e3", "u2", "page_view", "2024-01-05 11:00:00", None, None, None, 5.0, "ev_1.csv", 3),
            ("e4", "u2", "view", "2024-03-28 09:00:00", None, "p7", "Books", 8.0, "ev_2.csv", 1),
            ("e5", "u2", "Add-To-Basket", "2024-03-28 09:20:00", None, "p7", "books", 2.0, "ev_2.csv", 2),
            ("e6", "u2", "page view", "2024-03-28 09:25:00", None, "p8", "books", 4.0, "ev_2.csv", 3),
            ("e7", "u2", "page_view", "2024-04-02 10:00:00", None, "p8", "toys", 1.0, "ev_2.csv", 4),
            ("e8", "u2", "page_view", None, None, "p8", "toys", 1.0, "ev_2.csv", 5),
            ("e10", "u1", "page_view", "2024-03-20 07:50:00", "sA", "p1", "Electronics", 9.0, "ev_2.csv", 6),
            ("e11", "u1", "cart", "2024-03-20 07:55:00", "sA", "p1", "electronics", 1.0, "ev_2.csv", 7),
            ("e12", "u1", "order", "2024-03-20 08:00:00", "sA", "p1", "electronics", 1.0, "ev_2.csv", 8),
            ("e13", "u1", "page_view", "2024-03-20 09:30:00", "sA", None, None, 1.0, "ev_2.csv", 9),
            ("e14", "u1", "page_view", "2024-03-29 12:00:00", "sB", None, None, 1.0, "ev_2.csv", 10),
            ("e14", "u1", "page_view", "2024-03-29 12:00:00", "sB", None, None, 1.0, "ev_3.csv", 1),
            ("e20", "u4", "page_view", "2024-04-12 09:00:00", "sZ", None, None, 1.0, "ev_3.csv", 2),
        ],
    ),
    "users": (
        "user_id varchar, signup_at varchar, country varchar, birth_year bigint, gender varchar, "
        "acquisition_channel varchar, email varchar, phone varchar, full_name varchar, "
        "_source_file varchar, _source_row bigint",
        [
            ("u1", "2023-12-01 10:00:00", "AT", 1990, "f", "ads", "old@x.com", "+43 1", "Ann A", "users_0.csv", 7),
            ("u1", "2023-12-01 10:00:00", "DE", 1990, "F", " Ads", "ann@x.com", "+49 1", "Ann A", "users_1.csv", 1),
            ("u3", "2024-03-25 09:00:00", "FR", 1985, "M", "organic", "bob@x.com", "+33 1", "Bob B", "users_1.csv", 2),
            ("u5", "2023-06-01 08:00:00", "US", 1970, "", "email", "cy@x.com", "+1 1", "Cy C", "users_1.csv", 3),
            ("u7", "2024-01-01 00:00:00", "DE", 2000, "F", "", "di@x.com", "+49 2", "Di D", "users_1.csv", 4),
            ("u4", "2024-04-10 00:00:00", "GB", 1999, "M", "ads", "ed@x.com", "+44 1", "Ed E", "users_2.csv", 1),
        ],
    ),
    "reviews": (
        "review_id varchar, user_id varchar, product_id varchar, rating bigint, text varchar, "
        "created_at timestamp, _source_file varchar, _source_row bigint",
        [
            ("r1", "u1", "p1", 5, "Great product, love it. Fast delivery!", "2024-01-12 10:00:00", "rv_1.csv", 1),
            ("r2", "u1", "p3", 2, "Arrived slow and broke after a week. Terrible.", "2024-03-01 10:00:00", "rv_1.csv", 2),
            ("r3", "u4", "p1", 1, "bad", "2024-04-03 10:00:00", "rv_1.csv", 3),
            ("r4", "u5", "p9", 4, "ok", "2023-08-05 10:00:00", "rv_1.csv", 4),
        ],
    ),
}

# Rows that `cut_raw_data` deletes to simulate a landing cut at a date.
TIMESTAMP_COLUMNS = {"orders": "ordered_at", "events": "occurred_at", "users": "signup_at", "reviews": "created_at"}

KNOWN_USERS = {"u1", "u2", "u3", "u5", "u6", "u7"}

# Completed orders as they should be understood (deduplicated, normalised).
COMPLETED_ORDERS = [
    ("u1", "2024-01-10 09:00:00", 100.0),
    ("u1", "2024-01-10 18:00:00", 50.0),
    ("u1", "2024-02-15 12:00:00", 30.0),
    ("u1", "2024-03-20 08:00:00", 20.0),
    ("u1", "2024-04-05 10:00:00", 999.0),  # after the as-of: lifetimes truncates it itself
    ("u5", "2023-08-01 15:00:00", 500.0),
    ("u6", "2024-03-30 10:00:00", 10.0),
    ("u7", "2024-02-01 11:00:00", 80.0),
    ("u7", "2024-02-20 11:00:00", 70.0),
]


# --------------------------------------------------------------------------- helpers
def create_raw_tables(warehouse: Path, *, cut_at: str | None = None) -> None:
    """Create and fill the five raw tables; optionally drop rows at/after `cut_at`."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw")
        for table, (columns, rows) in RAW_TABLES.items():
            con.execute(f"create or replace table raw.{table} ({columns})")
            placeholders = ", ".join(["?"] * len(rows[0]))
            con.executemany(f"insert into raw.{table} values ({placeholders})", rows)
        if cut_at is not None:
            for table, column in TIMESTAMP_COLUMNS.items():
                con.execute(
                    f"delete from raw.{table} where try_cast({column} as timestamp) >= ?::timestamp",
                    [cut_at],
                )


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    assert found, "dbt executable not found next to the Python interpreter or on PATH"
    return found


def run_dbt(project_dir: Path, warehouse: Path, run_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run dbt with the warehouse env var and target/log paths inside `run_dir`."""
    env = {
        **os.environ,
        "SEGMENTATION_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
    }
    command = [
        dbt_executable(),
        *args,
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(run_dir / "target"),
        "--log-path", str(run_dir / "logs"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def build(project_dir: Path, tmp: Path, *, as_of: str = AS_OF, cut_at: str | None = None) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    warehouse = tmp / "warehouse.duckdb"
    create_raw_tables(warehouse, cut_at=cut_at)
    result = run_dbt(project_dir, warehouse, tmp, "build", "--vars", f'{{"as_of_date": "{as_of}"}}')
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout}\n{result.stderr}"
    return warehouse


def query_df(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def rows_by_user(warehouse: Path, relation: str) -> dict[str, dict]:
    df = query_df(warehouse, f"select * from {relation} order by user_id")
    records = df.astype(object).where(df.notna(), None).to_dict("records")
    return {row["user_id"]: row for row in records}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def project_dir(tmp_path_factory) -> Path:
    """A copy of the dbt project, so that no run writes into the repository."""
    target = tmp_path_factory.mktemp("dbt") / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR,
        target,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    return target


@pytest.fixture(scope="module")
def warehouse(project_dir, tmp_path_factory) -> Path:
    return build(project_dir, tmp_path_factory.mktemp("main_run"))


@pytest.fixture(scope="module")
def features(warehouse) -> dict[str, dict]:
    return rows_by_user(warehouse, "marts.user_features")


@pytest.fixture(scope="module")
def segments(warehouse) -> dict[str, dict]:
    return rows_by_user(warehouse, "marts.user_rfm_segments")


# --------------------------------------------------------------------------- tests
def test_one_row_per_known_user(features, segments):
    assert set(features) == KNOWN_USERS
    assert set(segments) == KNOWN_USERS
    assert all(str(row["as_of_date"])[:10] == AS_OF for row in features.values())


def test_staging_deduplicates_and_drops_invalid_rows(warehouse):
    orders = query_df(warehouse, "select order_id, amount from staging.stg_shop__orders order by order_id")
    # o7/o14 are after the as-of, o12/o13 have no user
    assert set(orders.order_id) == {f"o{i}" for i in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11)}
    assert orders.set_index("order_id").loc["o3", "amount"] == 30.0  # last delivery wins
    statuses = query_df(warehouse, "select order_id, status from staging.stg_shop__orders")
    assert dict(zip(statuses.order_id, statuses.status)) == {
        "o1": "completed", "o2": "completed", "o3": "completed", "o4": "completed",
        "o5": "refunded", "o6": "cancelled", "o8": "completed", "o9": "completed",
        "o10": "completed", "o11": "completed",
    }
    event_types = query_df(warehouse, "select event_id, event_type from staging.stg_shop__events")
    assert dict(zip(event_types.event_id, event_types.event_type)) == {
        "e1": "page_view", "e2": "add_to_cart", "e3": "page_view", "e4": "page_view",
        "e5": "add_to_cart", "e6": "page_view", "e10": "page_view", "e11": "add_to_cart",
        "e12": "purchase", "e13": "page_view", "e14": "page_view",
    }
    users = rows_by_user(warehouse, "staging.stg_shop__users")
    assert set(users) == {"u1", "u3", "u5", "u7"}
    assert users["u1"]["country"] == "DE" and users["u1"]["acquisition_channel"] == "ads"


def test_buyer_features_hand_computed(features):
    u1 = features["u1"]
    assert str(u1["signup_at"]) == "2023-12-01 10:00:00"
    assert u1["country"] == "DE"
    assert u1["tenure_days"] == 121  # 2023-12-01 -> 2024-03-31
    assert u1["recency_days"] == 11  # last completed order 2024-03-20
    assert u1["frequency"] == 4  # o1, o2, o3, o4 (o3 deduplicated, o7 after as-of)
    assert u1["monetary"] == pytest.approx(200.0)
    assert u1["avg_order_value"] == pytest.approx(50.0)
    assert u1["refund_share"] == pytest.approx(1 / 5)
    assert u1["orders_30d"] == 1 and u1["spend_30d"] == pytest.approx(20.0)
    assert u1["orders_90d"] == 4 and u1["spend_90d"] == pytest.approx(200.0)
    assert u1["mean_days_between_orders"] == pytest.approx(70 / 3)
    assert u1["days_since_last_activity"] == 2  # event on 2024-03-29
    # BTYD: purchase days 01-10 (150), 02-15 (30), 03-20 (20)
    assert u1["btyd_frequency"] == 2
    assert u1["btyd_recency"] == 70
    assert u1["btyd_t"] == 81
    assert u1["btyd_monetary_value"] == pytest.approx(25.0)

    u7 = features["u7"]
    assert (u7["frequency"], u7["monetary"], u7["recency_days"], u7["tenure_days"]) == (2, 150.0, 40, 90)
    assert u7["mean_days_between_orders"] == pytest.approx(19.0)
    assert u7["refund_share"] == 0.0

    u6 = features["u6"]  # not in users: first seen at its only order
    assert u6["signup_at"] is None and u6["country"] is None
    assert (u6["tenure_days"], u6["recency_days"], u6["frequency"]) == (1, 1, 1)
    assert u6["mean_days_between_orders"] is None


def test_btyd_columns_match_lifetimes(features):
    from lifetimes.utils import summary_data_from_transaction_data

    transactions = pd.DataFrame(COMPLETED_ORDERS, columns=["user_id", "ordered_at", "amount"])
    transactions["ordered_at"] = pd.to_datetime(transactions["ordered_at"])
    expected = summary_data_from_transaction_data(
        transactions, "user_id", "ordered_at",
        monetary_value_col="amount", observation_period_end=AS_OF, freq="D",
    )
    assert set(expected.index) == {u for u, row in features.items() if row["frequency"] > 0}
    for user_id, row in expected.iterrows():
        got = features[user_id]
        assert got["btyd_frequency"] == row["frequency"], user_id
        assert got["btyd_recency"] == row["recency"], user_id
        assert got["btyd_t"] == row["T"], user_id
        assert got["btyd_monetary_value"] == pytest.approx(row["monetary_value"]), user_id
    for user_id in KNOWN_USERS - set(expected.index):
        got = features[user_id]
        assert (got["btyd_frequency"], got["btyd_recency"], got["btyd_t"], got["btyd_monetary_value"]) == (0, 0, 0, 0.0)


def test_non_buyers_get_zeros_not_nulls(features):
    for user_id in ("u2", "u3"):
        row = features[user_id]
        assert row["recency_days"] is None and row["mean_days_between_orders"] is None
        for column in ("frequency", "monetary", "avg_order_value", "orders_30d", "orders_90d",
                       "spend_30d", "spend_90d", "refund_share"):
            assert row[column] == 0, (user_id, column)
    u3 = features["u3"]
    assert u3["tenure_days"] == 6 and u3["days_since_last_activity"] == 6
    for column in ("sessions_30d", "sessions_90d", "events_30d", "events_90d", "events_per_session",
                   "add_to_cart_rate", "purchase_conversion_rate", "review_count", "sentiment_score",
                   "favourite_category_share"):
        assert u3[column] == 0, column
    assert u3["favourite_category"] is None and u3["mean_rating"] is None


def test_engagement_features(features):
    u2 = features["u2"]  # gap sessions: {e1,e2} {e3} {e4,e5,e6}
    assert u2["signup_at"] is None
    assert str(u2["first_seen_at"]) == "2024-01-05 10:00:00"
    assert u2["tenure_days"] == 86 and u2["days_since_last_activity"] == 3
    assert (u2["sessions_30d"], u2["sessions_90d"], u2["events_30d"], u2["events_90d"]) == (1, 3, 3, 6)
    assert u2["events_per_session"] == pytest.approx(2.0)
    assert u2["add_to_cart_rate"] == pytest.approx(2 / 3)
    assert u2["purchase_conversion_rate"] == 0.0

    u1 = features["u1"]  # tracker sessions sA (4 events, 90-min gap inside) and sB
    assert (u1["sessions_30d"], u1["sessions_90d"], u1["events_30d"], u1["events_90d"]) == (2, 2, 5, 5)
    assert u1["events_per_session"] == pytest.approx(2.5)
    assert u1["add_to_cart_rate"] == pytest.approx(0.5)
    assert u1["purchase_conversion_rate"] == pytest.approx(0.5)


def test_category_affinity(features):
    assert (features["u1"]["favourite_category"], features["u1"]["favourite_category_share"]) == ("electronics", 0.5)
    assert (features["u6"]["favourite_category"], features["u6"]["favourite_category_share"]) == ("games", 0.5)
    assert features["u2"]["favourite_category"] == "books"  # from events: books 3, shoes 2
    assert features["u2"]["favourite_category_share"] == pytest.approx(0.6)
    assert features["u7"]["favourite_category"] is None


def test_review_features(features):
    u1 = features["u1"]
    # r1: 0.5*1 + 0.5*(3-0)/3 = 1.0 ; r2: 0.5*(-0.5) + 0.5*(0-3)/3 = -0.75
    assert u1["review_count"] == 2 and u1["mean_rating"] == pytest.approx(3.5)
    assert u1["sentiment_score"] == pytest.approx(0.125)
    u5 = features["u5"]  # rating 4, no lexicon hit
    assert (u5["review_count"], u5["mean_rating"], u5["sentiment_score"]) == (1, 4.0, 0.25)


def test_rfm_scores_and_segments(segments):
    # Buyers: recency u5 243, u7 40, u1 11, u6 1; frequency u5 1, u6 1, u7 2, u1 4;
    # monetary u6 10, u7 150, u1 200, u5 500 -> percent ranks 0, 1/3, 2/3, 1.
    expected = {
        "u1": (4, 5, 4, 5, "Champions"),  # fm = round(4.5) half up = 5
        "u5": (1, 1, 5, 3, "At Risk"),
        "u6": (5, 1, 1, 1, "New Customers"),
        "u7": (2, 4, 2, 3, "At Risk"),
        "u2": (None, None, None, None, "No Purchases"),
        "u3": (None, None, None, None, "No Purchases"),
    }
    got = {
        user_id: (row["r_score"], row["f_score"], row["m_score"], row["fm_score"], row["rfm_segment"])
        for user_id, row in segments.items()
    }
    assert got == expected


def test_lifecycle_stages(segments):
    got = {user_id: row["lifecycle_stage"] for user_id, row in segments.items()}
    assert got == {"u1": "active", "u2": "silent", "u3": "new", "u5": "churned", "u6": "new", "u7": "active"}


def test_no_pii_outside_raw(warehouse):
    columns = query_df(
        warehouse,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('staging', 'intermediate', 'marts', 'seeds', 'main')",
    )
    assert {"staging", "intermediate", "marts"} <= set(columns.table_schema)
    leaked = columns[columns.column_name.str.lower().isin(PII_COLUMNS)]
    assert leaked.empty, leaked.to_string()


def test_earlier_as_of_equals_data_cut_at_that_date(project_dir, tmp_path):
    as_of = "2024-02-29"
    full = build(project_dir, tmp_path / "full", as_of=as_of)
    cut = build(project_dir, tmp_path / "cut", as_of=as_of, cut_at="2024-03-01")
    for relation in ("marts.user_features", "marts.user_rfm_segments"):
        full_df = query_df(full, f"select * from {relation} order by user_id")
        cut_df = query_df(cut, f"select * from {relation} order by user_id")
        pd.testing.assert_frame_equal(full_df, cut_df)
    assert set(query_df(full, "select user_id from marts.user_features").user_id) == {"u1", "u2", "u5", "u7"}


def test_build_fails_clearly_without_as_of_date(project_dir, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    create_raw_tables(warehouse)
    parsed = run_dbt(project_dir, warehouse, tmp_path, "parse")
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    result = run_dbt(project_dir, warehouse, tmp_path, "build")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "as_of_date" in output and "pass --vars '{as_of_date: YYYY-MM-DD}'" in output

"""Tests of the demo-data generator (real files in tmp_path, read back with DuckDB)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pytest

from segmentation_pipeline.demo_data import PERSONA_NAMES, generate
from segmentation_pipeline.demo_data.__main__ import main

USERS = 2000
AS_OF = "2026-06-30"
END = f"TIMESTAMP '{AS_OF} 23:59:59'"
COLUMNS = {
    "users": ["user_id", "signup_at", "country", "birth_year", "gender", "acquisition_channel",
              "email", "phone", "full_name", "address"],
    "orders": ["order_id", "user_id", "ordered_at", "amount", "status", "items"],
    "order_items": ["order_id", "product_id", "category", "quantity", "unit_price"],
    "reviews": ["review_id", "user_id", "product_id", "rating", "text", "created_at"],
    "events": ["event_id", "user_id", "session_id", "event_type", "occurred_at",
               "product_id", "category", "duration_seconds"],
}


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _connect(landing: Path, fmt: str = "csv") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    reader = "read_csv" if fmt == "csv" else "read_parquet"
    for table in ("users", "orders", "order_items", "reviews"):
        con.execute(f"create view {table} as select * from {reader}('{landing}/{table}.{fmt}')")
    con.execute(f"create view events as select * from {reader}('{landing}/events/part-*.{fmt}')")
    truth = landing.parent / "demo_truth" / "user_personas.csv"
    if truth.exists():
        con.execute(f"create view truth as select * from read_csv('{truth}')")
    return con


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("shop")
    # Small blocks so that several event part files and id offsets are exercised.
    summary = generate(USERS, 42, root / "landing", None, AS_OF, "csv", block_users=800)
    return root / "landing", summary


@pytest.fixture(scope="module")
def con(shop) -> duckdb.DuckDBPyConnection:
    return _connect(shop[0])


@pytest.fixture(scope="module")
def features(con):
    """Per-user behaviour features plus the true persona."""
    df = con.execute(f"""
        with o as (select user_id, count(*) n_orders, avg(amount) aov,
                          avg((status = 'refunded')::int) refund_share,
                          max(ordered_at) last_order from orders group by 1),
             e as (select user_id, count(distinct session_id) sessions, count(*) n_events,
                          max(occurred_at) last_event,
                          count(distinct session_id) filter (where occurred_at > {END} - interval 90 day) s90,
                          count(*) filter (where event_type = 'add_to_cart') atc,
                          count(*) filter (where event_type = 'purchase') purchases
                   from events group by 1),
             r as (select user_id, count(*) n_reviews, avg(rating) avg_rating from reviews group by 1)
        select t.persona, date_diff('day', u.signup_at, {END}) tenure,
               date_diff('day', coalesce(e.last_event, u.signup_at), {END}) recency,
               coalesce(n_orders, 0) n_orders, coalesce(aov, 0) aov, aov aov_buyers,
               coalesce(refund_share, 0) refund_share, coalesce(sessions, 0) sessions,
               coalesce(n_events, 0) n_events, coalesce(s90, 0) s90,
               coalesce(atc, 0) / greatest(sessions, 1) atc_rate,
               coalesce(purchases, 0) / greatest(sessions, 1) as conversion_rate,
               coalesce(n_reviews, 0) n_reviews, coalesce(avg_rating, 0) avg_rating
        from users u join truth t using (user_id)
        left join o using (user_id) left join e using (user_id) left join r using (user_id)
        order by u.user_id
    """).df()
    return df


def _mean(features, column: str, persona: str) -> float:
    return float(features.loc[features["persona"] == persona, column].mean())


def test_files_and_summary(shop):
    landing, summary = shop
    assert summary["users"] == USERS
    assert summary["event_parts"] == 3
    names = sorted(p.name for p in landing.iterdir())
    assert names == ["events", "order_items.csv", "orders.csv", "reviews.csv", "users.csv"]
    assert sorted(p.name for p in (landing / "events").iterdir()) == [
        "part-00000.csv", "part-00001.csv", "part-00002.csv"
    ]
    assert (landing.parent / "demo_truth" / "user_personas.csv").is_file()
    assert "persona" not in (landing / "users.csv").read_text().splitlines()[0]


def test_schema(con):
    for table, columns in COLUMNS.items():
        assert [d[0] for d in con.execute(f"select * from {table} limit 0").description] == columns


def test_csv_timestamp_format(shop):
    row = (shop[0] / "orders.csv").read_text().splitlines()[1].split(",")
    assert len(row[2]) == 19 and row[2][10] == " " and row[2][4] == "-"


def test_truth_one_row_per_user_all_personas(con):
    assert con.execute("select count(*), count(distinct user_id) from truth").fetchone() == (USERS, USERS)
    assert con.execute("select count(*) from users anti join truth using (user_id)").fetchone()[0] == 0
    personas = {r[0] for r in con.execute("select distinct persona from truth").fetchall()}
    assert personas == set(PERSONA_NAMES) and len(personas) >= 5


def test_ids_unique_across_blocks(con):
    for table, key in [("users", "user_id"), ("orders", "order_id"),
                       ("reviews", "review_id"), ("events", "event_id")]:
        n, distinct = con.execute(f"select count(*), count(distinct {key}) from {table}").fetchone()
        assert n == distinct > 0, table
    # a session belongs to exactly one user
    assert con.execute("select count(*) from (select session_id from events "
                   "group by 1 having count(distinct user_id) > 1)").fetchone()[0] == 0


def test_amounts(con):
    assert con.execute("select min(amount) from orders").fetchone()[0] >= 0
    assert con.execute("select min(unit_price), min(quantity) from order_items").fetchone() > (0, 0)
    bad = con.execute("""
        select count(*) from orders o join (
            select order_id, sum(quantity * unit_price) s, count(*) n from order_items group by 1
        ) i using (order_id) where abs(o.amount - i.s) > 0.005 or o.items != i.n
    """).fetchone()[0]
    assert bad == 0
    assert con.execute("select count(*) from orders anti join order_items using (order_id)").fetchone()[0] == 0
    status = dict(con.execute("select status, count(*) / sum(count(*)) over () from orders group by 1").fetchall())
    assert set(status) == {"completed", "cancelled", "refunded"} and status["completed"] > 0.7
    assert con.execute("select count(distinct category) from order_items").fetchone()[0] == 10
    assert con.execute("select avg(items) from orders").fetchone()[0] > 1.5


def test_timestamps_within_as_of_and_after_signup(con):
    for table, col in [("users", "signup_at"), ("orders", "ordered_at"),
                       ("reviews", "created_at"), ("events", "occurred_at")]:
        assert con.execute(f"select max({col}) from {table}").fetchone()[0].isoformat() <= f"{AS_OF}T23:59:59"
    for table, col in [("orders", "ordered_at"), ("reviews", "created_at"), ("events", "occurred_at")]:
        early = con.execute(f"select count(*) from {table} t join users u using (user_id) "
                        f"where t.{col} < u.signup_at").fetchone()[0]
        assert early == 0, table


def test_orders_match_purchase_events_and_reviews_follow_orders(con):
    unmatched = con.execute("""
        select count(*) from orders o anti join
        (select user_id, occurred_at from events where event_type = 'purchase') e
        on o.user_id = e.user_id and o.ordered_at = e.occurred_at
    """).fetchone()[0]
    assert unmatched == 0
    orphan = con.execute("""
        select count(*) from reviews r where not exists (
            select 1 from orders o join order_items i using (order_id)
            where o.user_id = r.user_id and i.product_id = r.product_id and o.ordered_at < r.created_at)
    """).fetchone()[0]
    assert orphan == 0
    ratings = con.execute("select rating, any_value(text) from reviews group by 1 order by 1").fetchall()
    assert [r[0] for r in ratings] == [1, 2, 3, 4, 5]
    texts = dict(con.execute("select rating, string_agg(text, ' ') from reviews group by 1").fetchall())
    assert "Terrible" in texts[1] and "Great quality" in texts[5] and "Terrible" not in texts[5]


def test_sessions_have_several_events_and_checkout_before_purchase(con):
    per_session, minutes = con.execute("""
        select avg(n), median(span) from (select session_id, count(*) n,
            date_diff('second', min(occurred_at), max(occurred_at)) / 60 span from events group by 1)
    """).fetchone()
    assert 3 <= per_session <= 10 and 1 <= minutes <= 15
    bad = con.execute("""
        select count(*) from events p where event_type = 'purchase' and not exists (
            select 1 from events c where c.session_id = p.session_id
            and c.event_type = 'checkout' and c.occurred_at <= p.occurred_at)
    """).fetchone()[0]
    assert bad == 0


def test_events_per_user(shop):
    _, summary = shop
    assert 30 <= summary["events"] / USERS <= 80


def test_personas_behave_differently(con, features):
    f = features
    assert _mean(f, "n_orders", "vip") > 2 * _mean(f, "n_orders", "bargain_hunter")
    assert _mean(f, "n_orders", "bargain_hunter") > _mean(f, "n_orders", "lapsed")
    aov = {p: _mean(f, "aov_buyers", p) for p in PERSONA_NAMES}
    assert min(aov, key=aov.get) == "bargain_hunter"
    assert max(aov, key=aov.get) == "vip"
    refund = {p: _mean(f, "refund_share", p) for p in PERSONA_NAMES}
    assert max(refund, key=refund.get) == "bargain_hunter" and refund["bargain_hunter"] > 0.15
    assert _mean(f, "n_orders", "window_shopper") < 0.2
    assert _mean(f, "sessions", "window_shopper") > 2 * _mean(f, "sessions", "newcomer")
    assert _mean(f, "atc_rate", "window_shopper") > _mean(f, "atc_rate", "bargain_hunter")
    assert _mean(f, "conversion_rate", "window_shopper") < 0.05
    assert _mean(f, "avg_rating", "vip") > 4 > _mean(f, "avg_rating", "bargain_hunter") + 1
    assert _mean(f, "recency", "vip") < 15
    assert _mean(f, "n_orders", "newcomer") <= 2
    # lapsed: nothing in the last 120 days; newcomers signed up within 31 days
    assert con.execute(f"""
        select count(*) from truth t join events e using (user_id)
        where t.persona = 'lapsed' and e.occurred_at > {END} - interval 120 day
    """).fetchone()[0] == 0
    assert con.execute(f"""
        select count(*) from truth t join orders o using (user_id)
        where t.persona = 'lapsed' and o.ordered_at > {END} - interval 120 day
    """).fetchone()[0] == 0
    assert con.execute(f"""
        select max(date_diff('day', u.signup_at, {END})) from truth t join users u using (user_id)
        where t.persona = 'newcomer'
    """).fetchone()[0] <= 31


def test_clustering_recovers_personas(features):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    columns = ["tenure", "recency", "n_orders", "aov", "refund_share", "sessions", "n_events",
               "s90", "atc_rate", "conversion_rate", "n_reviews", "avg_rating"]
    x = np.log1p(features[columns].to_numpy(dtype=float))
    labels = KMeans(5, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(x))
    assert adjusted_rand_score(features["persona"], labels) >= 0.9


def test_deterministic(tmp_path):
    def run(name: str, seed: int) -> dict[str, str]:
        generate(600, seed, tmp_path / name / "landing", None, AS_OF, "csv", block_users=250)
        return _digest(tmp_path / name)

    first, again, other = run("a", 7), run("b", 7), run("c", 8)
    assert len(first) == 8  # 4 tables + 3 event parts + truth
    assert first == again
    assert all(first[k] != other[k] for k in first)


def test_parquet_and_stale_files_removed(tmp_path):
    landing = tmp_path / "landing"
    generate(300, 1, landing, tmp_path / "truth", AS_OF, "csv", block_users=100)
    assert len(list((landing / "events").glob("part-*.csv"))) == 3
    summary = generate(300, 1, landing, tmp_path / "truth", AS_OF, "parquet")
    assert sorted(p.name for p in landing.rglob("*") if p.is_file()) == [
        "order_items.parquet", "orders.parquet", "part-00000.parquet", "reviews.parquet", "users.parquet"
    ]
    con = _connect(landing, "parquet")
    assert con.execute("select count(*) from users").fetchone()[0] == 300
    assert con.execute("select count(*) from events").fetchone()[0] == summary["events"]
    assert con.execute("select typeof(ordered_at) from orders limit 1").fetchone()[0] == "TIMESTAMP"
    assert (tmp_path / "truth" / "user_personas.csv").is_file()


def test_as_of_moves_the_data(tmp_path):
    summary = generate(200, 3, tmp_path / "landing", None, "2025-01-15", "csv")
    con = _connect(tmp_path / "landing")
    assert summary["as_of"] == "2025-01-15"
    assert str(con.execute("select max(occurred_at) from events").fetchone()[0]) <= "2025-01-15 23:59:59"


def test_cli(tmp_path, capsys):
    out = tmp_path / "data" / "landing"
    assert main(["--users", "150", "--seed", "5", "--out", str(out), "--format", "parquet"]) == 0
    printed = capsys.readouterr().out
    assert "users" in printed and "150" in printed and "events" in printed
    assert (tmp_path / "data" / "demo_truth" / "user_personas.csv").is_file()
    assert (out / "users.parquet").is_file()

"""Migration on a hand-built history, privacy of published aggregates, and the landing-file sensor."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pytest

from segmentation_pipeline.analytics.migration import latest_migration_sql, moves_macro_sql
from segmentation_pipeline.analytics.protect import protect
from segmentation_pipeline.config import PrivacyConfig


@pytest.fixture
def hand_history():
    """12 users on 3 dates. Jun 1 -> Jun 8: u1-u6 stay Champions, u7-u9 Champions -> At Risk, u10 leaves,
    u11-u12 At Risk both days; u13 is new on Jun 8."""
    rows = []
    for user in range(1, 13):
        rows.append((f"u{user}", date(2026, 6, 1), 1 if user <= 10 else 2, "Champions" if user <= 10 else "At Risk"))
    for user in list(range(1, 10)) + [11, 12, 13]:
        segment = 1 if user <= 6 else 2
        rows.append((f"u{user}", date(2026, 6, 8), segment, "Champions" if segment == 1 else "At Risk"))
    rows += [("u1", date(2026, 5, 25), 2, "At Risk")]
    con = duckdb.connect()
    con.execute("CREATE TABLE segment_history (user_id VARCHAR, as_of_date DATE, segment_id INTEGER, segment_name VARCHAR)")
    con.executemany("INSERT INTO segment_history VALUES (?, ?, ?, ?)", rows)
    yield con
    con.close()


def test_latest_migration_on_a_hand_built_history(hand_history):
    moves = hand_history.execute(latest_migration_sql("segment_history")).fetchall()
    as_table = {(m[3], m[5]): m[6] for m in moves}
    assert {m[0] for m in moves} == {date(2026, 6, 1)} and {m[1] for m in moves} == {date(2026, 6, 8)}
    assert as_table == {
        ("Champions", "Champions"): 6,
        ("Champions", "At Risk"): 3,
        ("Champions", "(not present)"): 1,
        ("At Risk", "At Risk"): 2,
        ("(new user)", "At Risk"): 1,
    }


def test_moves_macro_any_two_dates_and_suppression(hand_history):
    hand_history.execute(moves_macro_sql(min_group_size=1))
    moves = hand_history.execute("SELECT from_segment_name, to_segment_name, users FROM segment_moves('2026-05-25', '2026-06-08')").fetchall()
    assert ("At Risk", "Champions", 1) in moves  # u1 was At Risk on May 25
    hand_history.execute(moves_macro_sql(min_group_size=3))
    moves = hand_history.execute("SELECT users FROM segment_moves('2026-06-01', '2026-06-08')").fetchall()
    assert sorted(m[0] for m in moves) == [3, 6]


def _summary(users):
    return pd.DataFrame({
        "segment_id": range(1, len(users) + 1), "segment_name": [f"S{i}" for i in range(len(users))],
        "as_of_date": date(2026, 6, 30), "users": users, "share": 0.0,
        "revenue_30d": [100.0 * u for u in users], "revenue_share_30d": 0.0,
        "revenue_90d": [300.0 * u for u in users], "revenue_share_90d": 0.0,
    })


def test_small_groups_are_suppressed_in_every_aggregate():
    frame, dropped = protect("segment_summary", _summary([500, 9, 10, 3]), PrivacyConfig())
    assert frame["users"].tolist() == [500, 10] and dropped == 2
    frame, dropped = protect("segment_summary", _summary([500, 9, 10, 3]), PrivacyConfig(min_group_size=1))
    assert dropped == 0 and len(frame) == 4
    rules = pd.DataFrame({"segment_id": [1, 1], "rule_baskets": [4, 40], "baskets": [100, 100], "support": [0.04, 0.4]})
    frame, dropped = protect("segment_associations", rules, PrivacyConfig())
    assert frame["rule_baskets"].tolist() == [40] and dropped == 1


def test_laplace_noise_is_optional_seeded_and_keeps_shares_consistent():
    exact = _summary([5000, 4000, 1000])
    off, _ = protect("segment_summary", exact, PrivacyConfig())
    assert off["users"].tolist() == [5000, 4000, 1000]
    noisy, _ = protect("segment_summary", exact, PrivacyConfig(dp_epsilon=0.5, dp_revenue_cap=100))
    again, _ = protect("segment_summary", exact, PrivacyConfig(dp_epsilon=0.5, dp_revenue_cap=100))
    pd.testing.assert_frame_equal(noisy, again)
    assert noisy["users"].tolist() != [5000, 4000, 1000]
    assert (noisy["users"] - exact["users"]).abs().max() < 40  # scale 1/0.5 = 2 users
    assert noisy["share"].sum() == pytest.approx(1.0, abs=1e-3)
    other_seed, _ = protect("segment_summary", exact, PrivacyConfig(dp_epsilon=0.5, dp_seed=1))
    assert other_seed["users"].tolist() != noisy["users"].tolist()


def test_sensor_waits_for_a_settled_delivery_then_runs_once(tmp_path, monkeypatch):
    from segmentation_pipeline.defs.jobs import new_landing_files

    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SEGMENTATION_CONFIG", raising=False)
    (tmp_path / "orders.csv").write_text("order_id\n1\n")
    cursor = None
    outcomes = []
    for _ in range(3):
        context = dg.build_sensor_context(cursor=cursor)
        result = new_landing_files(context)
        outcomes.append(type(result).__name__)
        cursor = context.cursor
    assert outcomes == ["SkipReason", "RunRequest", "SkipReason"]
    (tmp_path / "orders.csv").write_text("order_id\n1\n2\n")
    context = dg.build_sensor_context(cursor=cursor)
    assert isinstance(new_landing_files(context), dg.SkipReason)
    assert isinstance(new_landing_files(dg.build_sensor_context(cursor=context.cursor)), dg.RunRequest)
    assert new_landing_files.default_status == dg.DefaultSensorStatus.STOPPED

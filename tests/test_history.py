"""Segments over time on one shared workspace: nightly run, backfill of past dates, re-run of the same date.

The module runs the pipeline three times (job, 2-date backfill, job again) with SEGMENTATION_ID_SECRET set,
then every test reads what a user would query: the published file, the exports and the warehouse history.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from conftest import DEMO_AS_OF
from segmentation_pipeline.defs.dbt import DBT_PROJECT_DIR
from segmentation_pipeline.release import publish
from segmentation_pipeline.settings import load_settings

SECRET = "test-secret"
BACKFILL = ("2026-06-22", "2026-06-23")
PII_COLUMNS = ("email", "phone", "full_name", "address")
SLICES_QUERY = "SELECT as_of_date::VARCHAR AS d, * EXCLUDE (as_of_date) FROM segment_history_slices ORDER BY d"
HISTORY_QUERY = "SELECT * FROM segment_history ORDER BY as_of_date, user_id"


@pytest.fixture(scope="module")
def history_workspace(tmp_path_factory, demo_landing):
    root = tmp_path_factory.mktemp("history")
    shutil.copytree(demo_landing, root / "landing")
    # One dbt run folder kept, so the second job run must delete the first run's (test below).
    (root / "segmentation.yaml").write_text("clustering: {k_min: 2, k_max: 6, seed: 42}\nengine: {dbt_run_folders_kept: 1}\n")
    env = {
        "SEGMENTATION_DATA_DIR": root / "landing", "SEGMENTATION_WAREHOUSE": root / "warehouse.duckdb",
        "SEGMENTATION_PUBLISHED_DB": root / "segments.duckdb", "SEGMENTATION_CONFIG": root / "segmentation.yaml",
        "SEGMENTATION_ID_SECRET": SECRET,
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, str(value))
        mp.delenv("SEGMENTATION_AS_OF", raising=False)
        from segmentation_pipeline.definitions import defs

        instance = dg.DagsterInstance.ephemeral()
        job = defs.resolve_job_def("segmentation_job")
        first = job.execute_in_process(instance=instance, raise_on_error=False)
        assert first.success
        with duckdb.connect(str(root / "segments.duckdb"), read_only=True) as con:
            first_history = con.execute("SELECT * FROM segment_history ORDER BY user_id").fetch_df()
        log = DBT_PROJECT_DIR / "target" / "history" / "dbt.log"
        log_start = log.stat().st_size if log.exists() else 0
        backfill = defs.resolve_job_def("segment_history_backfill_job").execute_in_process(
            instance=instance, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": BACKFILL[0], "dagster/asset_partition_range_end": BACKFILL[1]},
        )
        assert backfill.success
        after_backfill = query(root, SLICES_QUERY)
        backfill_parses = full_parses(log, log_start)
        again = job.execute_in_process(instance=instance, raise_on_error=False)
        assert again.success
        yield {"root": root, "first_history": first_history, "again": again, "after_backfill": after_backfill,
               "env": env, "backfill_parses": backfill_parses, "first": first}


def full_parses(log: Path, start: int) -> list[bool]:
    """For each dbt invocation logged in `log` after byte `start`: did dbt re-parse the whole project?"""
    parses: dict[str, bool] = {}
    with log.open(encoding="utf-8") as lines:
        lines.seek(start)
        for line in lines:
            if line.startswith("{"):
                info = json.loads(line)["info"]
                parses[info["invocation_id"]] = parses.get(info["invocation_id"], False) or (
                    info["name"] == "UnableToPartialParse")
    return list(parses.values())


def query(root: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(root / "segments.duckdb"), read_only=True) as con:
        return con.execute(sql).fetch_df()


def token(user_id: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def warehouse_history(root: Path, secret: str) -> pd.DataFrame:
    """The warehouse history as the published table should hold it: ids replaced by their tokens."""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        history = con.execute("SELECT * FROM history.segment_history").fetch_df()
    history["user_id"] = [token(u, secret) for u in history["user_id"]]
    return history.sort_values(["as_of_date", "user_id"], ignore_index=True)


def test_a_night_writes_only_its_own_date_and_carries_the_others_over(history_workspace):
    root, before = history_workspace["root"], history_workspace["after_backfill"].set_index("d")
    after = query(root, SLICES_QUERY).set_index("d")
    assert after.index.tolist() == [*BACKFILL, DEMO_AS_OF]
    # The backfilled dates were written by the backfill's publication and copied unchanged since.
    for day in BACKFILL:
        assert after.loc[day, "published_at"] == before.loc[day, "published_at"]
        assert after.loc[day, "slice_id"] == before.loc[day, "slice_id"]
    # The re-run date got a new slice and was written again.
    assert after.loc[DEMO_AS_OF, "slice_id"] != before.loc[DEMO_AS_OF, "slice_id"]
    assert after.loc[DEMO_AS_OF, "published_at"] > before.loc[DEMO_AS_OF, "published_at"]
    materialized = history_workspace["again"].asset_materializations_for_node("publish_segments")
    metadata = next(m.metadata for m in materialized if m.asset_key == dg.AssetKey("segment_history"))
    assert metadata["dates_written"].value == DEMO_AS_OF
    assert metadata["dates_carried_over"].value == len(BACKFILL)
    # What readers get is exactly the whole warehouse history, as if it had been written from scratch.
    published = query(root, HISTORY_QUERY)
    pd.testing.assert_frame_equal(published, warehouse_history(root, SECRET), check_dtype=False)
    assert after["users"].to_dict() == published.groupby(published["as_of_date"].astype(str)).size().to_dict()


def test_a_new_secret_or_a_lost_file_rewrites_every_date(history_workspace, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(history_workspace["root"], root, ignore=shutil.ignore_patterns("landing"))
    env = {key: str(value).replace(str(history_workspace["root"]), str(root))
           for key, value in history_workspace["env"].items()}
    dates = [*BACKFILL, DEMO_AS_OF]

    same = publish(load_settings(env), record_current=False).publication.history
    assert (same.written, same.carried) == ([], 3)
    pd.testing.assert_frame_equal(query(root, HISTORY_QUERY), warehouse_history(root, SECRET), check_dtype=False)

    env["SEGMENTATION_ID_SECRET"] = "another-secret"
    rotated = publish(load_settings(env), record_current=False).publication.history
    assert (rotated.written, rotated.carried) == (dates, 0)
    published = query(root, HISTORY_QUERY)
    pd.testing.assert_frame_equal(published, warehouse_history(root, "another-secret"), check_dtype=False)
    # The labels and the history share the new tokens.
    assert set(query(root, "SELECT user_id FROM segment_labels")["user_id"]) <= set(published["user_id"])

    # A file published by a version without the slice list, and a deleted file: both rewritten in full.
    with duckdb.connect(str(root / "segments.duckdb")) as con:
        con.execute("DROP TABLE segment_history_slices")
    upgraded = publish(load_settings(env), record_current=False).publication.history
    assert (upgraded.written, upgraded.carried) == (dates, 0)
    (root / "segments.duckdb").unlink()
    rebuilt = publish(load_settings(env), record_current=False).publication.history
    assert (rebuilt.written, rebuilt.carried) == (dates, 0)
    pd.testing.assert_frame_equal(query(root, HISTORY_QUERY), published)


def test_rerunning_a_date_replaces_its_slice(history_workspace):
    root = history_workspace["root"]
    counts = query(root, "SELECT as_of_date::VARCHAR AS d, count(*) AS n, count(DISTINCT user_id) AS users "
                         "FROM segment_history GROUP BY 1 ORDER BY 1")
    assert counts["d"].tolist() == [*BACKFILL, DEMO_AS_OF]
    assert (counts["n"] == counts["users"]).all()  # one row per user and date, no duplicates
    labels = query(root, "SELECT count(*) AS n FROM segment_labels")["n"].item()
    assert counts.set_index("d").loc[DEMO_AS_OF, "n"] == labels
    again = query(root, f"SELECT * FROM segment_history WHERE as_of_date = '{DEMO_AS_OF}' ORDER BY user_id")
    first = history_workspace["first_history"]
    assert again["user_id"].tolist() == first["user_id"].tolist()
    assert again["segment_id"].tolist() == first["segment_id"].tolist()


def test_backfill_gives_one_slice_per_date_with_fewer_users_in_the_past(history_workspace):
    root = history_workspace["root"]
    counts = query(root, "SELECT as_of_date::VARCHAR AS d, count(*) AS n, count(DISTINCT segment_id) AS k "
                         "FROM segment_history GROUP BY 1 ORDER BY 1").set_index("d")
    assert counts.loc[BACKFILL[0], "n"] <= counts.loc[BACKFILL[1], "n"] <= counts.loc[DEMO_AS_OF, "n"]
    assert counts.loc[BACKFILL[0], "n"] > 1000
    assert (counts["k"] == counts.loc[DEMO_AS_OF, "k"]).all()
    # Users can only exist on a past date if they still exist today, and most stay in their segment.
    moves = query(root, f"SELECT * FROM segment_moves('{BACKFILL[1]}', '{DEMO_AS_OF}')")
    assert "(not present)" not in set(moves["to_segment_name"])
    stayed = moves[moves["from_segment_id"] == moves["to_segment_id"]]["users"].sum()
    assert stayed / moves["users"].sum() > 0.8


def test_published_migration_matches_the_history(history_workspace):
    root = history_workspace["root"]
    migration = query(root, "SELECT * FROM segment_migration")
    assert set(migration["from_date"].astype(str)) == {BACKFILL[1]}
    assert set(migration["to_date"].astype(str)) == {DEMO_AS_OF}
    history = query(root, "SELECT user_id, as_of_date::VARCHAR AS d, segment_id FROM segment_history")
    before = history[history["d"] == BACKFILL[1]].set_index("user_id")["segment_id"]
    after = history[history["d"] == DEMO_AS_OF].set_index("user_id")["segment_id"]
    pairs = pd.concat([before.rename("f"), after.rename("t")], axis=1)
    expected = pairs.groupby(["f", "t"], dropna=False).size()
    expected = expected[expected >= 10]  # small-group suppression (min_group_size 10)
    got = migration.set_index(["from_segment_id", "to_segment_id"])["users"]
    assert sorted(got.tolist()) == sorted(expected.tolist())
    assert migration["users"].min() >= 10


def test_effects_count_purchases_after_each_date(history_workspace, demo_landing):
    root = history_workspace["root"]
    effects = query(root, "SELECT * FROM segment_effects WHERE as_of_date = DATE '2026-06-23'")
    orders = pd.read_csv(demo_landing / "orders.csv", parse_dates=["ordered_at"])
    window = orders[(orders["status"] == "completed") & (orders["ordered_at"] >= "2026-06-24")
                    & (orders["ordered_at"] < "2026-07-01")]
    buyers = {token(u) for u in window["user_id"].unique()}
    history = query(root, "SELECT user_id, segment_id FROM segment_history WHERE as_of_date = DATE '2026-06-23'")
    history["bought"] = history["user_id"].isin(buyers)
    expected = history.groupby("segment_id")["bought"].sum()
    got = effects.set_index("segment_id")["purchasers"]
    assert got.to_dict() == {k: v for k, v in expected.to_dict().items() if k in got.index}
    assert effects["purchase_rate"].between(0, 1).all()


def test_ids_are_hmac_tokens_consistent_across_tables_and_exports(history_workspace, demo_landing):
    root = history_workspace["root"]
    raw_ids = pd.read_csv(demo_landing / "users.csv", usecols=["user_id"])["user_id"]
    labels = query(root, "SELECT user_id FROM segment_labels")["user_id"]
    assert set(labels) <= {token(u) for u in raw_ids}
    assert not set(labels) & set(raw_ids)
    past = query(root, f"SELECT user_id FROM segment_history WHERE as_of_date = '{BACKFILL[0]}'")["user_id"]
    assert set(past) <= set(labels)  # the same token for a user on every date
    export_ids = set()
    for path in (root / "exports" / DEMO_AS_OF).glob("segment_*.csv"):
        with path.open() as handle:
            export_ids |= {row["user_id"] for row in csv.DictReader(handle)}
    assert export_ids == set(labels)


def test_no_pii_in_any_published_table_or_export(history_workspace, demo_landing):
    root = history_workspace["root"]
    users = pd.read_csv(demo_landing / "users.csv")
    pii_values = {str(v) for c in PII_COLUMNS for v in users[c].dropna()}
    assert len(pii_values) > 1000
    with duckdb.connect(str(root / "segments.duckdb"), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns").fetchall()
        assert {c for _, c, _ in columns}.isdisjoint(PII_COLUMNS)
        for table, column, data_type in columns:
            if data_type.startswith("VARCHAR"):
                values = {str(v[0]) for v in con.execute(f'SELECT DISTINCT "{column}" FROM {table}').fetchall()}
                assert not values & pii_values, f"{table}.{column} holds PII"
    exports = list((root / "exports" / DEMO_AS_OF).glob("segment_*.csv"))
    assert exports
    for path in exports:
        text = path.read_text()
        assert not any(value in text for value in list(pii_values)[:2000]), path


def test_exports_one_file_per_segment(history_workspace):
    root = history_workspace["root"]
    folder = root / "exports" / DEMO_AS_OF
    sizes = query(root, "SELECT segment_id, count(*) AS n FROM segment_labels GROUP BY 1").set_index("segment_id")["n"]
    files = sorted(folder.glob("segment_*.csv"))
    assert len(files) == len(sizes)
    for path in files:
        segment_id = int(path.name.split("_")[1])
        rows = pd.read_csv(path)
        assert len(rows) == sizes[segment_id]
        assert list(rows.columns) == ["user_id", "segment_id", "segment_name", "value_tier", "tags",
                                      "churn_probability", "rfm_segment", "lifecycle_stage", "as_of_date"]
    assert (folder / "manifest.json").exists()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no half-written folder left


def test_summaries_and_rules_are_published_per_date(history_workspace):
    root = history_workspace["root"]
    summary = query(root, "SELECT * FROM segment_summary")
    assert set(summary["as_of_date"].astype(str)) == {*BACKFILL, DEMO_AS_OF}
    latest = summary[summary["as_of_date"].astype(str) == DEMO_AS_OF]
    assert latest["share"].sum() == pytest.approx(1.0, abs=0.01)
    assert latest["revenue_share_90d"].sum() == pytest.approx(1.0, abs=0.01)
    assert latest["users"].min() >= 10
    rfm = query(root, "SELECT * FROM rfm_summary")
    assert rfm["users"].min() >= 10 and len(rfm) >= 5
    rules = query(root, "SELECT * FROM segment_associations")
    assert {"segment_name", "antecedent", "consequent", "support", "confidence", "lift"} <= set(rules.columns)
    assert (rules["rule_baskets"] >= 10).all()


def test_backfill_refuses_dates_after_the_data(history_workspace):
    from segmentation_pipeline.backfill import BackfillError, check_dates

    with pytest.raises(BackfillError, match="after the current as-of date 2026-06-30"):
        check_dates([date(2026, 7, 2)], date(2026, 6, 30))


def test_each_backfilled_date_after_the_first_parses_dbt_partially(history_workspace):
    """The as-of date reaches dbt through the environment, so the vars of the history build do not
    change from one date to the next and dbt reuses its saved parse (a full parse: ~3 s per date)."""
    parses = history_workspace["backfill_parses"]
    assert len(parses) == len(BACKFILL)
    assert parses[1:] == [False] * (len(BACKFILL) - 1)


def test_the_nightly_build_keeps_the_configured_dbt_run_folders_with_an_info_level_log(history_workspace):
    """dagster-dbt gives every build its own target folder and never deletes one (about 5 MB a night);
    with engine.dbt_run_folders_kept: 1 only the last run's is left. Its dbt.log is at info level: what
    ran and how it ended, without dbt's debug lines (every statement and connection, 3,600 lines a night)."""
    first, again = history_workspace["first"], history_workspace["again"]
    folders = sorted(p.name for p in (DBT_PROJECT_DIR / "target").glob("dbt_models-*"))
    assert len(folders) == 1 and folders[0].startswith(f"dbt_models-{again.run_id[:7]}-")
    assert not any(name.startswith(f"dbt_models-{first.run_id[:7]}-") for name in folders)
    assert (DBT_PROJECT_DIR / "target" / "history").is_dir()  # the backfill's folder is not a nightly build's
    lines = [json.loads(line)["info"] for line in (DBT_PROJECT_DIR / "target" / folders[0] / "dbt.log").open()]
    levels = {info["level"] for info in lines}
    assert "debug" not in levels and "info" in levels
    assert any(info["name"] == "LogModelResult" for info in lines)  # each model's outcome is still there

"""The benchmark harness (benchmarks/, `make bench`) still runs end to end: a tiny shop through our
pipeline, the naive baseline and the DuckDB floor. No timing is asserted - only that every stage
was measured (positive time and memory) and the comparisons were computed."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from benchmarks import landing
from benchmarks.stages import STAGES

REPO = Path(__file__).resolve().parents[1]
SMOKE_USERS = "2000"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", SMOKE_USERS,
         "--data-root", str(root / "data"), "--results-dir", str(root / "results")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = list((root / "results").glob("*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


@pytest.mark.parametrize("program", ["ours", "baseline", "floor"])
def test_every_stage_has_time_and_memory(results: dict, program: str) -> None:
    result = results["results"][program]
    assert result["returncode"] == 0
    assert result["wall_seconds"] > 0 and result["peak_rss_bytes"] > 0 and result["cpu_seconds"] > 0
    rows = {row["stage"]: row for row in result["stages"]}
    for stage, _ in STAGES[program]:
        assert stage in rows, f"{program}: stage {stage} missing"
        assert rows[stage]["seconds"] > 0, f"{program}: stage {stage} has no time"
        assert rows[stage]["peak_rss_bytes"] > 0, f"{program}: stage {stage} has no memory"
    assert sum(r["seconds"] for r in rows.values()) == pytest.approx(result["wall_seconds"], rel=0.01)


def test_ours_measured_every_step_and_probe(results: dict) -> None:
    details = results["results"]["ours"]["details"]
    assert details["run_status"] == "SUCCESS"
    assert details["missing_probes"] == []
    assert {inv["command"] for inv in details["dbt_invocations"]} == {"build", "run"}
    assert not [row["stage"] for row in results["results"]["ours"]["stages"] if row["stage"].startswith("other:")], (
        "a new Dagster step: give it a stage in benchmarks/stages.py (step_stage, OURS_STAGES)"
    )


def test_comparisons_machine_and_reproduce(results: dict) -> None:
    c = results["comparisons"]
    for key in ("speedup_vs_baseline", "memory_vs_baseline", "feature_matrix_vs_floor", "landing_to_features_vs_floor"):
        assert c[key] > 0, key
    assert 0 < c["orchestration_overhead"]["share"] < 1
    assert {t["status"] for t in results["targets"]} <= {"met", "not met", "not measured"}
    machine = results["machine"]
    assert machine["logical_cores"] > 0 and machine["ram_bytes"] > 0 and machine["cpu_model"]
    assert machine["libraries"]["dagster"] and machine["libraries"]["duckdb"]
    assert results["data"]["rows"]["events"] > 0 and results["data"]["per_user"]["events"] > 0
    assert results["reproduce"].startswith("make bench SIZE=")


def test_one_new_day_split(tmp_path: Path) -> None:
    """--incremental-day's data: history before the day plus the day's rows, nothing lost or doubled."""
    from segmentation_pipeline.demo_data import generate

    generate(users=300, seed=3, out_dir=tmp_path / "shop", truth_dir=tmp_path / "truth", as_of="2026-07-01")
    split = landing.split_day(tmp_path / "shop", date(2026, 7, 1), tmp_path / "split")
    import duckdb

    for table in landing.TABLES:
        delivered = duckdb.sql(
            f"SELECT count(*) FROM read_csv({[str(f) for f in landing.table_files(tmp_path / 'shop', table)]})"
        ).fetchone()[0]
        assert split.base_rows[table] + split.day_rows[table] == delivered, table
    assert split.day_rows["events"] > 0 and split.day_rows["orders"] > 0
    day_events = list((split.day / "events").glob("*.csv"))
    assert duckdb.sql(
        f"SELECT min(occurred_at::DATE) FROM read_csv({[str(f) for f in day_events]})"
    ).fetchone()[0] == date(2026, 7, 1)


def test_refit_cadence_config(tmp_path: Path) -> None:
    """--refit-every-days N runs the job with both model cadences set, the rest of the config kept."""
    import yaml

    from benchmarks.run import run_config

    (tmp_path / "segmentation.yaml").write_text("clustering: {k_max: 5}\nchurn: {horizon_days: 60}\n")
    assert run_config(tmp_path, None) == (tmp_path / "segmentation.yaml").read_text()
    config = yaml.safe_load(run_config(tmp_path, 7))
    assert config["clustering"] == {"k_max": 5, "refit_every_days": 7}
    assert config["churn"] == {"horizon_days": 60, "retrain_every_days": 7}


def test_night_pairs_runs_each_variant_from_the_same_saved_state(tmp_path: Path) -> None:
    """benchmarks.night_pairs (BENCHMARKS.md's paired nights) still runs: one pair at 2k users, variant B
    with an environment variable of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.night_pairs", "--size", SMOKE_USERS, "--pairs", "1",
         "--env-b", "DBT_LOG_LEVEL_FILE=debug",
         "--data-root", str(tmp_path / "data"), "--results-dir", str(tmp_path / "results")],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [file] = list((tmp_path / "results").glob("*-night-pairs-*.json"))
    report = json.loads(file.read_text())
    assert [(r["pair"], r["variant"]) for r in report["runs"]] == [(1, "A"), (1, "B")]
    assert all(r["wall_seconds"] > 0 and r["cpu_seconds"] > 0 and r["peak_rss_bytes"] > 0 for r in report["runs"])
    assert report["variants"]["B"]["env"] == {"DBT_LOG_LEVEL_FILE": "debug"} and report["variants"]["A"]["env"] == {}
    assert len(report["wall"]["a_minus_b_each"]) == 1
    assert report["day_rows"]["events"] > 0

"""The code location's shape: an accidental rename of an asset, job or schedule shows up here."""

from __future__ import annotations

from segmentation_pipeline.definitions import defs

TABLES = ("orders", "order_items", "events", "users", "reviews")
EXPECTED_GROUPS = {
    "ingest": {"raw/orders", "raw/order_items", "raw/events", "raw/users", "raw/reviews"},
    "staging": {
        *(f"{layer}_shop__{t}{suffix}" for t in TABLES for layer, suffix in (("stg", ""), ("base", "_checked"), ("quarantine", ""))),
        "dq_table_counts", "dq_quarantine_reasons", "rfm_segment_map", "sentiment_lexicon", "accepted_event_types",
    },
    "models": {"user_rfm_segments", "user_segments", "churn_scores", "association_rules"},
    "publish": {"segment_labels", "segment_history", "segment_summary", "rfm_summary", "segment_migration",
                "segment_effects", "segment_associations", "segment_exports"},
    "history": {"segment_history_backfill"},
}


def test_asset_groups():
    groups: dict[str, set[str]] = {}
    for spec in defs.resolve_all_asset_specs():
        groups.setdefault(spec.group_name, set()).add(spec.key.to_user_string())
    for group, keys in EXPECTED_GROUPS.items():
        assert groups[group] == keys, group
    assert "user_features" in groups["features"]
    assert all(key.startswith("int_") for key in groups["features"] - {"user_features"})
    assert set(groups) == {"ingest", "staging", "features", "models", "publish", "history"}


def test_every_asset_is_described():
    undocumented = [s.key.to_user_string() for s in defs.resolve_all_asset_specs() if not s.description]
    assert undocumented == []


def test_job_schedule_and_checks():
    job = defs.resolve_job_def("segmentation_job")
    schedule = defs.resolve_schedule_def("nightly_segmentation")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == job.name
    check_keys = defs.resolve_asset_graph().asset_check_keys
    checked_assets = {k.asset_key.to_user_string() for k in check_keys}
    assert {"user_features", "user_rfm_segments", "segment_labels"} <= checked_assets
    assert "segment_history_backfill" not in {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    backfill = defs.resolve_job_def("segment_history_backfill_job")
    assert backfill.partitions_def is not None
    sensor = defs.resolve_sensor_def("new_landing_files")
    assert sensor.job_name == job.name
    blocking = {k.name for k in check_keys if defs.resolve_asset_graph().get_check_spec(k).blocking}
    assert {f"landing_{t}_quality" for t in TABLES} | {"user_features_quality", "published_labels_quality"} <= blocking


def test_dbt_resource_knows_its_version_without_a_subprocess(monkeypatch):
    """dagster-dbt asks `dbt --version` on every invocation; ours reads the installed dbt-core (same answer)."""
    import dagster_dbt.core.resource as dbt_resource
    from dagster_dbt import DbtCliResource

    from segmentation_pipeline.defs.dbt import SegmentationDbtCli, dbt_executable, dbt_project

    asked = DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())._cli_version

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"subprocess started: {args}")

    monkeypatch.setattr(dbt_resource, "check_output", no_subprocess)
    ours = defs.resources["dbt"]
    assert isinstance(ours, SegmentationDbtCli)
    assert SegmentationDbtCli(project_dir=dbt_project(), dbt_executable=dbt_executable())._cli_version == asked


def test_dbt_invocations_load_no_dbt_adapter_into_the_dagster_process(tmp_path):
    """dagster-dbt would load dbt's profile and DuckDB adapter in-process (1.2 s per invocation) for
    row-count and column metadata this project never fetches; the invocation itself is unchanged."""
    ours = defs.resources["dbt"]
    invocation = ours.cli(["parse", "--quiet"], target_path=tmp_path / "target")
    invocation.wait()
    assert invocation.is_successful()
    assert invocation.adapter is None
    assert (tmp_path / "target" / "manifest.json").exists()


def test_loading_the_code_location_freezes_its_objects_for_the_garbage_collector():
    """Full collections walked every loaded object: during loading, in the run and at exit (issue #6).
    A process that loads the code location keeps its collector on, with what it loaded frozen."""
    import subprocess
    import sys

    code = "import gc; from segmentation_pipeline.definitions import defs; print(gc.get_freeze_count(), gc.isenabled())"
    frozen, enabled = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(frozen) > 100_000
    assert enabled == "True"


GRAPH_SCRIPT = """
import json, sys
if sys.argv[1] == "dbt-core-loaded-first":
    import dbt.version  # dagster-dbt then imports dbt-core, as it does by default
from segmentation_pipeline.definitions import defs
import dagster_dbt.compat
loaded = [m for m in sys.modules if m == "dbt" or m.startswith("dbt.")]
import dbt.version  # still importable after the code location has loaded
graph = defs.resolve_asset_graph()
print(json.dumps({
    "dagster_dbt_saw_dbt_core": dagster_dbt.compat.DBT_PYTHON_VERSION is not None,
    "dbt_modules_loaded": len(loaded),
    "assets": sorted([k.to_user_string(), sorted(p.to_user_string() for p in graph.get(k).parent_keys),
                      graph.get(k).group_name] for k in graph.get_all_asset_keys()),
    "checks": sorted([k.asset_key.to_user_string(), k.name, graph.get_check_spec(k).blocking]
                     for k in graph.asset_check_keys),
    "descriptions": sorted([s.key.to_user_string(), s.description] for s in defs.resolve_all_asset_specs()),
}))
"""


def test_the_code_location_loads_no_dbt_core_and_builds_the_same_asset_graph():
    """dbt runs as a subprocess: importing dbt-core into each Dagster process cost 1.5-3 s and 40 MB
    (issue #6, segmentation_pipeline/dbt_core_import.py). dagster-dbt without it builds the same graph."""
    import json
    import subprocess
    import sys

    def load(mode: str) -> dict:
        out = subprocess.run([sys.executable, "-c", GRAPH_SCRIPT, mode], capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    ours, with_dbt_core = load("as-the-pipeline-loads-it"), load("dbt-core-loaded-first")
    assert (ours.pop("dagster_dbt_saw_dbt_core"), ours.pop("dbt_modules_loaded")) == (False, 0)
    assert with_dbt_core.pop("dagster_dbt_saw_dbt_core") and with_dbt_core.pop("dbt_modules_loaded") > 100
    assert len(ours["checks"]) > 90 and len(ours["assets"]) > 40
    assert ours == with_dbt_core


def test_the_pipeline_runs_dbt_through_its_frozen_entry_point(tmp_path):
    """`segmentation-dbt` is dbt itself, started with dbt's modules frozen (segmentation_pipeline/dbt_cli.py)."""
    import subprocess
    from pathlib import Path

    from segmentation_pipeline.defs.dbt import dbt_executable

    executable = dbt_executable()
    assert Path(executable).name == "segmentation-dbt"
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: probe\nversion: '1.0'\nprofile: probe\n")
    (project / "profiles.yml").write_text(
        f"probe:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {tmp_path / 'probe.duckdb'}\n"
    )
    (project / "models").mkdir()
    (project / "models" / "answer.sql").write_text("select 42 as answer")
    result = subprocess.run(
        [executable, "run", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True, text=True, cwd=project,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    import duckdb

    with duckdb.connect(str(tmp_path / "probe.duckdb"), read_only=True) as con:
        assert con.sql("select answer from answer").fetchone() == (42,)


LAZY_SCRIPT = """
import gc, json, sys
import segmentation_pipeline.definitions
heavy = ("sklearn", "scipy", "matplotlib", "great_expectations", "mlxtend")
at_load = [name for name in heavy if name in sys.modules]
frozen = gc.get_freeze_count()
from segmentation_pipeline.preload import LATER_MODULES, preload_in_background
preload_in_background(("no_such_module_for_the_test",) + LATER_MODULES).join()
print(json.dumps({
    "at_load": at_load,
    "after_preload": [name for name in heavy if name in sys.modules],
    "later_modules_missing": [name for name in LATER_MODULES if name not in sys.modules],
    "frozen_more": gc.get_freeze_count() > frozen,
}))
"""


def test_the_code_location_loads_without_the_steps_heavy_modules_and_the_dbt_step_preloads_them():
    """Loading the code location (each run's start, the UI) no longer imports scikit-learn, SciPy, matplotlib or
    GX (about 4 s); the dbt step imports them in a background thread while dbt builds (issue #6, preload.py).
    A module that cannot be imported does not stop the others."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", LAZY_SCRIPT], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["at_load"] == []
    assert result["after_preload"] == ["sklearn", "scipy", "matplotlib", "great_expectations", "mlxtend"]
    assert result["later_modules_missing"] == []
    assert result["frozen_more"]

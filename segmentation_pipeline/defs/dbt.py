"""dbt models as assets (staging and features groups); dbt tests become asset checks."""


import functools
import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from segmentation_pipeline.ingest.as_of import resolve_as_of
from segmentation_pipeline.ingest.errors import IngestionError
from segmentation_pipeline.preload import preload_in_background
from segmentation_pipeline.settings import Settings, load_settings
from segmentation_pipeline.warehouse import dbt_environment, warehouse_connection

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
AS_OF_ENV = "SEGMENTATION_DBT_AS_OF_DATE"  # read by macros/as_of_date.sql when the var is not given
PARSED_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "tests")
GROUP_BY_FOLDER = {"staging": "staging", "intermediate": "features", "marts": "features"}
MODEL_GROUPS = {"user_rfm_segments": "models"}
OWNERS = ["team:data"]
# Dagster has no group descriptions (an asset group is only a name), so every dbt asset's
# description opens with where it lives and what its group is for.
GROUP_PURPOSE = {
    "staging": (
        "Staging group: every landing row typed and checked by dbt; clean rows in schema `staging`, "
        "quarantined rows and data-quality counts in `quarantine`, reference seeds in `seeds`."
    ),
    "features": (
        "Features group: per-user behaviour, RFM, value and engagement features (dbt intermediate models and "
        "the mart `user_features`, one row per user) that the models group trains on."
    ),
    "models": (
        "Models group: RFM scores and lifecycle (dbt), behavioural segments and churn risk (scikit-learn), "
        "combined by the publish group into `segment_labels`."
    ),
}


def dbt_executable() -> str:
    """The dbt installed beside this Python, so an un-activated venv still finds it.

    `segmentation-dbt` (this package's entry point, `dbt_cli.py`) is dbt with its imported modules
    frozen for the garbage collector; an install from before it existed uses the `dbt` script.
    """
    bin_dir = Path(sys.executable).parent
    for name in ("segmentation-dbt", "dbt"):
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    return shutil.which("dbt") or "dbt"


class SegmentationDbtCli(DbtCliResource):
    """DbtCliResource without two costs dagster-dbt adds to every invocation (issue #6):

    - the `dbt --version` subprocess (2-3 s): when the executable is the dbt installed beside this
      Python, its version is the installed dbt-core's. Any other executable is asked as before.
    - the in-process dbt adapter (1.2 s: dbt's profile, project and DuckDB adapter loaded into the
      Dagster process). dagster-dbt uses it only for `fetch_row_counts()` and
      `fetch_column_metadata()`, which this project does not call; without it those are no-ops.
    """

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def _manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    for name in PARSED_INPUTS:
        path = project.project_dir / name
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        if any(f.stat().st_mtime > built for f in files):
            return True
    return False


@functools.cache
def dbt_project() -> DbtProject:
    """The dbt project, with its manifest parsed when missing or older than the sources.

    Parsing here (not only under `dagster dev`) lets `dagster job execute` work on a fresh clone.
    """
    settings = load_settings()
    os.environ.setdefault("SEGMENTATION_WAREHOUSE", str(settings.warehouse))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    if _manifest_is_stale(project):
        # The same vars and profile as the nightly build, so that build can parse partially
        # (dbt re-parses the whole project when either differs from the saved parse).
        with dbt_environment(settings):
            SegmentationDbtCli(project_dir=project, dbt_executable=dbt_executable()).cli(
                ["parse", "--quiet", "--vars", json.dumps(static_dbt_vars(settings))], target_path=project.target_path
            ).wait()
    return project


class SegmentationTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Any, unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest.get("nodes", {}).get(unique_id)
        if node is None:  # sources are ingest assets
            return spec
        folder = node["fqn"][1] if len(node["fqn"]) > 2 else ""
        group = MODEL_GROUPS.get(node["name"], GROUP_BY_FOLDER.get(folder, "staging"))
        kind = "seed, loaded from" if node["resource_type"] == "seed" else f"{node['resource_type']}, built from"
        where = (
            f"**Table `{node['schema']}.{node.get('alias') or node['name']}`** of the warehouse (SEGMENTATION_WAREHOUSE, "
            f"default data/warehouse.duckdb); dbt {kind} `dbt_project/{node['original_file_path']}`. "
            f"{GROUP_PURPOSE[group]}"
        )
        description = spec.description or ""
        if node["resource_type"] == "seed":  # dagster-dbt appends an empty "Raw SQL" block to seeds
            description = description.split("#### Raw SQL:")[0].rstrip()
        if node["resource_type"] == "seed" and not any(w in description.lower() for w in ("grain", "one row per")):
            where += " Grain: one row per line of the seed CSV."
        # Keys are model names (`user_features`), not schema-prefixed, so Python assets can name them.
        return spec.replace_attributes(
            key=dg.AssetKey(node["name"]), group_name=group, owners=OWNERS, description=f"{where}\n\n{description}"
        )


def static_dbt_vars(settings: Settings) -> dict[str, Any]:
    """The dbt vars that come from segmentation.yaml (they change only when the config does)."""
    return {"amount_ceiling": settings.config.quality.amount_ceiling, **settings.config.lifecycle.model_dump()}


def dbt_vars(settings: Settings) -> dict[str, Any]:
    """The static vars plus the run's as-of date (resolved from the warehouse)."""
    with warehouse_connection(settings, read_only=True) as con:
        try:
            as_of = resolve_as_of(con, settings.as_of_override, datetime.now())
        except IngestionError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
    return {"as_of_date": as_of.isoformat(), **static_dbt_vars(settings)}


def build_as_of(
    dbt: DbtCliResource, settings: Settings, as_of: date, schema_suffix: str, select: str, run_name: str,
    quiet: bool = False,
) -> None:
    """Rebuild the as-of-dependent models in `select` as of a past date into `*<schema_suffix>` schemas.

    staging/base (the row checks) does not depend on the as-of date: the main build's tables are
    reused. The date is given, so no as-of resolution is needed (only the static vars). As in the
    nightly build, the date goes through the environment, not --vars: the vars stay the same from one
    date to the next, so the next build of `run_name` (the next churn retrain, the next date of a
    backfill) parses partially from the parse saved in its target folder instead of in full.
    """
    variables = {**static_dbt_vars(settings), "schema_suffix": schema_suffix}
    with dbt_environment(settings, **{AS_OF_ENV: as_of.isoformat()}):
        dbt.cli(
            ["run", "--select", select, "--exclude", "path:models/staging/base", "--vars", json.dumps(variables),
             *(["--quiet"] if quiet else [])],
            manifest=dbt_project().manifest_path,
            target_path=dbt_project().project_dir / "target" / run_name,
        ).wait()


def prune_run_folders(current: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest folders of the kind of `current` (one `dbt build`'s target folder).

    dagster-dbt gives every invocation its own target folder, `<op>-<run id>-<uuid>` (its dbt.log,
    run_results.json, manifest and compiled SQL), and never deletes one: 7.7-8.8 MB a night with dbt's
    debug log, about 4.8 MB at info level. `current` is always kept; the rest go oldest first, by modification time.
    """
    prefix = current.name.split("-")[0] + "-"
    others = [p for p in current.parent.glob(f"{prefix}*") if p.is_dir() and p != current]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = others[max(keep - 1, 0):]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


@dbt_assets(
    manifest=dbt_project().manifest_path,
    project=dbt_project(),
    dagster_dbt_translator=SegmentationTranslator(),
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Staging, intermediate and mart models built with `dbt build` for the run's as-of date."""
    settings = load_settings()
    variables = dbt_vars(settings)
    context.log.info(f"as-of date {variables['as_of_date']}; warehouse {settings.warehouse}")
    # The as-of date changes every night. As a --vars value it would make dbt re-parse the whole
    # project each time; the as_of_date() macro reads it from the environment at execution instead.
    with dbt_environment(settings, **{AS_OF_ENV: variables.pop("as_of_date")}):
        invocation = dbt.cli(["build", "--vars", json.dumps(variables)], context=context)
    preload_in_background()  # the later steps' imports overlap with the build
    try:
        yield from invocation.stream()
    finally:  # a failed build's folder is the newest: it is kept for reading
        kept = settings.config.engine.dbt_run_folders_kept
        removed = prune_run_folders(invocation.target_path, kept)
        if removed:
            context.log.info(f"removed {len(removed)} older dbt run folder(s) from {invocation.target_path.parent}; "
                             f"kept the {kept} newest (engine.dbt_run_folders_kept)")


defs = dg.Definitions(
    assets=[dbt_models],
    resources={"dbt": SegmentationDbtCli(project_dir=dbt_project(), dbt_executable=dbt_executable())},
)

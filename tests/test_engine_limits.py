"""DuckDB resource limits (`engine` in segmentation.yaml) reach every process that opens the warehouse.

The dbt test runs real dbt on a copy of the project with two extra models: one whose GROUP BY
is far larger than a 30 MB memory limit, so DuckDB must spill to the temp directory, and one
built after it on a new cursor, which reports the settings it runs under. It guards the way the
limits are handed to dbt: set as per-cursor `settings`, the second model failed with "Cannot
switch temporary directory after the current one has been used" (the first 1M-user benchmark).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from segmentation_pipeline.defs.dbt import DBT_PROJECT_DIR, dbt_executable
from segmentation_pipeline.settings import load_settings
from segmentation_pipeline.warehouse import connect, dbt_environment, duckdb_settings, warehouse_connection

SPILLING_MODEL = """
{{ config(materialized='table') }}
select i % 1000003 as k, count(*) as n, max(cast(i as varchar)) as longest
from range(3000000) as t(i)
group by 1
"""

AFTER_SPILL_MODEL = """
{{ config(materialized='table') }}
select
    current_setting('memory_limit') as memory_limit,
    current_setting('temp_directory') as temp_directory,
    current_setting('threads') as threads,
    (select count(*) from {{ ref('zz_spilling') }}) as groups
"""


def _settings(tmp_path: Path, engine: str):
    config = tmp_path / "segmentation.yaml"
    config.write_text(engine)
    return load_settings({
        "SEGMENTATION_CONFIG": str(config),
        "SEGMENTATION_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    })


def test_python_connections_use_the_engine_limits(tmp_path):
    settings = _settings(tmp_path, "engine: {memory_limit: 300MB, threads: 1}\n")
    assert duckdb_settings(settings)["temp_directory"] == str(tmp_path / "duckdb_tmp")
    with connect(str(settings.warehouse), settings) as con:
        limit, temp, threads = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory'), current_setting('threads')"
        ).fetchone()
    assert limit == "286.1 MiB"  # DuckDB shows 300 MB in MiB
    assert temp == str(tmp_path / "duckdb_tmp")
    assert threads == 1


def _storage_version(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        query = "select tags['storage_version'] from duckdb_databases() where path = ?"
        return con.execute(query, [str(path)]).fetchone()[0]


def test_a_new_warehouse_gets_the_configured_storage_format(tmp_path):
    settings = _settings(tmp_path, "engine: {memory_limit: 300MB}\n")
    with warehouse_connection(settings) as con:
        con.execute("create table t as select 1 as x")
    assert _storage_version(settings.warehouse) == "v1.3.0+"
    # Other files (the published one) keep DuckDB's default format, readable by older DuckDB.
    other = tmp_path / "published.duckdb"
    with connect(str(other), settings) as con:
        con.execute("create table t as select 1 as x")
    assert _storage_version(other) == "v1.0.0+"
    # An existing warehouse keeps its format: nothing is rewritten behind the user's back.
    (tmp_path / "old").mkdir()
    old = _settings(tmp_path / "old", "engine: {storage_version: v1.0.0}\n")
    with warehouse_connection(old) as con:
        con.execute("create table t as select 1 as x")
    with warehouse_connection(dataclasses.replace(settings, warehouse=old.warehouse)) as con:
        con.execute("create table u as select 2 as x")
    assert _storage_version(old.warehouse) == "v1.0.0+"


def test_dbt_log_file_level_is_info_unless_the_environment_asks_for_another(tmp_path, monkeypatch):
    settings = _settings(tmp_path, "")
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    with dbt_environment(settings):
        assert os.environ["DBT_LOG_LEVEL_FILE"] == "info"
    assert "DBT_LOG_LEVEL_FILE" not in os.environ
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # e.g. to see every statement dbt sends to DuckDB
    with dbt_environment(settings):
        assert os.environ["DBT_LOG_LEVEL_FILE"] == "debug"


def test_bad_memory_limit_is_a_config_error(tmp_path):
    with pytest.raises(Exception, match="memory_limit"):
        _settings(tmp_path, "engine: {memory_limit: lots}\n")


def test_dbt_keeps_building_after_a_model_spills(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
    (project / "models" / "zz_spilling.sql").write_text(SPILLING_MODEL)
    (project / "models" / "zz_after_spill.sql").write_text(AFTER_SPILL_MODEL)
    settings = _settings(tmp_path, f"engine: {{memory_limit: 30MB, threads: 1, temp_directory: {tmp_path / 'spill'}}}\n")
    before = dict(os.environ)
    with dbt_environment(settings):
        done = subprocess.run(
            [dbt_executable(), "run", "--select", "zz_spilling", "zz_after_spill", "--threads", "1",
             "--project-dir", str(project), "--profiles-dir", str(project),
             "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"},
            capture_output=True, text=True, timeout=600,
        )
    assert done.returncode == 0, done.stdout[-3000:]
    assert dict(os.environ) == before  # the limits were set for the dbt process only

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        limit, temp, threads, groups = con.execute("select * from main.zz_after_spill").fetchone()
    assert (limit, temp, threads, groups) == ("28.6 MiB", str(tmp_path / "spill"), 1, 1_000_003)
    assert _storage_version(settings.warehouse) == "v1.3.0+"  # dbt created the warehouse in the new format

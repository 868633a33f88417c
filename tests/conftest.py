"""Shared fixtures: small generated shops and a real Dagster run of `segmentation_job`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from segmentation_pipeline.demo_data import generate

DEMO_AS_OF = "2026-06-30"
DEMO_USERS = 1500


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated shop (read-only for tests: copy it before changing files)."""
    root = tmp_path_factory.mktemp("demo")
    generate(users=DEMO_USERS, seed=7, out_dir=root / "landing", truth_dir=root / "truth", as_of=DEMO_AS_OF, fmt="csv")
    return root / "landing"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every SEGMENTATION_* path at a fresh temporary folder."""
    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("SEGMENTATION_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("SEGMENTATION_PUBLISHED_DB", str(tmp_path / "segments.duckdb"))
    monkeypatch.setenv("SEGMENTATION_CONFIG", str(tmp_path / "segmentation.yaml"))
    monkeypatch.delenv("SEGMENTATION_AS_OF", raising=False)
    monkeypatch.delenv("SEGMENTATION_ID_SECRET", raising=False)
    (tmp_path / "segmentation.yaml").write_text("clustering: {k_min: 2, k_max: 6, seed: 42}\n")
    return tmp_path


@pytest.fixture
def copy_landing(workspace: Path, demo_landing: Path) -> Callable[..., Path]:
    def _copy(*tables: str) -> Path:
        target = workspace / "landing"
        target.mkdir(exist_ok=True)
        for item in demo_landing.iterdir():
            stem = item.name.split(".")[0]
            if tables and stem not in tables:
                continue
            if item.is_dir():
                shutil.copytree(item, target / item.name)
            else:
                shutil.copy(item, target / item.name)
        return target

    return _copy


def run_segmentation_job() -> dg.ExecuteInProcessResult:
    from segmentation_pipeline.definitions import defs

    job = defs.resolve_job_def("segmentation_job")
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def published_rows(path: Path, sql: str = "SELECT * FROM segment_labels ORDER BY user_id") -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()

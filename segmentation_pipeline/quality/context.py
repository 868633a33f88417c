"""A Great Expectations file context built from the committed `expectations/` folder.

The committed folder is the source of truth (suites, validation definitions and
checkpoints as JSON, editable without Python). Each run copies it to a working folder
under the data directory, so validation results and Data Docs land there and a run
never rewrites the committed files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
COMMITTED = ("great_expectations.yml", "expectations", "validation_definitions", "checkpoints", "plugins")

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def quality_dir(warehouse: Path) -> Path:
    """Working folder for validation results and Data Docs: `<data dir>/quality/gx`."""
    return warehouse.parent / "quality" / "gx"


def prepare_context_dir(target: Path, source: Path = EXPECTATIONS_DIR) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in COMMITTED:
        src, dst = source / name, target / name
        if dst.is_dir():
            shutil.rmtree(dst)
        if src.is_dir():
            shutil.copytree(src, dst)
        elif src.is_file():
            shutil.copy2(src, dst)
    return target


def open_context(target: Path):
    import great_expectations as gx

    return gx.get_context(mode="file", context_root_dir=str(prepare_context_dir(target)))

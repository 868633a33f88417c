"""Where things live, resolved from environment variables at run time.

Relative paths are resolved against the current working directory, so
`make demo`, `dagster dev` and `dagster job execute` run from the repository root
all see the same files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from segmentation_pipeline.config import ConfigError, PipelineConfig, load_config
from segmentation_pipeline.privacy import id_secret_from_env

DEFAULT_DATA_DIR = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_PUBLISHED_DB = "data/segments.duckdb"
DEFAULT_CONFIG = "segmentation.yaml"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    published_db: Path
    models_dir: Path
    exports_dir: Path
    id_secret: str | None  # SEGMENTATION_ID_SECRET: publish HMAC-SHA256 tokens instead of user ids
    config_path: Path
    config: PipelineConfig
    as_of_override: date | None

    def ensure_dirs(self) -> None:
        for path in (self.warehouse.parent, self.published_db.parent, self.models_dir, self.exports_dir):
            path.mkdir(parents=True, exist_ok=True)


def _path(env: Mapping[str, str], name: str, default: str) -> Path:
    return Path(env.get(name) or default).expanduser().resolve()


def _parse_as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"SEGMENTATION_AS_OF={value!r} is not a date; use YYYY-MM-DD.") from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    config_path = _path(env, "SEGMENTATION_CONFIG", DEFAULT_CONFIG)
    if env.get("SEGMENTATION_CONFIG") and not config_path.exists():
        raise ConfigError(f"SEGMENTATION_CONFIG points to {config_path}, which does not exist.")
    config = load_config(config_path)
    warehouse = _path(env, "SEGMENTATION_WAREHOUSE", DEFAULT_WAREHOUSE)
    as_of_env = env.get("SEGMENTATION_AS_OF")
    published_db = _path(env, "SEGMENTATION_PUBLISHED_DB", DEFAULT_PUBLISHED_DB)
    return Settings(
        data_dir=_path(env, "SEGMENTATION_DATA_DIR", DEFAULT_DATA_DIR),
        warehouse=warehouse,
        published_db=published_db,
        models_dir=_path(env, "SEGMENTATION_MODELS_DIR", str(warehouse.parent / "models")),
        exports_dir=_path(env, "SEGMENTATION_EXPORTS_DIR", str(published_db.parent / "exports")),
        id_secret=id_secret_from_env(env),
        config_path=config_path,
        config=config,
        as_of_override=_parse_as_of(as_of_env) if as_of_env else config.as_of,
    )

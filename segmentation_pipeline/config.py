"""The user-editable pipeline configuration (`segmentation.yaml`).

Every key is optional. Table sections map a landing table to its file and rename
columns, e.g. ``orders: {path: cdnow.csv, columns: {user_id: customer_id}}``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TABLE_NAMES = ("orders", "order_items", "events", "users", "reviews")


class ConfigError(ValueError):
    """The configuration file is unreadable or names something that does not exist."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableConfig(_Strict):
    path: str | None = Field(
        default=None,
        description="File, folder or glob relative to the data directory (default: <table>.csv/.parquet or <table>/).",
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Canonical column name -> column name in the file."
    )
    formats: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical timestamp column -> strptime format, e.g. {ordered_at: '%Y%m%d'}.",
    )
    read_options: dict[str, Any] = Field(
        default_factory=dict, description="Extra options for DuckDB's read_csv, e.g. {delim: ';'}."
    )


class ClusteringConfig(_Strict):
    k_min: int = Field(default=2, ge=2)
    k_max: int = Field(default=8, ge=2)
    k: int | None = Field(default=None, ge=2, description="Pin the number of segments instead of choosing it.")
    algorithm: Literal["kmeans", "gmm", "agglomerative", "hdbscan"] | None = Field(
        default=None, description="Pin the algorithm instead of choosing it."
    )
    seed: int = 42
    silhouette_sample_size: int = Field(default=5_000, ge=100)
    refit_every_days: int = Field(
        default=0,
        ge=0,
        description="0: re-cluster every run. N: reuse a model fitted in the last N days and assign users "
        "(including new ones) with its segment classifier.",
    )


class ChurnSettings(_Strict):
    horizon_days: int = Field(default=90, ge=7, description="H: churned = no completed order in the next H days.")
    retrain_every_days: int = Field(
        default=0,
        ge=0,
        description="0: retrain every run. N: score users with a churn model trained in the last N days (same "
        "horizon), skipping the rebuild of the training features and the fit.",
    )


class LifecycleConfig(_Strict):
    new_customer_days: int = Field(default=30, ge=1)
    active_days: int = Field(default=90, ge=1)
    churn_days: int = Field(default=180, ge=1)


class QualityConfig(_Strict):
    max_quarantine_share: float = Field(
        default=0.01, ge=0, le=1, description="Share of a table's rows that may be quarantined before the run stops."
    )
    amount_ceiling: float = Field(default=100_000, gt=0, description="Order amounts / unit prices above this are quarantined.")
    max_rows_validated: int = Field(
        default=500_000, ge=1000,
        description="Larger tables are validated by GX on a repeatable sample of about this size (the quarantine "
        "counts that decide the gate stay exact).",
    )
    validate_new_files_only: bool = Field(
        default=True,
        description="GX validates only the rows of landing files its suite has not passed yet (new or reloaded "
        "files; all of them after a change to the suite or the quality settings). false: every row, every run.",
    )


class ScheduleConfig(_Strict):
    cron: str = "0 2 * * *"
    timezone: str = "UTC"


class PrivacyConfig(_Strict):
    min_group_size: int = Field(
        default=10, ge=1, description="Published groups with fewer users are suppressed (1: off)."
    )
    dp_epsilon: float | None = Field(
        default=None, gt=0, description="Privacy budget for Laplace noise on counts and sums (None: no noise)."
    )
    dp_revenue_cap: float = Field(
        default=1000.0, gt=0, description="Per-user revenue bound used as the sensitivity of revenue sums."
    )
    dp_seed: int = 0


class AnalyticsConfig(_Strict):
    association_min_support: float = Field(default=0.01, gt=0, le=1)
    association_min_confidence: float = Field(default=0.2, gt=0, le=1)
    association_max_len: int = Field(default=3, ge=2)
    exports_format: Literal["csv", "parquet"] = "csv"


class EngineConfig(_Strict):
    memory_limit: str = Field(
        default="4GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB memory limit for each process that opens the warehouse (the pipeline, dbt); "
        "larger joins, sorts and windows spill to temp_directory instead of failing.",
    )
    threads: int | None = Field(
        default=None, ge=1, description="DuckDB threads per process, and the churn model's (None: one per core)."
    )
    temp_directory: str | None = Field(
        default=None, description="Where DuckDB spills (None: a duckdb_tmp folder beside the warehouse)."
    )
    storage_version: str = Field(
        default="v1.3.0", pattern=r"^v\d+\.\d+\.\d+$",
        description="DuckDB storage format of a warehouse the pipeline creates (storage_compatibility_version). "
        "v1.3.0 adds dictionary+FSST string compression: text columns are written about 25% faster, and "
        "the file needs DuckDB 1.3 or later to read. An existing warehouse keeps the format it was created "
        "with; the published file always uses DuckDB's default format, for older readers.",
    )
    dbt_run_folders_kept: int = Field(
        default=14, ge=1,
        description="How many of the nightly build's dbt folders (dbt_project/target/dbt_models-*: that build's "
        "dbt.log, run_results.json, compiled SQL; about 5 MB each) to keep; older ones are deleted after each build.",
    )


class PipelineConfig(_Strict):
    as_of: date | None = None
    orders: TableConfig = TableConfig()
    order_items: TableConfig = TableConfig()
    events: TableConfig = TableConfig()
    users: TableConfig = TableConfig()
    reviews: TableConfig = TableConfig()
    clustering: ClusteringConfig = ClusteringConfig()
    churn: ChurnSettings = ChurnSettings()
    lifecycle: LifecycleConfig = LifecycleConfig()
    quality: QualityConfig = QualityConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    analytics: AnalyticsConfig = AnalyticsConfig()
    engine: EngineConfig = EngineConfig()

    @field_validator("clustering")
    @classmethod
    def _k_range(cls, value: ClusteringConfig) -> ClusteringConfig:
        if value.k_max < value.k_min:
            raise ValueError(f"k_max ({value.k_max}) must be >= k_min ({value.k_min})")
        return value

    def table(self, name: str) -> TableConfig:
        return getattr(self, name)


def load_config(path: Path) -> PipelineConfig:
    """Read `path`; a missing file means all defaults."""
    if not path.exists():
        return PipelineConfig()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}). Fix the file or unset SEGMENTATION_CONFIG.") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, found {type(raw).__name__}.")
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"{path}: invalid configuration: {problems}. Known top-level keys: "
            f"{', '.join(PipelineConfig.model_fields)}."
        ) from exc

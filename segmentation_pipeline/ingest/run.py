"""Ingest one landing table into the warehouse."""

from __future__ import annotations

from segmentation_pipeline.ingest.contract import CONTRACTS
from segmentation_pipeline.ingest.errors import IngestionError
from segmentation_pipeline.ingest.load import LoadReport, create_empty_table, load_table
from segmentation_pipeline.ingest.locate import locate_table_files
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import warehouse_connection


def ingest_table(settings: Settings, table: str) -> LoadReport:
    contract = CONTRACTS[table]
    table_cfg = settings.config.table(table)
    if not settings.data_dir.is_dir():
        raise IngestionError(
            f"Data directory {settings.data_dir} does not exist. Put the landing files there or point "
            "SEGMENTATION_DATA_DIR at the folder that holds them (try `make demo-data` for demo files)."
        )
    files = locate_table_files(table, settings.data_dir, table_cfg.path)
    if not files and contract.is_required:
        raise IngestionError(
            f"{table}: required file missing: expected {table}.csv, {table}.parquet or a {table}/ folder in "
            f"{settings.data_dir} (or set `{table}: {{path: ...}}` in segmentation.yaml)."
        )
    with warehouse_connection(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        if not files:
            return create_empty_table(con, contract)
        report = load_table(con, contract, files, table_cfg, settings.data_dir)
    if contract.is_required and report.rows == 0:
        raise IngestionError(
            f"{', '.join(report.files)}: table '{table}' has no data rows; at least one order is needed. "
            "Check that the export finished and the file has a header plus rows."
        )
    return report

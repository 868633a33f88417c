"""Ingest group: one asset per landing table, loaded into `raw.<table>` of the warehouse."""


import dagster as dg

from segmentation_pipeline.ingest.contract import CONTRACTS, TableContract
from segmentation_pipeline.ingest.errors import IngestionError
from segmentation_pipeline.ingest.run import ingest_table
from segmentation_pipeline.settings import load_settings


def _raw_table_asset(contract: TableContract) -> dg.AssetsDefinition:
    need = "Required" if contract.is_required else "Optional (an empty table when not delivered)"
    description = (
        f"Landing table `{contract.name}` loaded as delivered into `raw.{contract.name}` of the warehouse "
        f"(SEGMENTATION_WAREHOUSE), columns renamed to the landing contract. {need}. "
        f"Grain: one row per delivered row, with `_source_file` and `_source_row` (its row in that file). "
        "Files already loaded by an earlier run and unchanged since (same path, size and modification "
        "time) keep their rows; only new or changed files are read. "
        f"Columns: {', '.join(contract.columns)}. "
        # Dagster has no group descriptions: each asset says what its group is for.
        "Ingest group: the run's first step; a file-level problem (missing "
        "file or column, unreadable file, wrong delimiter) fails it with a message naming the file, column and fix."
    )

    @dg.asset(
        key=["raw", contract.name],
        group_name="ingest",
        kinds={"duckdb", "csv", "parquet"},
        owners=["team:data"],
        description=description,
        tags={"layer": "raw"},
    )
    def _raw_table(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        try:
            report = ingest_table(load_settings(), contract.name)
        except IngestionError as exc:
            context.log.error(str(exc))
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": report.rows,
                "delivered": report.delivered,
                "files": dg.MetadataValue.md("\n".join(f"- `{f}`" for f in report.files) or "not delivered"),
                "files_loaded": len(report.files_loaded),
                "files_unchanged": len(report.files_reused),
                "missing_optional_columns": ", ".join(report.missing_optional_columns) or "none",
                "columns_kept_only_in_raw": ", ".join(report.extra_columns_kept_in_raw) or "none",
            }
        )

    return _raw_table


defs = dg.Definitions(assets=[_raw_table_asset(contract) for contract in CONTRACTS.values()])

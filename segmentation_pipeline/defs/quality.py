"""Data-quality gates as blocking asset checks: landing tables (after dbt classified every row) and user_features."""

from datetime import datetime, timedelta

import dagster as dg
import pandas as pd

from segmentation_pipeline.ingest.contract import CONTRACTS
from segmentation_pipeline.quality.context import EXPECTATIONS_DIR, quality_dir
from segmentation_pipeline.quality.frames import landing_frame, table_frame
from segmentation_pipeline.quality.ledger import files_to_validate, record_passed, suite_signature
from segmentation_pipeline.quality.quarantine import quarantine_counts
from segmentation_pipeline.quality.report import markdown_table
from segmentation_pipeline.quality.validate import SuiteVerdict, run_suite
from segmentation_pipeline.settings import load_settings
from segmentation_pipeline.warehouse import warehouse_connection


def verdict_metadata(verdict: SuiteVerdict, total_rows: int) -> dict:
    metadata = {
        "suite": verdict.suite,
        "rows_validated": verdict.rows_validated,
        "rows_in_table": total_rows,
        "failed_expectations": len(verdict.failed),
        "expectations": dg.MetadataValue.md(markdown_table(verdict.outcomes)),
    }
    if verdict.data_docs:
        metadata["data_docs"] = dg.MetadataValue.path(str(verdict.data_docs))
    return metadata


def _landing_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(f"stg_shop__{table}"),
        name=f"landing_{table}_quality",
        blocking=True,
        description=(
            f"Great Expectations suite `landing_{table}` (expectations/) on the delivered `{table}` rows, and the "
            "quarantine gate: fails, stopping model training and publishing, when the share of quarantined rows "
            "exceeds quality.max_quarantine_share (default 1%)."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = load_settings()
        quality = settings.config.quality
        mostly = 1 - quality.max_quarantine_share
        suite = f"landing_{table}"
        with warehouse_connection(settings, read_only=True) as con:
            counts = quarantine_counts(con, table)
            # One list for dbt's quarantine rule and this suite: the seed dbt_project/seeds/accepted_event_types.csv
            event_types = [r[0] for r in con.execute("SELECT event_type FROM seeds.accepted_event_types").fetchall()]
            parameters = {
                "latest_allowed_timestamp": pd.Timestamp(datetime.now() + timedelta(days=1)),
                "amount_ceiling": quality.amount_ceiling,
                "allowed_event_types": event_types,
            }
            signature = suite_signature(EXPECTATIONS_DIR / "expectations" / f"{suite}.json", parameters, mostly)
            files = files_to_validate(con, table, signature) if quality.validate_new_files_only else None
            frame = None if files == [] else landing_frame(con, table, quality.max_rows_validated, files=files)
        share_ok = counts.share <= quality.max_quarantine_share
        if frame is None:  # nothing delivered since the suite last passed: only the quarantine share to check
            verdict = None
            findings = []
            metadata = {"suite": suite, "rows_validated": 0, "rows_in_table": counts.raw_rows, "failed_expectations": 0,
                        "files_validated": 0, "validated": "no landing file new since the suite last passed"}
        else:
            verdict = run_suite(quality_dir(settings.warehouse), suite, frame.data, parameters, mostly)
            findings = [o.sentence() for o in verdict.outcomes if o.unexpected_count or not o.success]
            metadata = verdict_metadata(verdict, counts.raw_rows)
            metadata["files_validated"] = len(files) if files is not None else "all"
            metadata["rows_in_validated_files"] = frame.total_rows
        suite_ok = verdict is None or verdict.success
        verdict_text = "passed" if suite_ok and share_ok else "FAILED"
        scope = (
            "" if files is None else " GX validated no new rows (every landing file passed before)." if not files
            else f" GX validated the rows of {len(files)} new or reloaded file(s)."
        )
        description = (
            f"{verdict_text}: {counts.describe()} (limit {quality.max_quarantine_share:.2%})." + scope
            + (" Expectations with unexpected rows: " + "; ".join(findings) if findings else "")
        )
        metadata.update(
            {
                "quarantined_rows": counts.quarantined_rows,
                "quarantine_share": round(counts.share, 6),
                "max_quarantine_share": quality.max_quarantine_share,
                "exact_duplicate_rows_removed": counts.exact_duplicate_rows,
                "quarantine_table": f"quarantine.quarantine_shop__{table}",
                "quarantine_reasons": dg.MetadataValue.md(
                    "| reason | rows | example file |\n|---|---|---|\n"
                    + "\n".join(f"| {r} | {n} | {f or ''} |" for r, n, f in counts.by_reason)
                ),
            }
        )
        passed = suite_ok and share_ok
        if passed and files:
            with warehouse_connection(settings) as con:
                record_passed(con, table, files, signature)
        if not passed:  # the reason in the run's log too, beside Dagster's "blocking asset check failed"
            context.log.error(f"landing_{table}_quality: {description}")
        return dg.AssetCheckResult(passed=passed, description=description[:2000], metadata=metadata)

    return _check


@dg.asset_check(
    asset=dg.AssetKey("user_features"),
    name="user_features_quality",
    blocking=True,
    description=(
        "Great Expectations suite `user_features`: one row per user, no nulls or infinities in model inputs, "
        "values in plausible ranges, at least 5% of users with a completed order. Guards model training."
    ),
)
def user_features_quality(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    settings = load_settings()
    with warehouse_connection(settings, read_only=True) as con:
        frame = table_frame(con, "marts.user_features")
    verdict = run_suite(quality_dir(settings.warehouse), "user_features", frame.data)
    if not verdict.success:
        context.log.error(f"user_features_quality: {verdict.summary()}")
    return dg.AssetCheckResult(
        passed=verdict.success, description=verdict.summary()[:2000], metadata=verdict_metadata(verdict, frame.total_rows)
    )


defs = dg.Definitions(asset_checks=[*(_landing_check(t) for t in CONTRACTS), user_features_quality])

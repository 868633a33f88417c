"""Run one committed checkpoint on a DataFrame and summarise the verdict."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation_pipeline.quality.context import open_context
from segmentation_pipeline.quality.report import ExpectationOutcome, outcomes

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}

logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass
class SuiteVerdict:
    suite: str
    success: bool
    rows_validated: int
    outcomes: list[ExpectationOutcome]
    data_docs: Path | None

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def summary(self) -> str:
        if self.success:
            return f"suite '{self.suite}' passed on {self.rows_validated} rows"
        return f"suite '{self.suite}' failed: " + "; ".join(o.sentence() for o in self.failed)


def run_suite(
    context_dir: Path,
    checkpoint: str,
    frame: pd.DataFrame,
    parameters: dict[str, Any] | None = None,
    mostly: float | None = None,
) -> SuiteVerdict:
    """Validate `frame` with the checkpoint of that name.

    `mostly`, when given, replaces the tolerance of every expectation that has one
    (the quarantine threshold from segmentation.yaml), in the working copy only.
    """
    context = open_context(context_dir)
    cp = context.checkpoints.get(checkpoint)
    if mostly is not None:
        for definition in cp.validation_definitions:
            suite = definition.suite
            for expectation in suite.expectations:
                if getattr(expectation, "mostly", None) is not None:
                    expectation.mostly = mostly
            suite.save()
    index_columns = [c for c in ("_source_file", "_source_row", "user_id") if c in frame.columns][:2]
    cp.result_format = {**RESULT_FORMAT, "unexpected_index_column_names": index_columns} if index_columns else RESULT_FORMAT
    cp.save()  # into the working copy; GX refuses to run a changed, unsaved checkpoint
    result = cp.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {})
    validation = next(iter(result.run_results.values()))
    docs = Path(context.root_directory) / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return SuiteVerdict(
        suite=checkpoint,
        success=bool(result.success),
        rows_validated=len(frame),
        outcomes=outcomes(validation),
        data_docs=docs if docs.exists() else None,
    )

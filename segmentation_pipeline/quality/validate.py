"""Run one committed checkpoint on a DataFrame and summarise the verdict."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.quality.context import open_context
from segmentation_pipeline.quality.report import ExpectationOutcome, outcomes

# No `unexpected_index_column_names`: with them GX's pandas engine looks up the index columns of
# every unexpected row, one cell at a time (700k rows for a `mostly` expectation at 1M users), and
# then keeps 5. GX returns the frame positions of the first 5; report.outcomes names those rows.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
INDEX_COLUMNS = ("_source_file", "_source_row", "user_id")

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


def gx_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as GX's pandas engine handles fast, with the same values.

    - Narrow integer columns (DuckDB INTEGER, int32) widened to int64: GX vectorises
      `expect_column_values_to_be_between` only for int64 and float64 columns, and calls Python
      once per value otherwise (14M calls for the 14 int32 columns of user_features at 1M users).
    - Columns of lists (segment_labels.tags) as text: GX fingerprints every batch with pandas
      hashing, and a list column makes it pickle the whole frame instead (7 s at 1M users, profiled).
    - A fresh RangeIndex, so GX's unexpected-row positions are row positions (report.outcomes).
    """
    frame = frame.reset_index(drop=True)
    widened = {c: "int64" for c, t in frame.dtypes.items()
               if pd.api.types.is_integer_dtype(t) and not pd.api.types.is_extension_array_dtype(t) and t != "int64"}
    lists = [c for c in frame.columns if frame[c].dtype == object and _holds_lists(frame[c])]
    if widened:
        frame = frame.astype(widened)
    if lists:
        frame = frame.assign(**{c: frame[c].map(_as_text, na_action="ignore") for c in lists})
    return frame


def _holds_lists(column: pd.Series) -> bool:
    first = column.first_valid_index()
    return first is not None and isinstance(column.at[first], (list, tuple, dict, np.ndarray))


def _as_text(value: Any) -> str:
    return str(list(value)) if isinstance(value, (list, tuple, np.ndarray)) else str(value)


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
    index_columns = [c for c in INDEX_COLUMNS if c in frame.columns][:2]
    cp.result_format = RESULT_FORMAT
    cp.save()  # into the working copy; GX refuses to run a changed, unsaved checkpoint
    frame = gx_ready(frame)
    result = cp.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {})
    validation = next(iter(result.run_results.values()))
    docs = Path(context.root_directory) / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return SuiteVerdict(
        suite=checkpoint,
        success=bool(result.success),
        rows_validated=len(frame),
        outcomes=outcomes(validation, frame, index_columns),
        data_docs=docs if docs.exists() else None,
    )

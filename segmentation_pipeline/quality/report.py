"""Turn a Great Expectations validation result into what an operator reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

SAMPLE_SIZE = 5


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any] = field(default_factory=list)
    observed: Any = None

    def sentence(self) -> str:
        where = f" on column '{self.column}'" if self.column else ""
        if self.unexpected_count is not None:
            return (
                f"{self.expectation}{where}: {self.unexpected_count} rows "
                f"({self.unexpected_percent:.2f}%) unexpected, e.g. {self.sample}"
            )
        return f"{self.expectation}{where}: observed {self.observed}"


def _clean(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def _domain_columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _named_rows(frame: pd.DataFrame | None, positions: list, columns: list[str]) -> list[dict]:
    """The unexpected rows at `positions` (GX's partial_unexpected_index_list on a RangeIndex frame),
    each as {checked column(s)..., index column(s)...}: e.g. the file and row number that delivered it."""
    if frame is None or not columns:
        return []
    present = [c for c in dict.fromkeys(columns) if c in frame.columns]
    return [{c: frame.at[p, c] for c in present} for p in positions if pd.api.types.is_integer(p) and p in frame.index]


def outcomes(
    validation_result: Any, frame: pd.DataFrame | None = None, index_columns: list[str] | None = None
) -> list[ExpectationOutcome]:
    found = []
    for result in validation_result.results:
        config = result.expectation_config
        details = result.result or {}
        sample = details.get("partial_unexpected_list") or []
        positions = (details.get("partial_unexpected_index_list") or [])[:SAMPLE_SIZE]
        index = _named_rows(frame, positions, [*_domain_columns(config.kwargs), *(index_columns or [])]) if index_columns else []
        found.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                success=bool(result.success),
                unexpected_count=details.get("unexpected_count"),
                unexpected_percent=details.get("unexpected_percent"),
                sample=[_clean(v) for v in (index or sample)[:SAMPLE_SIZE]],
                observed=_clean(details.get("observed_value")),
            )
        )
    return found


def markdown_table(rows: list[ExpectationOutcome]) -> str:
    lines = ["| expectation | column | ok | unexpected | % | sample |", "|---|---|---|---|---|---|"]
    for o in rows:
        pct = "" if o.unexpected_percent is None else f"{o.unexpected_percent:.2f}"
        count = "" if o.unexpected_count is None else str(o.unexpected_count)
        sample = str(o.sample or o.observed or "").replace("|", "\\|")[:160]
        lines.append(f"| {o.expectation} | {o.column or ''} | {'yes' if o.success else 'NO'} | {count} | {pct} | {sample} |")
    return "\n".join(lines)

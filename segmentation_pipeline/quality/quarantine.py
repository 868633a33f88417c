"""Quarantine figures per landing table, as built by dbt in the `quarantine` schema."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb


@dataclass
class QuarantineCounts:
    table: str
    raw_rows: int
    exact_duplicate_rows: int
    quarantined_rows: int
    share: float
    by_reason: list[tuple[str, int, str | None]] = field(default_factory=list)

    def describe(self) -> str:
        reasons = ", ".join(f"{reason}: {rows} rows (e.g. in {example})" for reason, rows, example in self.by_reason)
        return (
            f"{self.table}: {self.quarantined_rows} of {self.raw_rows - self.exact_duplicate_rows} rows "
            f"({self.share:.2%}) quarantined" + (f" [{reasons}]" if reasons else "")
        )


def quarantine_counts(con: duckdb.DuckDBPyConnection, table: str) -> QuarantineCounts:
    raw, dupes, quarantined, share = con.execute(
        "SELECT raw_rows, exact_duplicate_rows, quarantined_rows, quarantine_share "
        "FROM quarantine.dq_table_counts WHERE table_name = ?",
        [table],
    ).fetchone()
    reasons = con.execute(
        "SELECT quarantine_reason, rows, example_source_file FROM quarantine.dq_quarantine_reasons "
        "WHERE table_name = ? ORDER BY rows DESC, quarantine_reason",
        [table],
    ).fetchall()
    return QuarantineCounts(table, int(raw), int(dupes), int(quarantined), float(share), reasons)

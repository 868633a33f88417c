"""Load one landing table into `raw.<table>` with DuckDB's readers (no pandas round trip).

`raw` keeps values as delivered (CSV is read as text); staging in dbt casts and
cleans. Columns are renamed to the canonical names of the landing contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from segmentation_pipeline.config import TableConfig
from segmentation_pipeline.ingest.contract import ID_COLUMNS, TableContract
from segmentation_pipeline.ingest.errors import IngestionError
from segmentation_pipeline.ingest.locate import file_format

RESERVED = {"filename"}
NUMERIC_COLUMNS = {"amount", "items", "quantity", "unit_price", "rating", "duration_seconds", "birth_year"}
TIMESTAMP_COLUMNS = {"ordered_at", "occurred_at", "signup_at", "created_at"}
DELIMITERS = (";", "\t", "|", ",")


@dataclass
class LoadReport:
    table: str
    files: list[str]
    rows: int
    delivered: bool
    missing_optional_columns: list[str] = field(default_factory=list)
    extra_columns_kept_in_raw: list[str] = field(default_factory=list)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reader_sql(files: list[Path], read_options: dict[str, Any]) -> str:
    file_list = "[" + ", ".join(_literal(str(f)) for f in files) + "]"
    if file_format(files[0]) == "parquet":
        return f"read_parquet({file_list}, union_by_name = true, filename = true)"
    options = {"header": True, "all_varchar": True, "union_by_name": True, "filename": True}
    options.update(read_options)
    rendered = ", ".join(f"{k} = {_literal(v)}" for k, v in options.items())
    return f"read_csv({file_list}, {rendered})"


def _describe(con: duckdb.DuckDBPyConnection, source: str, files: list[Path]) -> list[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        names = ", ".join(str(f) for f in files)
        raise IngestionError(
            f"Cannot read {names}: {str(exc).splitlines()[0]}. Expected a CSV file with a header row "
            "or a Parquet file; for another delimiter or encoding set read_options in segmentation.yaml."
        ) from exc
    return [row[0] for row in rows if row[0] not in RESERVED]


def _source_column(canonical: str, table_cfg: TableConfig, found: dict[str, str]) -> str | None:
    wanted = table_cfg.columns.get(canonical, canonical)
    return found.get(wanted.strip().lower())


def _select_expression(canonical: str, source: str | None, table_cfg: TableConfig) -> str:
    if source is None:
        return f"CAST(NULL AS VARCHAR) AS {_ident(canonical)}"
    column = _ident(source)
    if canonical in table_cfg.formats:
        fmt = _literal(table_cfg.formats[canonical])
        return f"try_strptime(CAST({column} AS VARCHAR), {fmt}) AS {_ident(canonical)}"
    if canonical in ID_COLUMNS:
        return f"CAST({column} AS VARCHAR) AS {_ident(canonical)}"
    return f"{column} AS {_ident(canonical)}"


def load_table(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    files: list[Path],
    table_cfg: TableConfig,
    data_dir: Path,
) -> LoadReport:
    source = reader_sql(files, table_cfg.read_options)
    shown = ", ".join(str(f.relative_to(data_dir)) if f.is_relative_to(data_dir) else str(f) for f in files)
    columns = _describe(con, source, files)
    found = {c.strip().lower(): c for c in columns}

    if all(c.startswith("column") for c in columns) and not con.execute(f"SELECT 1 FROM {source} LIMIT 1").fetchall():
        raise IngestionError(
            f"{shown}: the file is empty (no header row and no data). Expected a header with "
            f"{', '.join(contract.required)}. Re-export the table"
            + ("." if contract.is_required else f", or remove the file ('{contract.name}' is optional).")
        )
    missing = [c for c in contract.required if _source_column(c, table_cfg, found) is None]
    if missing and len(columns) == 1 and any(d in columns[0] for d in DELIMITERS):
        used_delim = next(d for d in DELIMITERS if d in columns[0])
        raise IngestionError(
            f"{shown}: found a single column '{columns[0][:80]}', so the delimiter looks wrong "
            f"(the header contains {used_delim!r}). Set it in segmentation.yaml: "
            f"{contract.name}: {{read_options: {{delim: {used_delim!r}}}}}."
        )
    if missing:
        wanted = {c: table_cfg.columns.get(c, c) for c in missing}
        raise IngestionError(
            f"{shown}: required column(s) {', '.join(repr(w) for w in wanted.values())} missing "
            f"(table '{contract.name}' expects {', '.join(contract.required)}; found {', '.join(columns) or 'no columns'}). "
            f"If the file names them differently, map them in segmentation.yaml, e.g. "
            f"{contract.name}: {{columns: {{{missing[0]}: <column in your file>}}}}."
        )
    unknown_formats = set(table_cfg.formats) - set(contract.columns)
    if unknown_formats:
        raise IngestionError(
            f"segmentation.yaml: formats for {contract.name} name unknown column(s) {sorted(unknown_formats)}; "
            f"use canonical names from {', '.join(contract.columns)}."
        )

    used = {_source_column(c, table_cfg, found) for c in contract.columns} - {None}
    selects = [_select_expression(c, _source_column(c, table_cfg, found), table_cfg) for c in contract.columns]
    extra = [c for c in columns if c not in used] if contract.keep_extra_columns else []
    selects += [_ident(c) for c in extra]
    data_root = _literal(str(data_dir) + "/")
    selects += [
        f"replace(filename, {data_root}, '') AS _source_file",
        "row_number() OVER () AS _source_row",
    ]
    sql = f"CREATE OR REPLACE TABLE raw.{contract.name} AS SELECT {', '.join(selects)} FROM {source}"
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise IngestionError(
            f"{shown}: could not load table '{contract.name}': {str(exc).splitlines()[0]}. "
            "Check the file's delimiter, quoting and encoding (read_options in segmentation.yaml) "
            "and the date formats (formats in segmentation.yaml)."
        ) from exc
    rows = con.execute(f"SELECT count(*) FROM raw.{contract.name}").fetchone()[0]
    _check_castable(con, contract, table_cfg, shown, source, found)
    return LoadReport(
        table=contract.name,
        files=[str(f) for f in files],
        rows=rows,
        delivered=True,
        missing_optional_columns=[c for c in contract.optional if _source_column(c, table_cfg, found) is None],
        extra_columns_kept_in_raw=extra,
    )


def _check_castable(
    con: duckdb.DuckDBPyConnection,
    contract: TableContract,
    table_cfg: TableConfig,
    shown: str,
    source: str,
    found: dict[str, str],
) -> None:
    """A column none of whose values can be read as its type is a file-level problem (e.g. swapped columns).

    Individual bad values are row-level problems: dbt quarantines those rows.
    """
    for column in contract.columns:
        target = "DOUBLE" if column in NUMERIC_COLUMNS else "TIMESTAMP" if column in TIMESTAMP_COLUMNS else None
        if target is None:
            continue
        present, castable = con.execute(
            f"SELECT count({_ident(column)}), count(try_cast({_ident(column)} AS {target})) FROM raw.{contract.name}"
        ).fetchone()
        if present == 0 and column in table_cfg.formats and (src := _source_column(column, table_cfg, found)):
            present = con.execute(f"SELECT count({_ident(src)}) FROM {source}").fetchone()[0]
        if present and not castable:
            src = _source_column(column, table_cfg, found) or column
            examples = [r[0] for r in con.execute(
                f"SELECT DISTINCT CAST({_ident(src)} AS VARCHAR) FROM {source} WHERE {_ident(src)} IS NOT NULL LIMIT 3"
            ).fetchall()]
            expected = "a number" if target == "DOUBLE" else "a date or timestamp"
            fix = (
                f"set its format in segmentation.yaml ({contract.name}: {{formats: {{{column}: '%d/%m/%Y'}}}})"
                if target == "TIMESTAMP"
                else f"check that column '{src}' is the {column} (map it in segmentation.yaml)"
            )
            raise IngestionError(
                f"{shown}: column '{src}' ({column}) cannot be read as {expected}: none of its {present} values "
                f"can, e.g. {examples}. Fix the export, or {fix}."
            )


def create_empty_table(con: duckdb.DuckDBPyConnection, contract: TableContract) -> LoadReport:
    """An optional table that was not delivered: an empty `raw` table keeps dbt's sources valid."""
    columns = ", ".join(f"{_ident(c)} VARCHAR" for c in contract.columns)
    con.execute(
        f"CREATE OR REPLACE TABLE raw.{contract.name} ({columns}, _source_file VARCHAR, _source_row BIGINT)"
    )
    return LoadReport(table=contract.name, files=[], rows=0, delivered=False)

"""Finding the landing file(s) for a table: `<table>.csv`, `<table>.parquet` or a `<table>/` folder."""

from __future__ import annotations

import glob
from pathlib import Path

from segmentation_pipeline.ingest.errors import IngestionError

SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv", ".txt")


def file_format(path: Path) -> str:
    return "parquet" if path.name.endswith(".parquet") else "csv"


def _files_in_folder(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))
    formats = {file_format(p) for p in files}
    if len(formats) > 1:
        raise IngestionError(
            f"{folder}: mixes CSV and Parquet files; expected one format per table folder. "
            "Move the files of one format elsewhere."
        )
    return files


def locate_table_files(table: str, data_dir: Path, configured_path: str | None) -> list[Path]:
    """Return the files of `table`, or [] when the table was not delivered."""
    if configured_path:
        target = Path(configured_path).expanduser()
        target = target if target.is_absolute() else data_dir / target
        if any(ch in str(target) for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(str(target)))
            files = [p for p in matches if p.is_file()]
        elif target.is_dir():
            files = _files_in_folder(target)
        elif target.is_file():
            files = [target]
        else:
            files = []
        if not files:
            raise IngestionError(
                f"{table}: segmentation.yaml sets path '{configured_path}', but nothing exists at {target}. "
                "Fix the path (relative to SEGMENTATION_DATA_DIR) or remove it to use the default file name."
            )
        return files
    for suffix in SUFFIXES:
        candidate = data_dir / f"{table}{suffix}"
        if candidate.is_file():
            return [candidate]
    folder = data_dir / table
    if folder.is_dir():
        return _files_in_folder(folder)
    return []

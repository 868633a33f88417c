"""CLI: python -m segmentation_pipeline.demo_data --users 20000 --seed 42 --out data/landing"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from segmentation_pipeline.demo_data import DEFAULT_AS_OF, generate


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m segmentation_pipeline.demo_data",
        description="Generate deterministic demo shop data with planted user personas.",
    )
    p.add_argument("--users", type=_positive_int, default=20_000, help="number of users (default 20000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--out", default="data/landing", help="landing folder (default data/landing)")
    p.add_argument(
        "--truth", default=None,
        help="folder for user_personas.csv (default: demo_truth next to --out)",
    )
    p.add_argument(
        "--as-of", type=_date, default=dt.date.fromisoformat(DEFAULT_AS_OF),
        help=f"the data's 'today'; no timestamp is later than its 23:59:59 (default {DEFAULT_AS_OF})",
    )
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = generate(args.users, args.seed, args.out, args.truth, args.as_of, args.format)
    print(f"demo data (seed {s['seed']}, as of {s['as_of']}, {s['format']}) -> {s['out_dir']}")
    for table in ("users", "orders", "order_items", "reviews", "events"):
        extra = f"  ({s['event_parts']} part files, {s['sessions']:,} sessions)" if table == "events" else ""
        print(f"  {table:<12} {s[table]:>12,} rows{extra}")
    mix = ", ".join(f"{k} {v:,}" for k, v in s["personas"].items())
    print(f"  personas: {mix}")
    print(f"  truth: {s['truth_file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One-new-day runs of two variants, alternated from the same saved state, for effects of a second or two.

    .venv/bin/python -m benchmarks.night_pairs --size 100k --ref HEAD --pairs 4 \\
        --env-a DBT_LOG_LEVEL_FILE=debug --env-b DBT_LOG_LEVEL_FILE=info

`benchmarks.run` measures each variant in its own harness run, minutes apart; on this 2-core VM the
machine's speed drifts by more than a change to a night's fixed costs (BENCHMARKS.md, "Noise"). Here:

1. the full job runs once, untimed, on the history before the day (as `benchmarks.run --incremental-day`,
   with the same data, config and `--refit-every-days`), and its outputs are saved;
2. the day is delivered, and each pair restores the saved outputs and runs the night once per variant,
   A then B, then B then A in the next pair, so a steady drift cancels out;
3. every run's wall and CPU seconds (the whole process tree) and, with --py-spy, the seconds a
   sampling profiler saw in named functions (steadier than times when the machine's speed drifts) go to
   benchmarks/results/<size>-night-pairs-<timestamp>.json with each pair's difference A - B.

A variant is a source tree (`--ref`, `--ref-b`: git commits, exported as `benchmarks.run` does) and
environment variables (`--env-a`, `--env-b`, KEY=VALUE, repeatable).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks import landing
from benchmarks.machine import machine_info
from benchmarks.measure import child_env, run_measured
from benchmarks.run import (
    DEFAULT_AS_OF, HERE, JOB_COMMAND, REPO, pipeline_env, run_config, source_env, source_tree, warm_up,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.night_pairs", description=__doc__.splitlines()[0])
    p.add_argument("--size", default="100k", help=f"{', '.join(landing.SIZES)} or a number of users (default 100k)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--pairs", type=int, default=4, help="nights per variant (default 4)")
    p.add_argument("--ref", help="variant A's commit (default: the working tree); also B's unless --ref-b")
    p.add_argument("--ref-b", help="variant B's commit")
    p.add_argument("--env-a", action="append", default=[], metavar="KEY=VALUE", help="variant A's environment")
    p.add_argument("--env-b", action="append", default=[], metavar="KEY=VALUE", help="variant B's environment")
    p.add_argument("--refit-every-days", type=int, default=7, metavar="N", help="as in benchmarks.run (default 7)")
    p.add_argument("--py-spy", metavar="FUNCTIONS", help="profile each night with py-spy (50 Hz, child processes "
                   "too) and report the seconds sampled in these comma-separated functions, e.g. fire_event")
    p.add_argument("--data-root", type=Path, default=REPO / "data" / "bench", help="default data/bench")
    p.add_argument("--results-dir", type=Path, default=HERE / "results", help="default benchmarks/results")
    return p.parse_args(argv)


def _pairs(items: list[str]) -> dict[str, str]:
    pairs = dict(item.split("=", 1) for item in items if "=" in item)
    if len(pairs) != len(items):
        raise SystemExit(f"expected KEY=VALUE, got {items}")
    return pairs


def _job(source: Path, env: dict[str, str], log: Path, profile: str | None = None) -> dict:
    command = [str(Path(sys.executable).parent / "dagster"), *JOB_COMMAND.split()[1:]]
    raw = log.with_suffix(".pyspy.txt")
    if profile is not None:
        py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if py_spy is None:
            raise SystemExit("--py-spy needs py-spy: pip install py-spy")
        command = [py_spy, "record", "-r", "50", "--subprocesses", "-f", "raw", "-o", str(raw), "--", *command]
    m = run_measured(command, env, source, log)
    if m.returncode != 0:
        raise SystemExit(f"the job failed ({log}):\n{m.log}")
    result = {"wall_seconds": round(m.end - m.start, 2), "cpu_seconds": round(m.cpu_seconds, 2),
              "peak_rss_bytes": max((s.rss for s in m.samples), default=0)}
    if profile is not None:
        result["sampled_seconds"] = _sampled(raw, [f for f in profile.split(",") if f])
    return result


def _sampled(raw: Path, functions: list[str]) -> dict[str, float]:
    """Seconds py-spy sampled in all, and with each function on the stack (50 samples a second); a name
    matches a function or a method of that name (`store_event` matches SqliteEventLogStorage.store_event)."""
    counts = dict.fromkeys(["all", *functions], 0)
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        names = {frame.split(" (", 1)[0] for frame in stack.split(";")}  # py-spy: "Class.method (file:line)"
        names |= {name.rsplit(".", 1)[-1] for name in names}  # write_line matches _Logger.write_line
        counts["all"] += int(n)
        for function in functions:
            counts[function] += int(n) if function in names else 0
    return {name: round(n / 50, 2) for name, n in counts.items()}


def _summary(runs: list[dict], key: str) -> dict:
    a = [r[key] for r in runs if r["variant"] == "A"]
    b = [r[key] for r in runs if r["variant"] == "B"]
    diffs = [x - y for x, y in zip(a, b)]
    return {"a_mean": round(statistics.mean(a), 2), "b_mean": round(statistics.mean(b), 2),
            "a_minus_b_mean": round(statistics.mean(diffs), 2), "a_minus_b_median": round(statistics.median(diffs), 2),
            "a_minus_b_each": [round(d, 2) for d in diffs], "b_faster_pairs": sum(d > 0 for d in diffs)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    users = landing.users_for(args.size)
    label = args.size.lower() if args.size.lower() in landing.SIZES else f"{users}"
    data_root = args.data_root.resolve()
    bench_dir, started = data_root / label, datetime.now(timezone.utc)
    source_a, info_a = source_tree(args.ref, data_root)
    source_b, info_b = source_tree(args.ref_b, data_root) if args.ref_b else (source_a, info_a)
    variants = {"A": (source_a, _pairs(args.env_a)), "B": (source_b, _pairs(args.env_b))}
    os.environ.setdefault("BENCH_PYTHON", sys.executable)  # the Python of the data generator (landing.py)

    day = DEFAULT_AS_OF + timedelta(days=1)
    shop = landing.generate_shop(bench_dir / f"shop-{day}-seed{args.seed}", users, args.seed, day, source_a,
                                 child_env(source_env(source_a)))
    split = landing.split_day(Path(shop.landing), day, bench_dir / f"day-{day}-seed{args.seed}")
    work = bench_dir / "night_pairs"
    shutil.rmtree(work, ignore_errors=True)
    landing.link_tree(split.base, work / "landing")
    run_dir, saved, logs = work / "run", work / "saved", work / "logs"
    config = run_config(source_a, args.refit_every_days)
    for source in dict.fromkeys((source_a, source_b)):  # each export parses dbt for this run's paths, untimed
        warm_up(source, pipeline_env(source, work / "landing", run_dir, config))
    print(f"[night-pairs] {users:,} users: full run on the history before {day} (untimed) ...", flush=True)
    _job(source_a, pipeline_env(source_a, work / "landing", run_dir, config), logs / "full.log")
    shutil.copytree(run_dir, saved)
    landing.link_tree(split.day, work / "landing")

    runs = []
    for pair in range(args.pairs):
        for name in ("A", "B") if pair % 2 == 0 else ("B", "A"):
            source, extra = variants[name]
            shutil.rmtree(run_dir)
            shutil.copytree(saved, run_dir)
            env = {**pipeline_env(source, work / "landing", run_dir, config), **extra}
            result = {"pair": pair + 1, "variant": name,
                      **_job(source, env, logs / f"night-{pair + 1}-{name}.log", args.py_spy)}
            runs.append(result)
            print(f"[night-pairs] pair {pair + 1} {name}: {result['wall_seconds']:.2f} s wall, "
                  f"{result['cpu_seconds']:.2f} CPU s", flush=True)

    report = {
        "schema": 1, "kind": "night_pairs", "size": label, "users": users,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else argv,
        "variants": {name: {"source": info, "env": variants[name][1]} for name, info in (("A", info_a), ("B", info_b))},
        "machine": machine_info(), "day": day.isoformat(), "day_rows": split.day_rows,
        "runs": runs, "wall": _summary(runs, "wall_seconds"), "cpu": _summary(runs, "cpu_seconds"),
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{label}-night-pairs-{started.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    if args.py_spy:
        report["sampled"] = {
            name: {f: round(statistics.mean(r["sampled_seconds"][f] for r in runs if r["variant"] == name), 2)
                   for f in runs[0]["sampled_seconds"]}
            for name in ("A", "B")
        }
        print(f"[night-pairs] py-spy, mean seconds sampled per night: {report['sampled']}")
    for key in ("wall", "cpu"):
        s = report[key]
        print(f"[night-pairs] {key}: A {s['a_mean']} s, B {s['b_mean']} s; A - B mean {s['a_minus_b_mean']} s, "
              f"median {s['a_minus_b_median']} s, each {s['a_minus_b_each']}; B faster in {s['b_faster_pairs']} "
              f"of {args.pairs} pairs")
    print(f"[night-pairs] results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark harness (issue #6): `make bench SIZE=100k` or

    .venv/bin/python -m benchmarks.run --size 100k [--incremental-day] [--ref HEAD]

1. generates the demo shop of that size (once; reused afterwards, generation is not timed),
2. runs `segmentation_job` end to end in a child process (`dagster job execute`, fresh warehouse,
   models and Dagster instance) while sampling the RSS of the whole process tree every 0.2 s,
3. runs the naive pandas/scikit-learn baseline and the one-query DuckDB floor on the same files,
4. with --incremental-day: builds the shop as of the next day, runs the full job on the history
   before that day, delivers the day as one more file per table and runs the job again,
5. writes benchmarks/results/<size>-<timestamp>.json and prints the per-stage table, the
   comparisons and the targets (BENCHMARKS.md explains them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import yaml

from benchmarks import landing, probes, stages
from benchmarks.machine import git_state, machine_info
from benchmarks.measure import SAMPLE_SECONDS, Measurement, child_env, run_measured
from benchmarks.report import comparisons, print_report, targets
from benchmarks.run_log import read_run_log

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_AS_OF = date(2026, 6, 30)
JOB_COMMAND = "dagster job execute -m segmentation_pipeline -j segmentation_job -c segmentation_pipeline/run_logging.yaml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    p.add_argument("--size", default="100k", help=f"{', '.join(landing.SIZES)} or a number of users (default 100k)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, help="the shop's as-of date")
    p.add_argument("--data-root", type=Path, default=REPO / "data" / "bench", help="default data/bench")
    p.add_argument("--results-dir", type=Path, default=HERE / "results", help="default benchmarks/results")
    p.add_argument("--ref", help="measure this git commit (exported with git archive) instead of the working tree")
    p.add_argument("--incremental-day", action="store_true", help="also measure a one-new-day nightly run")
    p.add_argument("--refit-every-days", type=int, default=None, metavar="N",
                   help="run with clustering.refit_every_days and churn.retrain_every_days set to N (default: the "
                        "repository's segmentation.yaml, which refits every run)")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--skip-floor", action="store_true")
    p.add_argument("--interval", type=float, default=SAMPLE_SECONDS, help="memory sampling interval (s)")
    return p.parse_args(argv)


# --- the source tree being measured ---------------------------------------------------------------

def source_tree(ref: str | None, data_root: Path) -> tuple[Path, dict]:
    """The working tree, or `ref` exported once to <data-root>/src/<commit> (others' edits cannot leak in)."""
    state = git_state(REPO)
    if not ref:
        return REPO, {"source": "working tree", **state}
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", f"{ref}^{{commit}}"], capture_output=True,
                            text=True, check=True).stdout.strip()
    target = data_root / "src" / commit[:12]
    if not (target / "segmentation_pipeline").is_dir():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target, {"source": f"git archive {commit}", "commit": commit, "dirty_files": []}


def source_env(source: Path) -> dict[str, str]:
    """Make the child import `segmentation_pipeline` from `source` (ahead of the editable install)."""
    return {"PYTHONPATH": str(source)} if source != REPO else {}


# --- runs --------------------------------------------------------------------------------------------

def run_config(source: Path, refit_every_days: int | None) -> str | None:
    """The segmentation.yaml text the runs use: the source's, with the refit cadence when given."""
    path = source / "segmentation.yaml"
    text = path.read_text() if path.exists() else ""
    if refit_every_days is None:
        return text or None
    config = yaml.safe_load(text) or {}
    config.setdefault("clustering", {})["refit_every_days"] = refit_every_days
    config.setdefault("churn", {})["retrain_every_days"] = refit_every_days
    return yaml.safe_dump(config, sort_keys=False)


def pipeline_env(source: Path, data_dir: Path, run_dir: Path, config: str | None = None) -> dict[str, str]:
    home = run_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    config_env = {}
    if config is not None:
        (run_dir / "segmentation.yaml").write_text(config)
        config_env = {"SEGMENTATION_CONFIG": str(run_dir / "segmentation.yaml")}
    return child_env({
        **config_env,
        **source_env(source),
        "DAGSTER_HOME": str(home),
        "SEGMENTATION_DATA_DIR": str(data_dir),
        "SEGMENTATION_WAREHOUSE": str(run_dir / "warehouse.duckdb"),
        "SEGMENTATION_PUBLISHED_DB": str(run_dir / "published" / "segments.duckdb"),
        "SEGMENTATION_MODELS_DIR": str(run_dir / "models"),
        "SEGMENTATION_EXPORTS_DIR": str(run_dir / "exports"),
    })


def warm_up(source: Path, env: dict[str, str]) -> float:
    """Load the code location and create the Dagster instance once, untimed: parses the dbt manifest
    if it is missing or stale and creates the instance's storage, as a deployment has done before
    its nightly run."""
    # The saved dbt parse belongs to the warehouse path it was made with (dbt's profile reads it). An export
    # shared with a run of another size would make every dbt invocation of this run parse in full, which a
    # deployment, whose path does not change, never does. Removing it makes the load below parse for this run.
    target = source / "dbt_project" / "target"
    for saved in ("manifest.json", "partial_parse.msgpack"):
        (target / saved).unlink(missing_ok=True)
    # The as-of builds (churn training, history backfill) keep their own saved parse in a subfolder,
    # possibly made by an earlier run of this source for another warehouse. Removed, so the run's
    # first churn training build parses in full, as a deployment's first retrain does.
    for saved in target.glob("*/partial_parse.msgpack"):
        saved.unlink()
    start = time.time()
    code = "import segmentation_pipeline.definitions, dagster; dagster.DagsterInstance.get().get_runs(limit=1)"
    subprocess.run([sys.executable, "-c", code], cwd=source, env=env, check=True, capture_output=True)
    return round(time.time() - start, 2)


def warm_file_cache(data_dir: Path) -> None:
    """Read every landing file once so no program pays the first disk read."""
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(1 << 23):
                    pass


def measure_pipeline(source: Path, data_dir: Path, run_dir: Path, logs: Path, name: str, interval: float,
                     config: str | None = None) -> dict:
    env = pipeline_env(source, data_dir, run_dir, config)
    spans_path = logs / f"{name}.spans.jsonl"
    spans_path.unlink(missing_ok=True)
    env[probes.SPANS_ENV] = str(spans_path)
    print(f"[bench] {name}: segmentation_job on {data_dir} ...", flush=True)
    m = run_measured([sys.executable, str(HERE / "pipeline_child.py")], env, source, logs / f"{name}.log", interval)
    spans = probes.read_spans(spans_path)
    log = read_run_log(run_dir / "dagster_home")
    if log is None:
        raise RuntimeError(f"{name}: no Dagster run was recorded; see {logs / (name + '.log')}:\n{m.log}")
    attribution, details = stages.attribute_ours(m, log, spans)
    return program_result("ours", m, attribution, details | {"job_command": JOB_COMMAND})


def measure_script(program: str, script: str, args: list[str], source: Path, logs: Path, interval: float) -> dict:
    spans_path = logs / f"{program}.spans.jsonl"
    spans_path.unlink(missing_ok=True)
    env = child_env({probes.SPANS_ENV: str(spans_path)})
    print(f"[bench] {program}: {script} ...", flush=True)
    m = run_measured([sys.executable, str(HERE / script), *args], env, source, logs / f"{program}.log", interval)
    spans = probes.read_spans(spans_path)
    details = {"phases": [{k: v for k, v in s.items() if k not in ("start", "end")} | {
        "seconds": round(s["end"] - s["start"], 3)} for s in spans]}
    return program_result(program, m, stages.attribute_simple(m, spans), details)


def memory_timeline(m: Measurement, points: int = 400) -> list[list[float]]:
    """[seconds since start, tree RSS MiB, processes], at most `points` rows (each the max of its slice)."""
    samples = m.samples
    step = max(1, -(-len(samples) // points))
    out = []
    for i in range(0, len(samples), step):
        chunk = samples[i:i + step]
        top = max(chunk, key=lambda s: s.rss)
        out.append([round(top.t - m.start, 2), round(top.rss / 2**20), max(s.processes for s in chunk)])
    return out


def program_result(program: str, m: Measurement, attribution: stages.Attribution, details: dict) -> dict:
    wall = m.wall_seconds
    return {
        "program": program,
        "command": m.command,
        "returncode": m.returncode,
        "wall_seconds": round(wall, 3),
        "peak_rss_bytes": m.peak_rss,
        "cpu_seconds": round(m.cpu_seconds, 2),
        "average_cores_used": round(m.cpu_seconds / max(wall, 1e-9), 2),
        "machine_busy_cores": round(m.machine_busy_cores, 2),
        "other_processes_busy_cores": round(m.others_busy_cores, 2),
        "memory_samples": len(m.samples),
        "memory_timeline": memory_timeline(m),
        "processes_seen": [
            {"command": cmd, "count": int(n), "first_seen_s": round(a - m.start, 2), "last_seen_s": round(b - m.start, 2)}
            for cmd, (a, b, n) in sorted(m.processes.items(), key=lambda kv: kv[1][0])
        ],
        "stages": stages.stage_table(program, m, attribution),
        "details": details,
        "log_tail": m.log[-1500:] if m.returncode else "",
    }


# --- main --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    users = landing.users_for(args.size)
    label = args.size.lower() if args.size.lower() in landing.SIZES else f"{users}"
    data_root = args.data_root.resolve()
    bench_dir = data_root / label
    logs = bench_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    source, source_info = source_tree(args.ref, data_root)
    gen_env = child_env(source_env(source))
    os.environ.setdefault("BENCH_PYTHON", sys.executable)

    # Data: the shop as of --as-of; with --incremental-day, as of the next day, split into history and the day.
    day = args.as_of + timedelta(days=1) if args.incremental_day else None
    shop_as_of = day or args.as_of
    print(f"[bench] {users:,} users, seed {args.seed}, as of {shop_as_of}; measuring {source_info['source']}", flush=True)
    shop = landing.generate_shop(bench_dir / f"shop-{shop_as_of}-seed{args.seed}", users, args.seed, shop_as_of, source, gen_env)
    print(f"[bench] data: {shop.rows} ({'generated in %.0f s' % shop.generation_seconds if shop.generated_now else 'reused'})", flush=True)
    data_dir = Path(shop.landing)
    split = None
    if day is not None:
        split = landing.split_day(Path(shop.landing), day, bench_dir / f"day-{day}-seed{args.seed}")
        data_dir = bench_dir / "incremental" / "landing"
        shutil.rmtree(data_dir.parent, ignore_errors=True)
        landing.link_tree(split.base, data_dir)
        print(f"[bench] history before {day}: {split.base_rows}; the day: {split.day_rows}", flush=True)

    run_dir = bench_dir / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    config = run_config(source, args.refit_every_days)
    warm_seconds = warm_up(source, pipeline_env(source, data_dir, run_dir, config))
    warm_file_cache(data_dir)

    results: dict = {"ours": measure_pipeline(source, data_dir, run_dir, logs, "ours", args.interval, config)}
    if not args.skip_baseline:
        results["baseline"] = measure_script(
            "baseline", "naive_baseline.py", ["--data", str(data_dir), "--out", str(run_dir / "baseline_labels.csv")],
            source, logs, args.interval,
        )
    if not args.skip_floor:
        results["floor"] = measure_script("floor", "floor.py", ["--data", str(data_dir)], source, logs, args.interval)
    if split is not None:
        landing.link_tree(split.day, data_dir)
        results["ours_incremental_day"] = measure_pipeline(
            source, data_dir, run_dir, logs, "ours_incremental_day", args.interval, config
        )

    command = f"make bench SIZE={args.size}" + (" BENCH_ARGS=\"" + " ".join(
        a for a in (["--incremental-day"] if args.incremental_day else [])
        + (["--refit-every-days", str(args.refit_every_days)] if args.refit_every_days is not None else [])
        + (["--ref", source_info["commit"][:12]] if args.ref else [])
        + (["--skip-baseline"] if args.skip_baseline else []) + (["--skip-floor"] if args.skip_floor else [])
    ) + "\"" if (args.incremental_day or args.ref or args.skip_baseline or args.skip_floor
                  or args.refit_every_days is not None) else "")
    comparison = comparisons(results)
    report = {
        "schema": 1,
        "size": label,
        "users": users,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reproduce": command,
        "argv": sys.argv[1:] if argv is None else argv,
        "source": source_info,
        "machine": machine_info(),
        "data": {
            **{k: v for k, v in shop.__dict__.items() if k != "generated_now"},
            "per_user": shop.per_user(),
            "landing_measured": str(data_dir),
            "incremental_day": None if split is None else {
                "day": day.isoformat(), "history_rows": split.base_rows, "day_rows": split.day_rows,
            },
        },
        "settings": {
            "sampling_interval_seconds": args.interval,
            "warm_up_seconds_untimed": warm_seconds,
            "config": config,
            "refit_every_days": args.refit_every_days,
        },
        "stage_descriptions": {program: dict(rows) for program, rows in stages.STAGES.items()},
        "results": results,
        "comparisons": comparison,
        "targets": targets(users, comparison, results),
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    suffix = "-incremental" if args.incremental_day else ""
    out = args.results_dir / f"{label}{suffix}-{started.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report)
    print(f"\n[bench] results: {out}")
    failed = [p for p, r in results.items() if r["returncode"] != 0]
    if failed:
        print(f"[bench] FAILED: {', '.join(failed)} (logs in {logs})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

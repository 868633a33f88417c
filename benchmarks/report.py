"""Comparisons and targets of one harness run, and the printed table."""

from __future__ import annotations

from benchmarks.stages import OVERHEAD_STAGES

GIB = 1024**3
MIB = 1024**2
ONE_MILLION = 1_000_000


def _stage(result: dict | None, name: str) -> float:
    if not result:
        return 0.0
    return next((row["seconds"] for row in result["stages"] if row["stage"] == name), 0.0)


def _stage_cpu(result: dict | None, *names: str) -> float:
    if not result:
        return 0.0
    return sum(row["cpu_seconds"] for row in result["stages"] if row["stage"] in names)


def _step_seconds(result: dict, prefix: str) -> float:
    return sum(s["seconds"] for s in result["details"].get("steps", []) if s["key"].startswith(prefix))


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def comparisons(results: dict) -> dict:
    ours, baseline, floor = results.get("ours"), results.get("baseline"), results.get("floor")
    day = results.get("ours_incremental_day")
    out: dict = {"end_to_end_seconds": ours["wall_seconds"], "peak_rss_bytes": ours["peak_rss_bytes"]}
    if baseline:
        out["time_vs_baseline"] = _ratio(ours["wall_seconds"], baseline["wall_seconds"])
        out["speedup_vs_baseline"] = _ratio(baseline["wall_seconds"], ours["wall_seconds"])
        out["memory_vs_baseline"] = _ratio(ours["peak_rss_bytes"], baseline["peak_rss_bytes"])
        # CPU seconds are much less sensitive than wall time to other work sharing the machine.
        out["cpu_seconds_vs_baseline"] = _ratio(ours["cpu_seconds"], baseline["cpu_seconds"])
    if floor:
        query = _stage(floor, "query")
        work = sum(_stage(ours, s) for s in ("ingestion", "dbt_staging", "feature_matrix"))
        whole = _step_seconds(ours, "raw__") + _step_seconds(ours, "dbt_models")
        out["floor_query_seconds"] = query
        out["feature_matrix_vs_floor"] = _ratio(_stage(ours, "feature_matrix"), query)
        out["landing_to_features_vs_floor"] = _ratio(work, query)
        out["landing_to_features_all_dbt_vs_floor"] = _ratio(whole, query)
        out["landing_to_features_cpu_vs_floor_cpu"] = _ratio(
            _stage_cpu(ours, "ingestion", "dbt_staging", "feature_matrix"), _stage_cpu(floor, "query")
        )
        out["feature_definitions"] = {
            "feature_matrix": "dbt intermediate models + user_features (node time)",
            "landing_to_features": "ingestion + dbt_staging + feature_matrix: read, type, aggregate (the floor's work)",
            "landing_to_features_all_dbt": "ingestion steps + the whole dbt_models step (tests, RFM, dbt start-up too)",
        }
    overhead = {s: _stage(ours, s) for s in OVERHEAD_STAGES}
    out["orchestration_overhead"] = {
        "seconds": round(sum(overhead.values()), 3),
        "share": round(sum(overhead.values()) / ours["wall_seconds"], 4),
        "cpu_share": round(_stage_cpu(ours, *OVERHEAD_STAGES) / max(ours["cpu_seconds"], 1e-9), 4),
        "components": overhead,
    }
    if day:
        out["incremental_day_seconds"] = day["wall_seconds"]
        out["incremental_day_vs_full"] = _ratio(day["wall_seconds"], ours["wall_seconds"])
        out["incremental_day_cpu_vs_full"] = _ratio(day["cpu_seconds"], ours["cpu_seconds"])
    return out


def _target(name: str, value, limit, met: bool | None, note: str = "") -> dict:
    status = "not measured" if met is None else "met" if met else "not met"
    return {"target": name, "value": value, "limit": limit, "status": status, "note": note}


def targets(users: int, c: dict, results: dict) -> list[dict]:
    at_scale = users >= ONE_MILLION
    scale_note = "" if at_scale else f"measured at {users:,} users; the target is for 1M users"
    out = [
        _target("1M users end to end (excl. data generation) <= 5 min", c["end_to_end_seconds"], 300,
                (c["end_to_end_seconds"] <= 300) if at_scale else None, scale_note),
        _target("1M users peak memory (process tree RSS) <= 8 GiB", round(c["peak_rss_bytes"] / GIB, 2), 8,
                (c["peak_rss_bytes"] <= 8 * GIB) if at_scale else None, scale_note),
    ]
    if "speedup_vs_baseline" in c:
        out.append(_target(">= 5x faster than the naive baseline", c["speedup_vs_baseline"], 5,
                           c["speedup_vs_baseline"] >= 5, f"at {users:,} users"))
        out.append(_target("lower peak memory than the naive baseline", c["memory_vs_baseline"], 1,
                           c["memory_vs_baseline"] < 1, f"at {users:,} users"))
    if c.get("landing_to_features_vs_floor") is not None:
        out.append(_target("feature stage within 2x of the DuckDB floor", c["landing_to_features_vs_floor"], 2,
                           c["landing_to_features_vs_floor"] <= 2,
                           "ingestion + dbt_staging + feature_matrix vs the floor query"))
    share = c["orchestration_overhead"]["share"]
    out.append(_target("orchestration overhead < 20% of the 100k run", share, 0.2,
                       (share < 0.2) if users == 100_000 else None,
                       "" if users == 100_000 else f"measured at {users:,} users; the target is for 100k"))
    if "incremental_day_vs_full" in c:
        out.append(_target("one-new-day nightly run <= 30% of a full run", c["incremental_day_vs_full"], 0.3,
                           c["incremental_day_vs_full"] <= 0.3))
    else:
        out.append(_target("one-new-day nightly run <= 30% of a full run", None, 0.3, None,
                           "run with --incremental-day"))
    return out


def _fmt_stage_rows(result: dict) -> list[str]:
    lines = [f"  {'stage':<28} {'seconds':>9} {'share':>7} {'peak RSS MiB':>13} {'CPU s':>8}"]
    for row in result["stages"]:
        lines.append(
            f"  {row['stage']:<28} {row['seconds']:>9.2f} {row['share']:>7.1%} "
            f"{row['peak_rss_bytes'] / MIB:>13.0f} {row['cpu_seconds']:>8.1f}"
        )
    lines.append(
        f"  {'TOTAL':<28} {result['wall_seconds']:>9.2f} {1:>7.0%} {result['peak_rss_bytes'] / MIB:>13.0f} "
        f"{result['cpu_seconds']:>8.1f}"
    )
    return lines


def print_report(report: dict) -> None:
    m = report["machine"]
    print(f"\n=== benchmark {report['size']} ({report['users']:,} users) on {m['cpu_model']}, "
          f"{m['usable_cores']} cores, {m['ram_bytes'] / GIB:.0f} GiB; {report['source']['source']}")
    d = report["data"]
    print(f"data: {d['rows']}; per user: {d['per_user']}")
    for program, result in report["results"].items():
        status = "ok" if result["returncode"] == 0 else f"FAILED (exit {result['returncode']})"
        print(f"\n{program}: {result['wall_seconds']:.1f} s, peak {result['peak_rss_bytes'] / MIB:.0f} MiB, "
              f"{result['average_cores_used']:.2f} cores used, other processes busy "
              f"{result['other_processes_busy_cores']:.2f} cores - {status}")
        print("\n".join(_fmt_stage_rows(result)))
    c = report["comparisons"]
    print("\ncomparisons:")
    for key, value in c.items():
        if key not in ("feature_definitions",):
            print(f"  {key}: {value}")
    print("\ntargets:")
    for t in report["targets"]:
        print(f"  [{t['status']:>12}] {t['target']}: {t['value']} (limit {t['limit']}) {t['note']}")
    print(f"\nreproduce: {report['reproduce']}")


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.report RESULTS.json`: print a saved run, comparisons and targets recomputed
    from its stored measurements (--update writes them back into the file)."""
    import argparse
    import json
    from pathlib import Path

    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=main.__doc__)
    p.add_argument("results", type=Path, nargs="+")
    p.add_argument("--update", action="store_true", help="write the recomputed comparisons into the file")
    args = p.parse_args(argv)
    for path in args.results:
        report = json.loads(path.read_text())
        recomputed = comparisons(report["results"])
        if recomputed != report["comparisons"]:
            report["comparisons"] = recomputed
            report["comparisons_recomputed_from_the_measurements_by"] = "python -m benchmarks.report --update"
        report["targets"] = targets(report["users"], report["comparisons"], report["results"])
        print_report(report)
        if args.update:
            path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

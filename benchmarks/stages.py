"""Stages of each measured program, and how wall time and memory samples are attributed to them.

Every second of a child process's life goes to exactly one stage (overlapping work is split
evenly), so the stage times add up to the wall time. A stage's peak memory is the largest
process-tree RSS sampled while it ran (for a stage shorter than the sampling interval: the
samples just before and after it).

Our pipeline's stages come from three sources:
- the Dagster event log: the job's start and every step's start and end;
- dbt's run_results.json: every dbt node's start and end inside the dbt steps (threads: 2, so
  nodes overlap);
- probes (probes.py): as-of resolution, Great Expectations suites, clustering phases, churn model.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.dbt_results import DbtInvocation, DbtNode, read_invocation
from benchmarks.measure import Measurement, Sample
from benchmarks.run_log import RunLog

GATE_TABLES = ("orders", "order_items", "events", "users", "reviews")

# (stage, what it is) in pipeline order; `make bench` prints them in this order.
OURS_STAGES: tuple[tuple[str, str], ...] = (
    ("startup", "process start, imports, code location and dbt manifest load, until Dagster starts the run"),
    ("ingestion", "raw/* steps: landing files -> raw schema (DuckDB read_csv, all text)"),
    ("as_of_resolution", "the as-of date from raw orders/events (dbt_vars, in the dbt and churn steps)"),
    ("dbt_staging", "dbt seeds, base (typing, row checks), stg views, quarantine and dq models"),
    ("dbt_tests", "dbt tests (asset checks inside `dbt build`)"),
    ("feature_matrix", "dbt intermediate models and marts.user_features"),
    ("dbt_rfm", "dbt marts.user_rfm_segments"),
    ("dbt_overhead", "time in dbt steps outside any node: dbt start-up, parsing, scheduling, event streaming"),
    *((f"gate_landing_{t}", f"quality gate on {t} (GX suite + quarantine share)") for t in GATE_TABLES),
    ("gate_user_features", "quality gate on user_features (GX suite)"),
    ("churn_features", "dbt nodes rebuilding user_features as of (as-of - horizon) for churn training"),
    ("churn_model", "churn labels, model training and scoring (run_churn) and the rest of the churn step"),
    ("clustering_model_selection", "preprocessing, candidate algorithms x K, selection, assignment of all users"),
    ("classifiers", "segment classifier training and confidence"),
    ("segments_other", "rest of user_segments: feature load, names, tags, explanations, plots, model save"),
    ("analytics", "association rules per segment (FP-growth)"),
    ("publish", "publish steps except the gate: build, history and KPI tables, atomic swap, exports"),
    ("gate_published_labels", "quality gate on the new segment_labels (GX suite)"),
    ("orchestration_gaps", "time between Dagster steps (event log writes, step launch)"),
    ("teardown", "after the last step: run end, process exit"),
)
BASELINE_STAGES: tuple[tuple[str, str], ...] = (
    ("startup_teardown", "interpreter start, imports, exit"),
    ("read_csv", "pandas.read_csv of every landing file"),
    ("features", "pandas groupby features, merged per user"),
    ("scale_and_kmeans", "StandardScaler, K-Means for K = 2..8 (elbow), final labels"),
    ("write_labels", "labels to CSV"),
)
FLOOR_STAGES: tuple[tuple[str, str], ...] = (
    ("startup_teardown", "interpreter start, imports, exit"),
    ("query", "one DuckDB query: per-user aggregates straight from the landing files"),
)
STAGES = {"ours": OURS_STAGES, "baseline": BASELINE_STAGES, "floor": FLOOR_STAGES}
# Orchestration overhead (target: < 20% of the 100k run).
OVERHEAD_STAGES = ("startup", "dbt_overhead", "orchestration_gaps", "teardown")
MISSING_PROBE = "probe_missing"


@dataclass
class Span:
    name: str
    start: float
    end: float
    priority: int = 1


@dataclass
class StageTime:
    seconds: float = 0.0
    intervals: list[tuple[float, float]] = field(default_factory=list)

    def add(self, seconds: float, start: float, end: float) -> None:
        self.seconds += seconds
        if self.intervals and abs(self.intervals[-1][1] - start) < 1e-9:
            self.intervals[-1] = (self.intervals[-1][0], end)
        else:
            self.intervals.append((start, end))


Attribution = dict[str, StageTime]


def partition(start: float, end: float, spans: Iterable[Span], residual: str) -> Attribution:
    """Split [start, end] among `spans`: at each moment the highest-priority spans share the time
    evenly; moments no span covers go to `residual`."""
    clipped = [Span(s.name, max(s.start, start), min(s.end, end), s.priority) for s in spans]
    clipped = [s for s in clipped if s.end > s.start]
    cuts = sorted({start, end, *(s.start for s in clipped), *(s.end for s in clipped)})
    out: Attribution = {}
    for a, b in zip(cuts, cuts[1:]):
        active = [s for s in clipped if s.start <= a and s.end >= b]
        if active:
            top = max(s.priority for s in active)
            names = sorted({s.name for s in active if s.priority == top})
        else:
            names = [residual]
        for name in names:
            out.setdefault(name, StageTime()).add((b - a) / len(names), a, b)
    return out


def merge(target: Attribution, source: Attribution) -> None:
    for name, part in source.items():
        stage = target.setdefault(name, StageTime())
        stage.seconds += part.seconds
        stage.intervals.extend(part.intervals)


# --- our pipeline ----------------------------------------------------------------------------------

def dbt_stage(node: DbtNode) -> str:
    if node.resource_type == "test":
        return "dbt_tests"
    if node.resource_type == "seed":
        return "dbt_staging"
    path, name = node.path, node.name
    if name.startswith("int_") or name == "user_features" or "/intermediate/" in path:
        return "feature_matrix"
    if name == "user_rfm_segments":
        return "dbt_rfm"
    if "/staging/" in path or "/quality/" in path or name.startswith(("base_", "stg_", "quarantine_", "dq_")):
        return "dbt_staging"
    return "dbt_other_models"


def step_stage(key: str) -> str:
    """The stage a Dagster step belongs to when nothing inside it is measured more finely."""
    if key.startswith("raw__"):
        return "ingestion"
    if key == "dbt_models":
        return "dbt_overhead"
    match = re.search(r"landing_(\w+?)_quality$", key)
    if match:
        return f"gate_landing_{match.group(1)}"
    if key.endswith("user_features_quality"):
        return "gate_user_features"
    if key == "churn_scores":
        return "churn_model"
    if key == "user_segments":
        return "segments_other"
    if key in ("segment_labels", "publish_segments", "segment_exports"):
        return "publish"
    if key == "association_rules":
        return "analytics"
    return f"other:{key}"


def _probe_spans(spans: list[dict[str, Any]]) -> list[Span]:
    """Probe records as spans with stage names; the segment_users laps become consecutive spans."""
    out: list[Span] = []
    for entry in spans:
        name, start, end = entry["name"], float(entry["start"]), float(entry["end"])
        if name == "as_of_resolution":
            out.append(Span("as_of_resolution", start, end, 2))
        elif name == "churn_model":
            out.append(Span("churn_model", start, end, 1))
        elif name == "gx:segment_labels":
            out.append(Span("gate_published_labels", start, end, 2))
        elif name == "segment_users":
            clock = start
            for lap, seconds in entry.get("laps", []):
                stage = {"selection_and_assignment": "clustering_model_selection", "classifier": "classifiers"}.get(
                    lap, "segments_other"
                )
                out.append(Span(stage, clock, min(clock + float(seconds), end), 2))
                clock += float(seconds)
    return out


def _dbt_invocations(
    spans: list[dict[str, Any]], steps_end: dict[str, float]
) -> list[tuple[Span, DbtInvocation | None, float]]:
    """Each dbt CLI invocation as a window (start of `dbt.cli` to `.wait()` or its step's end) and its nodes."""
    waits = {e["target_path"]: float(e["end"]) for e in spans if e["name"] == "dbt_cli_wait"}
    out = []
    for entry in spans:
        if entry["name"] != "dbt_cli_start":
            continue
        start, target = float(entry["start"]), entry["target_path"]
        end = waits.get(target)
        if end is None:  # streamed (`dbt build` in dbt_models): ends with its step
            end = min((e for e in steps_end.values() if e >= start), default=start)
        invocation = read_invocation(target, (entry.get("args") or [""])[0])
        if invocation is not None and invocation.invocation_started_at is not None and not (
            start - 5 <= invocation.invocation_started_at <= end
        ):
            invocation = None  # run_results.json was overwritten by another dbt run in the same folder
        out.append((Span("dbt_overhead", start, end, 1), invocation, float(entry["end"])))
    return out


def attribute_ours(measurement: Measurement, log: RunLog, spans: list[dict[str, Any]]) -> tuple[Attribution, dict]:
    steps = [s for s in log.steps if s.end is not None]
    run_start = log.run_start or (steps[0].start if steps else measurement.start)
    last_end = max((s.end for s in steps), default=run_start)
    top = [Span("startup", measurement.start, run_start), Span("teardown", last_end, measurement.end)]
    top += [Span(f"step:{s.key}", s.start, s.end) for s in steps]
    attribution: Attribution = {}
    outer = partition(measurement.start, measurement.end, top, "orchestration_gaps")
    invocations = _dbt_invocations(spans, {s.key: s.end for s in steps})
    probe_spans = _probe_spans(spans)
    dbt_details = []
    for name, part in outer.items():
        if not name.startswith("step:"):
            merge(attribution, {name: part})
            continue
        key = name[len("step:"):]
        inner: list[Span] = []
        for window, invocation, launched in invocations:
            if not (part.intervals[0][0] - 1 <= window.start <= part.intervals[-1][1]):
                continue
            inner.append(window)
            if invocation is None:
                continue
            churn = key == "churn_scores"
            inner += [Span("churn_features" if churn else dbt_stage(n), n.start, n.end, 2) for n in invocation.nodes]
            dbt_details.append(_dbt_detail(key, window, invocation, launched))
        inner += [s for s in probe_spans if s.name != "churn_model" or key == "churn_scores"]
        for a, b in part.intervals:
            merge(attribution, partition(a, b, inner, step_stage(key)))
    ready = next((float(e["start"]) for e in spans if e["name"] == "interpreter_ready"), None)
    loaded = next((float(e["end"]) for e in spans if e["name"] == "load_code_location"), None)
    returned = next((float(e["end"]) for e in spans if e["name"] == "cli_returned"), None)
    details = {
        "startup_breakdown": {
            "python_start": round(ready - measurement.start, 3) if ready else None,
            "load_code_location": round(loaded - ready, 3) if ready and loaded else None,
            "dagster_cli_until_run_start": round(run_start - loaded, 3) if loaded else None,
        },
        "teardown_breakdown": {
            "until_dagster_cli_returned": round(returned - last_end, 3) if returned else None,
            "interpreter_exit": round(measurement.end - returned, 3) if returned else None,
        },
        "run_id": log.run_id,
        "run_status": log.status,
        "asset_check_evaluations": log.check_evaluations,
        "steps": [{"key": s.key, "seconds": round(s.seconds, 3), "status": s.status} for s in log.steps],
        "dbt_invocations": dbt_details,
        "probes": _probe_totals(spans),
        "segmentation_laps": next((e.get("laps") for e in spans if e["name"] == "segment_users"), None),
        "missing_probes": [e.get("probe") for e in spans if e["name"] == MISSING_PROBE],
    }
    return attribution, details


def _dbt_detail(step: str, window: Span, invocation: DbtInvocation, launched: float) -> dict:
    nodes = invocation.nodes
    busy = partition(window.start, window.end, [Span("node", n.start, n.end) for n in nodes], "idle")
    by_stage: dict[str, float] = {}
    for node in nodes:
        by_stage[dbt_stage(node)] = by_stage.get(dbt_stage(node), 0.0) + node.seconds
    slowest = sorted(nodes, key=lambda n: n.seconds, reverse=True)[:12]
    first = nodes[0].start if nodes else window.end
    last = max((n.end for n in nodes), default=window.end)
    running = busy.get("node", StageTime()).seconds

    def between(a: float | None, b: float | None) -> float | None:
        return round(b - a, 3) if a is not None and b is not None else None

    return {
        "step": step,
        "command": invocation.command,
        "seconds": round(window.end - window.start, 3),
        "nodes": len(nodes),
        "seconds_with_a_node_running": round(running, 3),
        "partial_parse": invocation.partial_parse,
        # Where the rest goes, in order: dagster-dbt preparing the command until the process is started,
        # dbt's imports until its first log line, parsing until "Concurrency: N threads", then until
        # the first node, idle gaps between nodes, and after the last node (run_results, exit,
        # dagster-dbt's event post-processing).
        "overhead_breakdown": {
            "dagster_dbt_prepare": between(window.start, launched),
            "dbt_imports": between(launched, invocation.first_log_at),
            "parse": between(invocation.first_log_at, invocation.run_started_at),
            "until_first_node": between(invocation.run_started_at, first),
            "gaps_between_nodes": round((last - first) - running, 3) if nodes else None,
            "after_last_node": round(window.end - last, 3),
        },
        "node_seconds_by_stage": {k: round(v, 3) for k, v in sorted(by_stage.items())},
        "slowest_nodes": [{"node": n.name, "type": n.resource_type, "seconds": round(n.seconds, 3)} for n in slowest],
    }


def _probe_totals(spans: list[dict[str, Any]]) -> list[dict]:
    totals: dict[str, list[float]] = {}
    for entry in spans:
        if entry["name"] in (MISSING_PROBE, "interpreter_ready", "dbt_cli_start", "cli_returned"):
            continue
        total = totals.setdefault(entry["name"], [0, 0.0])
        total[0] += 1
        total[1] += float(entry["end"]) - float(entry["start"])
    return [{"probe": k, "calls": n, "seconds": round(s, 3)} for k, (n, s) in totals.items()]


# --- baseline and floor ----------------------------------------------------------------------------

def attribute_simple(measurement: Measurement, spans: list[dict[str, Any]]) -> Attribution:
    phases = [Span(e["name"], float(e["start"]), float(e["end"])) for e in spans if e["name"] != MISSING_PROBE]
    return partition(measurement.start, measurement.end, phases, "startup_teardown")


# --- memory and CPU per stage --------------------------------------------------------------------

def stage_peak(samples: list[Sample], intervals: list[tuple[float, float]]) -> int:
    times = [s.t for s in samples]
    peak = 0
    for a, b in intervals:
        lo, hi = bisect.bisect_left(times, a), bisect.bisect_right(times, b)
        if lo < hi:
            peak = max(peak, max(s.rss for s in samples[lo:hi]))
        else:  # shorter than the sampling interval: the neighbouring samples
            around = samples[max(lo - 1, 0):min(hi + 1, len(samples))]
            peak = max(peak, max((s.rss for s in around), default=0))
    return peak


def stage_cpu(samples: list[Sample], intervals: list[tuple[float, float]]) -> float:
    """CPU seconds between consecutive samples whose midpoint falls in the stage (approximate)."""
    total = 0.0
    for before, after in zip(samples, samples[1:]):
        mid = (before.t + after.t) / 2
        if any(a <= mid < b for a, b in intervals):
            total += max(0.0, after.cpu - before.cpu)
    return total


def stage_table(program: str, measurement: Measurement, attribution: Attribution) -> list[dict]:
    known = [name for name, _ in STAGES[program]]
    names = known + sorted(n for n in attribution if n not in known)
    wall = max(measurement.wall_seconds, 1e-9)
    rows = []
    for name in names:
        part = attribution.get(name, StageTime())
        rows.append({
            "stage": name,
            "seconds": round(part.seconds, 3),
            "share": round(part.seconds / wall, 4),
            "peak_rss_bytes": stage_peak(measurement.samples, part.intervals) if part.intervals else 0,
            "cpu_seconds": round(stage_cpu(measurement.samples, part.intervals), 2),
        })
    return rows

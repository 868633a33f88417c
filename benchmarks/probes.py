"""Timing probes for the measured child processes: named spans appended to a JSON-lines file.

A child (the pipeline, the naive baseline, the floor) records what it is doing as spans
`{"name", "start", "end", ...}` (wall-clock epoch seconds, the clock of the Dagster event
log) in the file named by BENCH_SPANS. The harness turns them into per-stage time and memory.

For the pipeline, `install_pipeline_probes()` wraps a few functions of `segmentation_pipeline`
from the outside (nothing in the pipeline is edited): the as-of resolution, feature loads,
Great Expectations suites, the clustering, the churn model and the dbt CLI invocations.
A wrapper that cannot be installed because the pipeline changed is reported as a
`probe_missing` record; the harness then shows that time under the enclosing stage.

This file is imported by path (`import probes`) in the children and as `benchmarks.probes`
in the harness, so it depends on nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

SPANS_ENV = "BENCH_SPANS"


def record(entry: dict[str, Any]) -> None:
    path = os.environ.get(SPANS_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry, default=str) + "\n")


@contextlib.contextmanager
def span(name: str, **attrs: Any) -> Iterator[dict[str, Any]]:
    """Record `name` from entering to leaving; `attrs` may be filled in inside the block."""
    start = time.time()
    try:
        yield attrs
    finally:
        record({"name": name, "start": start, "end": time.time(), **attrs})


def read_spans(path: str | os.PathLike) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    except FileNotFoundError:
        return []


# --- pipeline probes -------------------------------------------------------------------------------

def _timed(func: Callable, name: Callable[..., str], after: Callable[[Any, dict], None] | None = None) -> Callable:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        attrs: dict[str, Any] = {}
        start = time.time()
        try:
            result = func(*args, **kwargs)
            if after is not None:
                after(result, attrs)
            return result
        finally:
            record({"name": name(*args, **kwargs), "start": start, "end": time.time(), **attrs})

    wrapper.__bench_probe__ = True  # type: ignore[attr-defined]
    return wrapper


def _rebind_everywhere(original: Callable, replacement: Callable) -> int:
    """Point every loaded pipeline module's reference to `original` at `replacement` (from-imports included)."""
    count = 0
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("segmentation_pipeline"):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                setattr(module, attr, replacement)
                count += 1
    return count


def _probe(module: str, attr: str, name: Callable[..., str], after: Callable[[Any, dict], None] | None = None) -> None:
    """Wrap `module.attr` now if the module is loaded, else as soon as it has been imported.

    The pipeline imports its heavy modules (scikit-learn's users, ...) in its steps, not when the
    code location loads; importing them here to wrap them would add their import to the start-up.
    """
    if module in sys.modules:
        _wrap(sys.modules[module], module, attr, name, after)
        return
    _PENDING.setdefault(module, []).append(lambda loaded: _wrap(loaded, module, attr, name, after))
    if not any(isinstance(finder, _ProbeAfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ProbeAfterImport())


def _wrap(loaded: Any, module: str, attr: str, name: Callable[..., str],
          after: Callable[[Any, dict], None] | None) -> None:
    original = getattr(loaded, attr, None)
    if original is None:
        record({"name": "probe_missing", "start": time.time(), "end": time.time(), "probe": f"{module}.{attr}",
                "error": f"{module} has no {attr}"})
        return
    if getattr(original, "__bench_probe__", False):
        return
    _rebind_everywhere(original, _timed(original, name, after))


_PENDING: dict[str, list[Callable[[Any], None]]] = {}  # module -> probes to install once it is imported


class _ProbeAfterImport:
    """Meta path finder: for a module with pending probes, the module's own loader, followed by the probes."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _PENDING:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_probe(loaded: Any) -> None:
            exec_module(loaded)
            for install in _PENDING.pop(fullname, []):
                install(loaded)

        loader.exec_module = exec_then_probe
        return spec


def _segment_laps(outcome: Any, attrs: dict) -> None:
    """`segment_users` measures its own phases (outcome.timings, seconds in order); keep them."""
    timings = getattr(outcome, "timings", None)
    if isinstance(timings, dict):
        attrs["laps"] = [[k, float(v)] for k, v in timings.items()]


def _suite_name(*args: Any, **kwargs: Any) -> str:
    suite = kwargs.get("checkpoint") or (args[1] if len(args) > 1 else "?")
    return f"gx:{suite}"


def _relation(*args: Any, **kwargs: Any) -> str:
    relation = kwargs.get("relation") or (args[1] if len(args) > 1 else "marts.user_features")
    return f"feature_load:{relation}"


def _install_dbt_probe() -> None:
    """Each dbt CLI invocation: when it was started, its target folder (run_results.json) and, for
    `.wait()`, when it ended (a streamed `dbt build` ends with its Dagster step)."""
    try:
        from dagster_dbt import DbtCliResource
        from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
    except ImportError as exc:
        record({"name": "probe_missing", "start": time.time(), "end": time.time(), "probe": "dagster_dbt",
                "error": repr(exc)})
        return
    cli, wait = DbtCliResource.cli, DbtCliInvocation.wait
    if getattr(cli, "__bench_probe__", False):
        return

    @functools.wraps(cli)
    def cli_probe(self: Any, args: Any, *a: Any, **k: Any) -> Any:
        start = time.time()
        invocation = cli(self, args, *a, **k)
        invocation.__dict__["_bench_start"] = start
        record({"name": "dbt_cli_start", "start": start, "end": time.time(), "args": list(args),
                "target_path": str(invocation.target_path), "pid": invocation.process.pid})
        return invocation

    @functools.wraps(wait)
    def wait_probe(self: Any) -> Any:
        try:
            return wait(self)
        finally:
            record({"name": "dbt_cli_wait", "start": self.__dict__.get("_bench_start", time.time()),
                    "end": time.time(), "target_path": str(self.target_path)})

    cli_probe.__bench_probe__ = wait_probe.__bench_probe__ = True  # type: ignore[attr-defined]
    DbtCliResource.cli = cli_probe
    DbtCliInvocation.wait = wait_probe


def install_pipeline_probes() -> None:
    """Load the code location (as `dagster job execute` would) and wrap the measured functions."""
    importlib.import_module("segmentation_pipeline.definitions")
    _install_dbt_probe()
    _probe("segmentation_pipeline.defs.dbt", "dbt_vars", lambda *a, **k: "as_of_resolution")
    _probe("segmentation_pipeline.segments", "load_feature_frame", _relation)
    _probe("segmentation_pipeline.ml.segmentation", "segment_users", lambda *a, **k: "segment_users", _segment_laps)
    _probe("segmentation_pipeline.churn", "run_churn", lambda *a, **k: "churn_model")
    _probe("segmentation_pipeline.quality.validate", "run_suite", _suite_name)

"""Node timings of one dbt invocation, from `run_results.json` (and `manifest.json`) in its target folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass
class DbtNode:
    unique_id: str
    resource_type: str  # model, test, seed, ...
    path: str  # original_file_path, e.g. models/staging/base/base_shop__orders_checked.sql
    start: float
    end: float
    status: str

    @property
    def name(self) -> str:
        return self.unique_id.split(".")[2] if self.unique_id.count(".") >= 2 else self.unique_id

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class DbtInvocation:
    command: str
    target_path: str
    invocation_started_at: float | None
    generated_at: float | None
    nodes: list[DbtNode]
    first_log_at: float | None = None  # dbt's first log line: the process has imported dbt
    run_started_at: float | None = None  # "Concurrency: N threads": parsing is done, nodes are next
    partial_parse: bool | None = None  # False when dbt had to re-parse the whole project


def _read_log(target: Path, invocation: DbtInvocation, invocation_id: str | None) -> None:
    """Phases of the dbt process from its JSON log (dbt.log in the target folder; a reused target
    folder appends to it, so only this invocation's lines count)."""
    try:
        lines = (target / "dbt.log").open(encoding="utf-8")
    except FileNotFoundError:
        return
    with lines:
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                info = json.loads(line)["info"]
            except (json.JSONDecodeError, KeyError):
                continue
            if invocation_id and info.get("invocation_id") != invocation_id:
                continue
            if invocation.first_log_at is None:
                invocation.first_log_at = _epoch(info.get("ts"))
                invocation.partial_parse = True
            name = info.get("name")
            if name == "UnableToPartialParse":
                invocation.partial_parse = False
            elif name == "ConcurrencyLine":
                invocation.run_started_at = _epoch(info.get("ts"))
                return


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_invocation(target_path: str | Path, command: str = "") -> DbtInvocation | None:
    target = Path(target_path)
    try:
        results = json.loads((target / "run_results.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    try:
        manifest_nodes = json.loads((target / "manifest.json").read_text()).get("nodes", {})
    except (FileNotFoundError, json.JSONDecodeError):
        manifest_nodes = {}
    nodes = []
    for result in results.get("results", []):
        stamps = [(_epoch(t.get("started_at")), _epoch(t.get("completed_at"))) for t in result.get("timing", [])]
        stamps = [(s, e) for s, e in stamps if s is not None and e is not None]
        if not stamps:
            continue
        unique_id = result["unique_id"]
        node = manifest_nodes.get(unique_id, {})
        nodes.append(DbtNode(
            unique_id=unique_id,
            resource_type=node.get("resource_type") or unique_id.split(".")[0],
            path=node.get("original_file_path", ""),
            start=min(s for s, _ in stamps),
            end=max(e for _, e in stamps),
            status=result.get("status", ""),
        ))
    metadata = results.get("metadata", {})
    invocation = DbtInvocation(
        command=command or results.get("args", {}).get("which", ""),
        target_path=str(target),
        invocation_started_at=_epoch(metadata.get("invocation_started_at")),
        generated_at=_epoch(metadata.get("generated_at")),
        nodes=sorted(nodes, key=lambda n: n.start),
    )
    _read_log(target, invocation, metadata.get("invocation_id"))
    return invocation

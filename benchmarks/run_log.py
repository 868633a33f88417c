"""What the Dagster instance recorded about a run: when it started and each step's start and end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Step:
    key: str
    start: float
    end: float | None = None
    status: str = "started"

    @property
    def seconds(self) -> float:
        return (self.end or self.start) - self.start


@dataclass
class RunLog:
    run_id: str
    status: str
    run_start: float | None
    run_end: float | None
    steps: list[Step] = field(default_factory=list)
    check_evaluations: int = 0


def read_run_log(dagster_home: Path) -> RunLog | None:
    """The newest run in the instance at `dagster_home` (the harness gives each run its own instance)."""
    from dagster import DagsterEventType, DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return None
        run = runs[0]
        log = RunLog(run_id=run.run_id, status=run.status.value, run_start=None, run_end=None)
        steps: dict[str, Step] = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            kind = event.event_type
            if kind == DagsterEventType.RUN_START:
                log.run_start = entry.timestamp
            elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED):
                log.run_end = entry.timestamp
            elif kind == DagsterEventType.STEP_START:
                steps[entry.step_key] = Step(entry.step_key, entry.timestamp)
            elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_SKIPPED):
                step = steps.setdefault(entry.step_key, Step(entry.step_key, entry.timestamp))
                step.end, step.status = entry.timestamp, kind.value.lower()
            elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
                log.check_evaluations += 1
        log.steps = sorted(steps.values(), key=lambda s: s.start)
        return log

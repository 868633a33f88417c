"""Run a command as a child process and sample its whole process tree (RSS, CPU) with psutil."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.2


@dataclass
class Sample:
    t: float  # epoch seconds
    rss: int  # bytes, sum over the process and all its descendants
    cpu: float  # CPU seconds used so far by the tree (processes that exited keep their last value)
    processes: int


@dataclass
class Measurement:
    command: list[str]
    start: float  # just before the process was created
    end: float  # when it was reaped
    returncode: int
    samples: list[Sample] = field(default_factory=list)
    cpu_seconds: float = 0.0  # user + system of the tree, from the kernel (getrusage of reaped children)
    machine_busy_cores: float = 0.0  # average cores busy on the whole machine during the run
    log: str = ""
    processes: dict[str, list[float]] = field(default_factory=dict)  # command -> [first seen, last seen, count]

    @property
    def wall_seconds(self) -> float:
        return self.end - self.start

    @property
    def peak_rss(self) -> int:
        return max((s.rss for s in self.samples), default=0)

    @property
    def others_busy_cores(self) -> float:
        """Average cores used by processes outside the measured tree: the noise from other work."""
        return max(0.0, self.machine_busy_cores - self.cpu_seconds / max(self.wall_seconds, 1e-9))


def _busy_seconds(times: psutil._common.scputimes) -> float:  # type: ignore[name-defined]
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _command(proc: psutil.Process) -> str:
    """A short name for a process: the program and the first arguments (`python -m dagster ...`)."""
    try:
        words = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return "?"
    words = [w.rsplit("/", 1)[-1] for w in words[:4]]
    return " ".join(words)[:80] or "?"


def _sampler(
    root: psutil.Process, stop: threading.Event, samples: list[Sample], interval: float,
    seen: dict[str, list[float]],
) -> None:
    cpu_by_pid: dict[tuple[int, float], float] = {}
    names: dict[tuple[int, float], str] = {}
    while True:
        rss, count = 0, 0
        for proc in _tree(root):
            try:
                with proc.oneshot():
                    mem, cpu = proc.memory_info().rss, proc.cpu_times()
                    key = (proc.pid, proc.create_time())
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            rss += mem
            count += 1
            if key not in names:
                names[key] = _command(proc)
                seen.setdefault(names[key], [time.time(), time.time(), 0])[2] += 1
            seen[names[key]][1] = time.time()
            cpu_by_pid[key] = cpu.user + cpu.system  # reaped children are still in cpu_by_pid
        if count:
            samples.append(Sample(time.time(), rss, sum(cpu_by_pid.values()), count))
        if stop.wait(interval):
            return


def run_measured(
    command: list[str],
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    interval: float = SAMPLE_SECONDS,
) -> Measurement:
    """Run `command` to completion, sampling the tree every `interval` seconds; output goes to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = _busy_seconds(psutil.cpu_times())
    samples: list[Sample] = []
    seen: dict[str, list[float]] = {}
    stop = threading.Event()
    with open(log_path, "w", encoding="utf-8") as log:
        start = time.time()
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:  # finished before we looked
            root = None
        thread = None
        if root is not None:
            thread = threading.Thread(target=_sampler, args=(root, stop, samples, interval, seen), daemon=True)
            thread.start()
        try:
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            end = time.time()
            stop.set()
            if thread is not None:
                thread.join()
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after = _busy_seconds(psutil.cpu_times())
    cpu = (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime)
    # A child that exits before its parent reaps it (py-spy's target, for one) is not in RUSAGE_CHILDREN;
    # the sampler kept the last CPU time of every process it saw in the tree.
    cpu = max(cpu, samples[-1].cpu if samples else 0.0)
    wall = max(end - start, 1e-9)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return Measurement(
        command=command,
        start=start,
        end=end,
        returncode=returncode,
        samples=samples,
        cpu_seconds=cpu,
        machine_busy_cores=(busy_after - busy_before) / wall,
        log=text[-4000:],
        processes=seen,
    )


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGMENTATION_", "BENCH_", "DAGSTER_"))}
    env.update({"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env

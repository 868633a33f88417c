"""One real `dagster dev` server for the UI tests, shared by test_ui_browser.py and test_graphql_run.py.

The server runs from the venv with `workspace.yaml`, a temporary DAGSTER_HOME (telemetry off) and
SEGMENTATION_* paths in a temporary folder holding a small generated shop. It is started once per
pytest session, in its own process group, and that whole group (webserver, daemon, code server and
run workers) is stopped by process-group id when the session ends; its log is then copied to
test-artifacts/ui/dagster_dev.log and the temporary folder removed.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from segmentation_pipeline.demo_data import generate

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "ui"
LOG_NOTE = f"server log: {ARTIFACTS / 'dagster_dev.log'} (copied there when the server stops)"
DEMO_AS_OF = "2026-06-30"
DEMO_USERS = 1500
SERVER_START_TIMEOUT = 240
RUN_TIMEOUT = 600


@dataclass
class DagsterServer:
    port: int
    root: Path
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def published_db(self) -> Path:
        return Path(self.env["SEGMENTATION_PUBLISHED_DB"])

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def run_status(self, run_id: str) -> str:
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }", {"id": run_id}
        )
        return data["runOrError"].get("status", data["runOrError"]["__typename"])

    def wait_for_run(self, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
        """Poll the run's status until it is final; returns SUCCESS, FAILURE or CANCELED."""
        deadline = time.monotonic() + timeout
        status = "UNKNOWN"
        while time.monotonic() < deadline:
            self.check_alive()
            status = self.run_status(run_id)
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return status
            time.sleep(3)
        raise TimeoutError(f"run {run_id} still {status} after {timeout:.0f}s; {LOG_NOTE}")

    def runs(self) -> list[dict]:
        data = self.graphql("{ runsOrError { ... on Runs { results { runId status jobName } } } }")
        return data["runsOrError"]["results"]

    def failure_messages(self, run_id: str) -> str:
        """The run's error-level log messages, to explain a failed run in the assertion."""
        data = self.graphql(
            """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { __typename
                 ... on EventConnection { events { __typename ... on MessageEvent { message level } } } } }""",
            {"id": run_id},
        )
        events = data["logsForRun"].get("events", [])
        return "\n".join(e["message"] for e in events if e.get("level") in ("ERROR", "CRITICAL"))

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {self.process.returncode}; {LOG_NOTE}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _location_loaded(server: DagsterServer) -> bool:
    try:
        data = server.graphql(
            """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
                 locationOrLoadError { __typename ... on PythonError { message } } } } } }""",
            timeout=10,
        )
    except OSError:
        return False  # not listening yet
    entries = data["workspaceOrError"]["locationEntries"]
    for entry in entries:
        error = entry["locationOrLoadError"]
        if error and error["__typename"] == "PythonError":
            raise RuntimeError(f"code location {entry['name']} failed to load: {error['message']}")
    return bool(entries) and all(e["loadStatus"] == "LOADED" and e["locationOrLoadError"] for e in entries)


def _default_signals() -> None:
    """Ctrl-C semantics in the child even when pytest runs with SIGINT ignored (a background job).

    Dagster maps SIGTERM to its SIGINT handler; an inherited "ignore SIGINT" would make it ignore both.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_server() -> DagsterServer:
    root = Path(tempfile.mkdtemp(prefix="segmentation-ui-"))
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    generate(users=DEMO_USERS, seed=7, out_dir=root / "landing", truth_dir=root / "truth", as_of=DEMO_AS_OF, fmt="csv")
    (root / "segmentation.yaml").write_text("clustering: {k_min: 2, k_max: 6, seed: 42}\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SEGMENTATION_", "DAGSTER_", "PYTEST_"))
    }
    env.update(
        DAGSTER_HOME=str(home),
        SEGMENTATION_DATA_DIR=str(root / "landing"),
        SEGMENTATION_WAREHOUSE=str(root / "warehouse.duckdb"),
        SEGMENTATION_PUBLISHED_DB=str(root / "segments.duckdb"),
        SEGMENTATION_MODELS_DIR=str(root / "models"),
        SEGMENTATION_CONFIG=str(root / "segmentation.yaml"),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PYTHONUNBUFFERED="1",
        FRESHNESS_DAEMON_INTERVAL_SECONDS="5",  # freshness states shortly after a run (default 30 s)
    )
    port = _free_port()
    log_path = root / "dagster_dev.log"
    dagster = Path(sys.executable).parent / "dagster"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as a whole in stop_server
            preexec_fn=_default_signals,
        )
    server = DagsterServer(port=port, root=root, env=env, process=process, log_path=log_path)
    atexit.register(stop_server, server)  # also when pytest is interrupted before the session cleanup
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    try:
        while not _location_loaded(server):
            server.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"dagster dev not ready after {SERVER_START_TIMEOUT}s; {LOG_NOTE}")
            time.sleep(2)
    except BaseException:
        stop_server(server)
        raise
    return server


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (not zombie) processes of the process group `pgid`."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getpgid(process.pid) == pgid and process.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def _group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def stop_server(server: DagsterServer, grace: float = 20) -> None:
    """Stops the server's process group: dagster dev, webserver, daemon, code servers and run workers.

    Ctrl-C (SIGINT) to the group, as a user stops `dagster dev`; once dagster dev has exited (at most
    `grace` seconds), SIGTERM to what is left (code servers wait for a heartbeat otherwise), then SIGKILL.
    """
    pgid = server.process.pid  # start_new_session: the group id is the leader's pid
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if not _group_alive(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if server.process.poll() is None:
                try:
                    server.process.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    continue
            if sig == signal.SIGINT or not _group_alive(pgid):
                break
            time.sleep(0.2)
    server.process.wait(timeout=10)
    left = group_members(pgid)
    if left:
        raise RuntimeError(f"processes of dagster dev still running: {[p.pid for p in left]}")
    # Keep the server's log beside the screenshots; drop the temporary shop, warehouse and Dagster home.
    if server.log_path.exists():
        shutil.copy(server.log_path, artifacts_dir() / "dagster_dev.log")
    shutil.rmtree(server.root, ignore_errors=True)


_SERVER: DagsterServer | None = None


def shared_server(config: pytest.Config) -> DagsterServer:
    """The session's server, started on first use and stopped when pytest finishes."""
    global _SERVER
    if _SERVER is None:
        _SERVER = start_server()
        server = _SERVER
        config.add_cleanup(lambda: stop_server(server))
    else:
        _SERVER.check_alive()
    return _SERVER


def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

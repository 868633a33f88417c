"""`segmentation_job` launched through Dagster's GraphQL API (the dagster-graphql client), as a scheduler or
another service would, against the running `dagster dev` of tests/ui_server.py (shared with the browser test).
"""

from __future__ import annotations

import time

import duckdb
import pytest
from dagster import DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient

from ui_server import DEMO_USERS, RUN_TIMEOUT, DagsterServer, shared_server

JOB = "segmentation_job"
FINAL = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


@pytest.fixture(scope="module")
def server(pytestconfig: pytest.Config) -> DagsterServer:
    return shared_server(pytestconfig)


def test_segmentation_job_through_graphql_publishes_every_user(server: DagsterServer):
    client = DagsterGraphQLClient("127.0.0.1", port_number=server.port, timeout=60)
    launched_at = time.time()
    run_id = client.submit_job_execution(JOB, tags={"launched_by": "test_graphql_run"})

    deadline = time.monotonic() + RUN_TIMEOUT
    status = client.get_run_status(run_id)
    while status not in FINAL:
        assert time.monotonic() < deadline, f"run {run_id} still {status} after {RUN_TIMEOUT}s"
        server.check_alive()
        time.sleep(3)
        status = client.get_run_status(run_id)
    assert status == DagsterRunStatus.SUCCESS, f"run {run_id} ended {status}:\n{server.failure_messages(run_id)}"

    published = server.published_db
    assert published.stat().st_mtime >= launched_at, "segment_labels was not (re)published by this run"
    with duckdb.connect(str(published), read_only=True) as con:
        users, distinct_users, unlabelled = con.execute(
            "SELECT count(*), count(DISTINCT user_id), count(*) FILTER (WHERE segment_name IS NULL) FROM segment_labels"
        ).fetchone()
    assert users == distinct_users == DEMO_USERS
    assert unlabelled == 0

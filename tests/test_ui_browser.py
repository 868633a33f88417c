"""The Dagster UI as a user meets it, driven in a real browser against a real `dagster dev`.

Debian's Chromium (/usr/bin/chromium, installed by `make browser`) through Playwright's Python package;
Playwright never downloads a browser here. The server (tests/ui_server.py) runs on a small generated shop
in a temporary folder. Screenshots go to test-artifacts/ui/ (printed at the start of the test).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from ui_server import DEMO_USERS, DagsterServer, artifacts_dir, shared_server  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
JOB = "segmentation_job"
# The published asset whose page is checked: row count, segment sizes, plots, freshness.
PUBLISHED_ASSET = "segment_labels"
UI_TIMEOUT_MS = 60_000
expect.set_options(timeout=UI_TIMEOUT_MS)  # pages and launches take seconds on a busy 2-core machine


def _asset_groups() -> set[str]:
    """Every asset group of the code location, from the Definitions (not a hard-coded list)."""
    from segmentation_pipeline.definitions import defs

    return {spec.group_name for spec in defs.resolve_all_asset_specs()}


@pytest.fixture(scope="module")
def server(pytestconfig: pytest.Config) -> DagsterServer:
    return shared_server(pytestconfig)


@pytest.fixture(scope="module")
def screenshots(pytestconfig: pytest.Config) -> Path:
    folder = artifacts_dir()
    for old in folder.glob("*.png"):
        old.unlink()
    message = f"UI screenshots: {folder}"
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:  # shown even when pytest captures output
        reporter.write_line(f"\n{message}")
    else:
        print(message)
    return folder


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(browser: Browser, server: DagsterServer) -> Page:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    # First visit: Dagster asks to join its community (newsletter, Slack). Dismiss it whenever it shows.
    page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())
    yield page
    context.close()


@pytest.fixture(scope="module")
def ui_run(page: Page, server: DagsterServer, screenshots: Path) -> str:
    """`Materialize all` clicked on the job's page; returns the run id once the run succeeded.

    The job's page, not the global lineage: the global button also selects the daily-partitioned
    `history` group and so opens a backfill dialog over every past day, which is not the nightly run.
    """
    page.goto(f"{server.url}/locations/segmentation_pipeline/jobs/{JOB}")
    expect(page.get_by_text("View as Asset Graph")).to_be_visible()
    expect(page.locator("svg foreignObject").first).to_be_visible()
    page.screenshot(path=screenshots / "02_job.png")
    page.get_by_role("button", name="Materialize all").click()
    # Should Dagster ask first (a launchpad or confirmation for config, partitions...), accept it.
    launched = page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}"))
    confirm = page.get_by_role("dialog").get_by_role("button", name=re.compile(r"^(Launch|Materialize)"))
    expect(launched.or_(confirm)).to_be_visible()
    if not launched.is_visible() and confirm.is_visible():
        page.screenshot(path=screenshots / "02b_launch_dialog.png")
        confirm.first.click()
    expect(launched).to_be_visible()
    short_id = re.search(r"Launched run ([0-9a-f]{8})", launched.first.inner_text()).group(1)
    (run_id,) = [r["runId"] for r in server.runs() if r["runId"].startswith(short_id)]
    page.goto(f"{server.url}/runs/{run_id}")
    expect(page.get_by_text(JOB).first).to_be_visible()
    status = server.wait_for_run(run_id)
    page.reload()
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Succeeded \([1-9]\d*\)$"))).to_be_visible()
    expect(page.get_by_text("Loading run logs")).to_have_count(0)
    page.screenshot(path=screenshots / "03_run.png")
    assert status == "SUCCESS", f"run {run_id} ended {status}:\n{server.failure_messages(run_id)}"
    return run_id


def _metadata_row(page: Page, key: str):
    """The row of the asset page's metadata table whose key cell is exactly `key`."""
    return page.locator("tr").filter(has=page.locator("td").first.get_by_text(key, exact=True))


def test_asset_graph_shows_every_group(page: Page, server: DagsterServer, screenshots: Path):
    groups = _asset_groups()
    assert {"ingest", "staging", "features", "models", "publish"} <= groups
    page.goto(f"{server.url}/asset-groups")
    graph_groups = page.locator("svg foreignObject.group")
    expect(graph_groups.first).to_be_visible()
    for group in groups:
        expect(graph_groups.filter(has_text=re.compile(rf"^\s*{re.escape(group)}\b"))).not_to_have_count(0)
    page.screenshot(path=screenshots / "01_asset_graph.png")


def test_materialize_all_succeeds(ui_run: str, server: DagsterServer):
    runs = {r["runId"]: r for r in server.runs()}
    assert runs[ui_run]["jobName"] == JOB
    assert runs[ui_run]["status"] == "SUCCESS"


def test_published_asset_page_shows_row_count_segments_and_freshness(
    ui_run: str, page: Page, server: DagsterServer, screenshots: Path
):
    page.goto(f"{server.url}/assets/{PUBLISHED_ASSET}")
    # dagster/row_count is shown in the Status section as "Row count".
    row_count = page.get_by_text("Row count", exact=True).locator("xpath=..")
    expect(row_count).to_contain_text(f"{DEMO_USERS:,}")
    segments = _metadata_row(page, "segments")
    expect(segments.locator("table")).to_be_visible()
    headers = segments.locator("th").all_inner_texts()
    assert "segment_name" in headers and "users" in headers, headers
    users = segments.locator(f"tbody tr td:nth-child({headers.index('users') + 1})").all_inner_texts()
    assert len(users) >= 2 and sum(int(u.replace(",", "")) for u in users) == DEMO_USERS, users
    # The freshness policy and its state, in the Status section: the daemon evaluates it every few seconds
    # (FRESHNESS_DAEMON_INTERVAL_SECONDS in ui_server), the page shows it after a reload.
    freshness = page.get_by_text("Freshness policy", exact=True).first.locator("xpath=..")
    deadline = time.monotonic() + 120
    while "Passing" not in freshness.inner_text() and time.monotonic() < deadline:
        page.wait_for_timeout(3000)
        page.reload()
    expect(freshness).to_contain_text("Passing")
    expect(page.get_by_text(re.compile(r"Fails if more than \d+ hours since last materialization"))).to_be_visible()
    page.screenshot(path=screenshots / "04_asset_page.png", full_page=True)


def test_plots_render(ui_run: str, page: Page, server: DagsterServer, screenshots: Path):
    page.goto(f"{server.url}/assets/{PUBLISHED_ASSET}")
    _metadata_row(page, "plots").get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog")
    images = dialog.locator("img[src^='data:image/png']")
    expect(images.first).to_be_visible()
    widths = [img.evaluate("i => i.complete ? i.naturalWidth : 0") for img in images.all()]
    assert widths and all(w > 0 for w in widths), widths
    page.screenshot(path=screenshots / "05_plots.png")
    dialog.get_by_role("button", name="Close").click()

# The commands a new user needs. Everything runs from the repository root.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
USERS ?= 20000
SEED ?= 42
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install demo demo-data run backfill summary test ui clean bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	printf 'telemetry:\n  enabled: false\n# One warehouse writer at a time: the nightly job and a history backfill queue behind each other.\nconcurrency:\n  runs:\n    tag_concurrency_limits:\n      - key: segmentation/warehouse\n        limit: 1\n' > $@

demo: install demo-data run summary

demo-data: install
	$(BIN)/python -m segmentation_pipeline.demo_data --users $(USERS) --seed $(SEED) --out data/landing

run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster job execute -m segmentation_pipeline -j segmentation_job -c segmentation_pipeline/run_logging.yaml

# Past as-of dates into segment_history (after one run): make backfill FROM=2026-06-01 TO=2026-06-29
backfill: install $(DAGSTER_HOME)/dagster.yaml
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD"; exit 2; }
	$(BIN)/dagster asset materialize -m segmentation_pipeline --select segment_history_backfill --partition-range $(FROM)...$(TO)

summary: install
	$(BIN)/python -m segmentation_pipeline.report

# Debian's Chromium for the UI browser test (tests/test_ui_browser.py), installed when missing;
# Playwright drives /usr/bin/chromium and never downloads a browser of its own.
.PHONY: browser
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
CHROMIUM := /usr/bin/chromium

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

test: install browser
	$(BIN)/python -m pytest

ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

clean:
	rm -rf data .dagster_home dbt_project/target dbt_project/logs

# Benchmark (issue #6, BENCHMARKS.md): SIZE = 2k, 100k or 1m users (or a number); results in benchmarks/results/.
# Extra options in BENCH_ARGS, e.g. "--incremental-day", "--ref HEAD", "--skip-baseline".
bench: SIZE ?= 100k
bench: install
	$(BIN)/python -m benchmarks.run --size $(SIZE) $(BENCH_ARGS)

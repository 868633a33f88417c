"""Measured child process: `dagster job execute` of segmentation_job, with timing probes installed.

Run by the harness as `python benchmarks/pipeline_child.py` from the source tree being measured,
with DAGSTER_HOME, SEGMENTATION_* and BENCH_SPANS set. It is the command `make run` uses
(`dagster job execute -m segmentation_pipeline -j segmentation_job -c .../run_logging.yaml`),
in the same process, after wrapping a few pipeline functions to time them (see probes.py).
"""

import sys
import time

import probes  # the script's own folder is sys.path[0]

del sys.path[0]  # nothing else may be shadowed by the harness's module names
probes.record({"name": "interpreter_ready", "start": time.time(), "end": time.time()})
with probes.span("load_code_location"):
    probes.install_pipeline_probes()

from dagster._cli import main  # noqa: E402  (the `dagster` console script's entry point)

sys.argv = [
    "dagster", "job", "execute",
    "-m", "segmentation_pipeline",
    "-j", "segmentation_job",
    "-c", "segmentation_pipeline/run_logging.yaml",
]
try:
    main()
finally:  # click exits with SystemExit; what follows is interpreter shutdown (teardown_breakdown)
    probes.record({"name": "cli_returned", "start": time.time(), "end": time.time()})

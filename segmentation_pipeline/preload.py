"""The heavy modules of a run's later steps, imported in the background while dbt builds (issue #6).

Loading the code location (every run's start, the UI, `dagster dev`) imports Dagster and the
asset definitions only. The steps import what they use when they run: scikit-learn, SciPy and
matplotlib (segments, churn, plots), Great Expectations (the quality gates). Together about 4 s,
which every run used to pay before its first step.

`dbt_models`, the first long step, starts `preload_in_background()`: while dbt runs in its own
process, the Dagster process only relays dbt's events, so the imports overlap with the build
instead of adding to the run. A step that needs a module the thread is still importing waits
for it (Python's import lock). A module that fails to import here fails again, with its error,
in the step that needs it. As at the code location's load, the collector is off while the modules
load and their objects are frozen afterwards (gc_tuning.py).
"""

from __future__ import annotations

import importlib
import threading

from segmentation_pipeline.gc_tuning import loaded_objects_frozen

LATER_MODULES = (
    "great_expectations",  # quality gates (quality/context.py imports it lazily)
    "segmentation_pipeline.quality.docs_views",
    "segmentation_pipeline.churn",
    "segmentation_pipeline.segments",
    "segmentation_pipeline.ml.plots",
    "segmentation_pipeline.analytics.rules",
    "segmentation_pipeline.release",
    "segmentation_pipeline.backfill",
)


def _import_all(modules: tuple[str, ...]) -> None:
    with loaded_objects_frozen():
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the step that needs it imports it again and reports the error
                pass


def preload_in_background(modules: tuple[str, ...] = LATER_MODULES) -> threading.Thread:
    """Start importing `modules` in a daemon thread; returns the thread (join it to wait)."""
    thread = threading.Thread(target=_import_all, args=(modules,), name="preload-later-modules", daemon=True)
    thread.start()
    return thread

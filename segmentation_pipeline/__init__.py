"""User segmentation pipeline: the Dagster code location.

The Definitions live in `segmentation_pipeline.definitions` (`defs`). They are exposed
here lazily (PEP 562) as `segmentation_defs`, so `dagster job execute -m
segmentation_pipeline` finds them while light entry points such as
`python -m segmentation_pipeline.demo_data` do not load Dagster and dbt.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "segmentation_defs":
        from segmentation_pipeline.definitions import defs

        return defs
    raise AttributeError(f"module 'segmentation_pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "segmentation_defs"})

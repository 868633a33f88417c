"""User segmentation pipeline: the Dagster code location.

`defs` is resolved lazily (PEP 562) so that light entry points such as
`python -m segmentation_pipeline.demo_data` do not load Dagster and dbt, while
`dagster job execute -m segmentation_pipeline` still finds the Definitions.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "defs":
        from segmentation_pipeline.definitions import defs

        return defs
    raise AttributeError(f"module 'segmentation_pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "defs"})

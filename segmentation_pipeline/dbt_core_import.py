"""dagster-dbt loaded without dbt-core in the processes that load the code location (issue #6).

The pipeline runs dbt only as a subprocess (`dbt build` through `DbtCliResource`); the Dagster
process reads dbt's manifest and its JSON log lines, which are plain files and text. Yet when
dbt-core can be imported, `dagster_dbt.compat` imports it: about 140 modules, 1.5-3 s and 40 MB in
every process that loads the code location (each job run, the code server of `dagster dev`).

When dbt-core cannot be imported, dagster-dbt uses its own copies of dbt's node types and statuses
(the mode it supports for dbt Fusion and for deployments that install dbt elsewhere) and reads the
nodes of the default selection, every node, straight from the manifest. The asset graph is the
same (`tests/test_definitions.py`). A `select=`/`exclude=` on `@dbt_assets` would need dbt-core in
this mode: loading the code location would then fail with dagster-dbt's
DagsterDbtCoreNotInstalledError, so such a change cannot go unnoticed.
"""

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def dbt_core_hidden() -> Iterator[None]:
    """Imports of dbt-core made inside the block fail with ImportError; afterwards it imports as usual.

    Does nothing when dbt-core or dagster-dbt was imported before the block: a module that is
    already loaded is not loaded again.
    """
    if "dbt" in sys.modules or "dagster_dbt" in sys.modules:
        yield
        return
    sys.modules["dbt"] = None  # type: ignore[assignment]  # a None entry makes `import dbt...` raise ImportError
    try:
        yield
    finally:
        if sys.modules.get("dbt", False) is None:
            del sys.modules["dbt"]

"""Python garbage-collector settings for the processes that load the code location (issue #6).

Loading the code location creates millions of long-lived objects (Dagster, dbt's manifest,
scikit-learn, pandas). CPython's cyclic collector walks all of them in every full collection:
while the modules load, now and then during the run, and once more at interpreter exit. At 100k
users that was about 4.5 s of a 30 s nightly run. Objects that live as long as the process need
no collecting, so they are moved to the collector's permanent generation once loaded, and the
collection at exit, whose memory the operating system takes back anyway, is skipped.
"""

import atexit
import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def loaded_objects_frozen() -> Iterator[None]:
    """No collections while the block loads; afterwards its objects are never walked again.

    Objects that become garbage later are still freed by reference counting, and cycles created
    after loading are still collected. Only the final collection at exit is skipped: `gc.freeze`
    as the last exit handler moves what is left to the permanent generation (files, DuckDB
    connections and loggers are closed by the code that opened them, not by that collection).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    atexit.register(gc.freeze)

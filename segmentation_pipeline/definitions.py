"""The code location: merges each domain's Definitions.

Steps run one after another in one process: DuckDB allows a single writer per file,
and dbt and the Python steps take turns on the warehouse.
"""

import dagster as dg

from segmentation_pipeline.dbt_core_import import dbt_core_hidden
from segmentation_pipeline.gc_tuning import loaded_objects_frozen

# dbt runs as a subprocess; dagster-dbt is loaded without dbt-core here (see dbt_core_import).
with loaded_objects_frozen(), dbt_core_hidden():
    from segmentation_pipeline.defs import analytics, churn, dbt, history, ingest, jobs, models, publish, quality

    defs = dg.Definitions.merge(
        ingest.defs,
        dbt.defs,
        models.defs,
        churn.defs,
        analytics.defs,
        publish.defs,
        history.defs,
        quality.defs,
        jobs.defs,
        dg.Definitions(executor=dg.in_process_executor),
    )

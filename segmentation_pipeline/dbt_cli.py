"""`segmentation-dbt`: dbt's command line with its loaded modules frozen (see gc_tuning).

The pipeline runs dbt through this entry point when it is installed beside the running Python
(`defs/dbt.py`, `dbt_executable`). It is dbt itself, started the way the `dbt` script starts it;
only the garbage collector no longer walks dbt's imported modules, about 1 s of each invocation.
"""

import sys

from segmentation_pipeline.gc_tuning import loaded_objects_frozen


def main() -> None:
    with loaded_objects_frozen():
        from dbt.cli.main import cli
    sys.argv[0] = "dbt"
    sys.exit(cli())

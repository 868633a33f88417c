"""Data-quality gates: Great Expectations suites from `expectations/`, run on frames pulled from DuckDB."""

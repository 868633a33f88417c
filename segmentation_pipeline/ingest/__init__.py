"""Loading landing files into the warehouse's `raw` schema with DuckDB's own readers."""

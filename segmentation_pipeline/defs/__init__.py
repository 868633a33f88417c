"""One module per domain; each hands out its own `Definitions`."""

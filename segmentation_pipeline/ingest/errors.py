"""Errors an operator can act on without reading a stack trace."""


class IngestionError(Exception):
    """A landing file cannot be used: the message names file, column, expected, found and the fix."""

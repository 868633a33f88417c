"""Figures in Dagster metadata: a PNG as a markdown image (no matplotlib needed to embed one)."""

from __future__ import annotations

import base64


def png_markdown(png: bytes, alt: str = "figure") -> str:
    """Markdown image with a base64 data URI, e.g. for `dg.MetadataValue.md(...)`."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

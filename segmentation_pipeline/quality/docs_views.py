"""Data Docs views that compile GX's page templates once per process (issue #6).

GX renders each Data Docs page with a new Jinja environment, so every validation compiled the same
54 templates again: about 0.1 s of each of the seven validations of a run. These views are GX's own
page and index views with one Jinja bytecode cache shared between them, named in
`expectations/great_expectations.yml` (`site_section_builders` and `site_index_builder`, GX's
documented way to choose a view class). Jinja keys the cache by template name and source checksum,
so a changed template is compiled again; the rendered pages are the same.
"""

from __future__ import annotations

from typing import Any

import jinja2
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView


class _InMemoryBytecodeCache(jinja2.BytecodeCache):
    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _InMemoryBytecodeCache()


class _SharedTemplateCache:
    """Mixed in before a GX Jinja view: its environment uses TEMPLATE_CACHE."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = TEMPLATE_CACHE


class CachedJinjaPageView(_SharedTemplateCache, DefaultJinjaPageView):
    pass


class CachedJinjaIndexPageView(_SharedTemplateCache, DefaultJinjaIndexPageView):
    pass

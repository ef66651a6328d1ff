"""The Chinese of every English message of the browser pages, one module per area.

Each module holds ``CHINESE = {english: chinese}`` for the messages of its
pages; fields in braces (``{amount}``) are kept as they are. The English text
is the key, so a page written in English reads correctly before its Chinese
exists; ``tests/api/web/test_catalog.py`` checks that every message used in a
template or a view has its Chinese and that both use the same fields.
"""

from __future__ import annotations

from importlib import import_module

#: Modules of :mod:`api.web.catalog`, one per area of the workspace.
AREAS = ("common", "datasets", "attribution", "models", "plans", "scenarios", "admin")


def _merged() -> dict[str, str]:
    merged: dict[str, str] = {}
    for area in AREAS:
        merged.update(import_module(f"api.web.catalog.{area}").CHINESE)
    return merged


CHINESE: dict[str, str] = _merged()

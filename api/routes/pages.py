"""HTML reports."""

from __future__ import annotations

from apiflask import APIBlueprint

blueprint = APIBlueprint("pages", __name__, url_prefix="/v1", tag="pages")

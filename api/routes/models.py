"""Response models: fits, diagnostics, curves."""

from __future__ import annotations

from apiflask import APIBlueprint

blueprint = APIBlueprint("models", __name__, url_prefix="/v1", tag="models")

"""Datasets: upload, list, metadata, delete."""

from __future__ import annotations

from apiflask import APIBlueprint

blueprint = APIBlueprint("datasets", __name__, url_prefix="/v1", tag="datasets")

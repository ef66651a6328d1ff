"""Budget plans and ROMI forecasts."""

from __future__ import annotations

from apiflask import APIBlueprint

blueprint = APIBlueprint("plans", __name__, url_prefix="/v1", tag="plans")

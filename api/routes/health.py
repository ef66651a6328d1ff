"""``GET /v1/health``: no authentication; reports whether the database answers."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from api.context import services
from api.database import reachable
from api.schemas import Health
from spendwise import __version__

blueprint = APIBlueprint("health", __name__, url_prefix="/v1", tag="health")


@blueprint.get("/health")
@blueprint.output(Health)
@blueprint.doc(responses={503: "the database is unreachable"})
def health() -> tuple[dict[str, Any], int]:
    """Liveness and database reachability."""
    ok = reachable(services().engine)
    body = {"status": "ok" if ok else "degraded",
            "database": "reachable" if ok else "unreachable", "version": __version__}
    return body, 200 if ok else 503

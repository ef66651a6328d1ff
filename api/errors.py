"""Errors of the service and their HTTP form.

Every error leaves the service as an RFC 9457 ``application/problem+json``
body. :data:`STATUS` is the one table from exception class to status; errors
of the engines (:mod:`attribution.errors`, :mod:`optimizer.errors`) map
through it too, so a bad CSV gives the same message over HTTP as on the CLI.
"""

from __future__ import annotations

from typing import Any

from attribution.errors import AttributionError
from optimizer.errors import (
    InfeasibleError,
    NotConvergedError,
    NotFittedError,
    OptimizerError,
    SolverError,
)

PROBLEM_TYPE = "https://spendwise.dev/problems/"


class ServiceError(Exception):
    """Base class of the service's own errors."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ConfigError(ServiceError, ValueError):
    """A setting is invalid."""

    title = "Invalid setting"


class BadRequest(ServiceError, ValueError):
    """The request cannot be read (malformed body, missing part)."""

    status, title = 400, "Bad request"


class Unauthorized(ServiceError):
    """No key, or a key the service does not know."""

    status, title = 401, "Unauthorized"


class Forbidden(ServiceError):
    """The key's role does not allow the action."""

    status, title = 403, "Forbidden"


class NotFound(ServiceError, LookupError):
    """No such resource in the key's workspace (other workspaces are not revealed)."""

    status, title = 404, "Not found"


class Conflict(ServiceError):
    """The resource is not in a state that allows the action (e.g. a fit still running)."""

    status, title = 409, "Conflict"


class PayloadTooLarge(ServiceError):
    """The body is over the size limit."""

    status, title = 413, "Payload too large"


class UnsupportedMediaType(ServiceError):
    """The body's content type is not one the endpoint reads."""

    status, title = 415, "Unsupported media type"


class Invalid(ServiceError, ValueError):
    """The request is well formed but its content is invalid."""

    status, title = 422, "Validation error"


#: Status and title of each engine error, most specific first.
ENGINE_ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (InfeasibleError, 422, "Infeasible constraints"),
    (NotConvergedError, 409, "Model not converged"),
    (NotFittedError, 409, "Model not fitted"),
    # A solver failure is deterministic for its input: a 422, not a server fault.
    (SolverError, 422, "Plan could not be solved"),
    (OptimizerError, 422, "Validation error"),
    (AttributionError, 422, "Validation error"),
)


def problem(exc: Exception) -> tuple[dict[str, Any], int]:
    """The problem+json body of ``exc`` and its status; unknown errors are 500."""
    if isinstance(exc, ServiceError):
        status, title, detail = exc.status, exc.title, exc.detail
        body: dict[str, Any] = {"type": _type(title), "title": title, "status": status,
                                "detail": detail}
        if exc.errors:
            body["errors"] = exc.errors
        return body, status
    for kind, status, title in ENGINE_ERRORS:
        if isinstance(exc, kind):
            return {"type": _type(title), "title": title, "status": status,
                    "detail": str(exc)}, status
    return {"type": "about:blank", "title": "Internal Server Error", "status": 500,
            "detail": "the server failed; the request changed nothing"}, 500


def _type(title: str) -> str:
    return PROBLEM_TYPE + title.lower().replace(" ", "-")

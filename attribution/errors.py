"""Exceptions raised by the attribution package.

Every error a user can cause derives from :class:`AttributionError`; the leaves
also subclass the builtin that describes them, so callers that only know the
builtins still catch them.
"""

from __future__ import annotations

from spendwise.errors import FieldProblem


class AttributionError(Exception):
    """Base class of every error raised by :mod:`attribution`."""


class InputError(AttributionError, ValueError):
    """The input data is malformed: a missing column, a bad value, an empty path."""


class ParameterError(AttributionError, ValueError):
    """A model setting is out of range or unknown."""


class NotFittedError(AttributionError, AttributeError):
    """A model was used before :meth:`fit` was called."""


class RequestError(ParameterError, FieldProblem):
    """A request (:mod:`attribution.requests`) does not validate; names each bad field."""

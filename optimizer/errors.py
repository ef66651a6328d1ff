"""Exceptions raised by the optimizer package.

Every error a user can cause derives from :class:`OptimizerError`; the leaves
also subclass the builtin that describes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from spendwise.errors import FieldProblem


class OptimizerError(Exception):
    """Base class of every error raised by :mod:`optimizer`.

    ``field`` names the setting or request field the error is about, when there
    is one (``"bounds"``, ``"current"``), so that a front door can point at it.
    """

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        self.field = field


class InputError(OptimizerError, ValueError):
    """Spend, outcome, control or lift-test data is malformed or inconsistent."""


class ParameterError(OptimizerError, ValueError):
    """A setting is out of range or unknown."""


class InfeasibleError(OptimizerError, ValueError):
    """The constraints of a plan cannot all hold; the message names the conflict."""


class NotConvergedError(OptimizerError, RuntimeError):
    """A plan was asked of a model whose sampler did not converge."""


class NotFittedError(OptimizerError, AttributeError):
    """A model was used before :meth:`fit` was called."""


class SolverError(OptimizerError, RuntimeError):
    """Every solver failed to find a certified solution."""


class RequestError(ParameterError, FieldProblem):
    """A request (:mod:`optimizer.requests`) does not validate; names each bad field."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        FieldProblem.__init__(self, problems)
        self.field = None

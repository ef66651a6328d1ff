"""The error every request type raises, shared by the engines' own error classes.

It lives apart from :mod:`spendwise.requests` so that the engines' error
modules, imported by every model, do not load pydantic.
"""

from __future__ import annotations

from collections.abc import Sequence


class FieldProblem(ValueError):
    """A request that does not validate: each field with what is wrong with it.

    ``problems`` holds ``(field, sentence)`` pairs; ``field`` is the dotted
    path of the field (``settings.order``) and ``sentence`` says what is wrong
    without naming it, so that a front door can name the field its own way
    (``--order`` on the command line).
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {sentence}" if field else sentence
                                   for field, sentence in self.problems))

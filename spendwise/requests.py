"""The base of every typed request: frozen, validated once, with one canonical JSON form.

Each operation of the engines (attribution settings, journey building, a fit,
a plan, a forecast) has one request type, a subclass of :class:`Request`
owned by its engine package. Every front door (the command line, the HTTP
API, the browser) builds that same object, so each default is written once,
each rule is checked once, and a bad request gives the same sentence on every
door. A request is a pydantic model that is

* **frozen**: it cannot change after it was validated;
* **strict about types**: ``"7"`` is not the integer ``7`` and ``"true"`` is
  not a boolean (a front door that reads text, such as the command line,
  converts it first), unknown fields are errors, numbers must be finite;
* **canonical**: :meth:`Request.canonical` is its JSON form with every
  setting filled in, and :meth:`Request.canonical_json` the compact text
  with sorted keys that fingerprints and stored records use;
  ``cls.build(**request.canonical())`` gives the request back.

:meth:`Request.build` turns pydantic's validation error into the engine
package's own error (a ``ValueError``), whose message names the field and what
is wrong: ``settings.order: must be an integer from 1 to 5 or 'auto', got 7``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

#: Control characters (NUL, tabs, line breaks, escapes, DEL and the C1 range).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` if it holds no control character; names, labels and ids must not."""
    if CONTROL.search(text):
        raise PydanticCustomError("control_character", "must not contain control characters "
                                  "(NUL, tabs, line breaks)")
    return text


#: A channel name as users write it: any printable text, ``微信朋友圈`` included.
Channel = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(printable)]


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def fingerprint(payload: Any) -> str:
    """SHA-256 (hex) of ``payload``'s canonical JSON."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


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


def describe(error: ValidationError) -> list[tuple[str, str]]:
    """``(field, sentence)`` for each error pydantic found, in its order."""
    found = []
    for item in error.errors(include_url=False):
        # A bad key is part of the location: escape it rather than echo a control character.
        field = ".".join(json.dumps(part, ensure_ascii=False)[1:-1] if isinstance(part, str)
                         else str(part) for part in item["loc"])
        sentence = item["msg"]
        if item["type"] == "missing":
            sentence = "required"
        found.append((field, sentence))
    return found


class Request(BaseModel):
    """A validated, frozen request of an engine (module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False,
                              validate_default=True)
    #: The engine package's error raised by :meth:`build`; a subclass of :class:`FieldProblem`.
    error: ClassVar[type[FieldProblem]] = FieldProblem

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown(cls, data: Any, handler: Any) -> Any:
        """Unknown fields are errors that list the known ones."""
        try:
            return handler(data)
        except ValidationError as exc:
            allowed = ", ".join(cls.model_fields)
            raise ValidationError.from_exception_data(exc.title, [
                InitErrorDetails(type=PydanticCustomError(
                    "unknown_field", f"unknown setting {str(e['loc'][-1])[:40]!r}: extra "
                    f"inputs are not permitted; allowed settings: {allowed}")
                    if e["type"] == "extra_forbidden" else
                    PydanticCustomError(e["type"], e["msg"]), loc=e["loc"], input=e["input"])
                for e in exc.errors()]) from None

    @classmethod
    def build(cls, **fields: Any) -> Self:
        """The request of ``fields``; the package's :attr:`error` naming each bad field."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise cls.error(describe(exc)) from None

    def canonical(self) -> dict[str, Any]:
        """The JSON form with every setting filled in."""
        return self.model_dump(mode="json")

    def canonical_json(self) -> str:
        """:meth:`canonical` as compact text with sorted keys."""
        return canonical_json(self.canonical())

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
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from spendwise.errors import FieldProblem

#: Control characters (Unicode category Cc: NUL, tabs, line breaks, escapes, DEL and the
#: C1 range) and lone surrogates, which cannot be encoded. PostgreSQL refuses NUL in text,
#: and none of them belongs in a name, a label, an id or a query parameter.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: :data:`CONTROL` as an OpenAPI document states it (JSON Schema regex).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"


def control_character(text: str) -> str | None:
    """The first control character of ``text`` as ``U+XXXX``, or ``None`` if it has none."""
    found = CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def printable(text: str) -> str:
    """``text`` if it holds no control character; names, labels and ids must not."""
    found = control_character(text)
    if found is not None:
        raise PydanticCustomError("control_character", "must not contain control characters "
                                  "(found {found})", {"found": found})
    return text


#: Free text that a person chose (a key's label, a dataset's name): printable only. Give
#: each use its bounds, e.g. ``label: Label = Field(default="", max_length=128)``.
Label = Annotated[str, Field(json_schema_extra={"pattern": PRINTABLE_PATTERN}),
                  AfterValidator(printable)]
#: A channel name as users write it: any printable text, ``微信朋友圈`` included.
Channel = Annotated[Label, Field(min_length=1, max_length=200)]


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def fingerprint(payload: Any) -> str:
    """SHA-256 (hex) of ``payload``'s canonical JSON."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


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
    def _clear_errors(cls, data: Any, handler: Any) -> Any:
        """Errors in the words of the request: unknown fields list the known ones, and a
        field that takes a number or a mapping reports only the form it was given."""
        try:
            return handler(data)
        except ValidationError as exc:
            allowed = ", ".join(cls.model_fields)
            details = []
            for e in exc.errors():
                loc = cls._without_branch(e["loc"], data)
                if loc is None:
                    continue
                kind = PydanticCustomError(
                    "unknown_field", f"unknown setting {str(e['loc'][-1])[:40]!r}: extra "
                    f"inputs are not permitted; allowed settings: {allowed}") \
                    if e["type"] == "extra_forbidden" else \
                    PydanticCustomError(e["type"], e["msg"])
                details.append(InitErrorDetails(type=kind, loc=loc, input=e["input"]))
            raise ValidationError.from_exception_data(exc.title, details) from None

    @classmethod
    def _without_branch(cls, loc: tuple[Any, ...], data: Any) -> tuple[Any, ...] | None:
        """``loc`` without the union member pydantic names after a field that takes
        several forms; ``None`` for an error of a form other than the one given."""
        if len(loc) < 2 or loc[0] not in cls.model_fields or not isinstance(loc[1], str):
            return loc
        members = [a for a in get_args(cls.model_fields[loc[0]].annotation)
                   if a is not type(None)]
        if len(members) < 2:
            return loc
        given = data.get(loc[0]) if isinstance(data, Mapping) else None
        if isinstance(given, Mapping) != loc[1].startswith("dict"):
            return None
        return (loc[0], *loc[2:])

    @classmethod
    def build(cls, **fields: Any) -> Self:
        """The request of ``fields``; the package's :attr:`error` naming each bad field."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise cls.error(describe(exc)) from None

    @classmethod
    def within(cls, body: Request) -> Self:
        """The request held by ``body``, a validated request of a subclass that adds fields
        of its own (a request body with the id of what it applies to); not validated again."""
        if not isinstance(body, cls):
            raise TypeError(f"{type(body).__name__} does not extend {cls.__name__}")
        return cls.model_construct(**{name: getattr(body, name) for name in cls.model_fields})

    def canonical(self) -> dict[str, Any]:
        """The JSON form with every setting filled in."""
        return self.model_dump(mode="json")

    def canonical_json(self) -> str:
        """:meth:`canonical` as compact text with sorted keys."""
        return canonical_json(self.canonical())

"""The input limits of the service, checked before any view runs.

* JSON bodies hold finite numbers only: ``NaN`` and ``Infinity`` (which
  Python's parser accepts) and numbers beyond a float's range are refused
  while parsing, and so are bodies that nest deeper than :data:`MAX_DEPTH`.
  A very deep body never reaches the recursion limit as a server error: the
  parser's ``RecursionError`` becomes the same refusal.
* Query parameters and path segments hold no control characters
  (:data:`spendwise.requests.CONTROL`).
* The request headers total at most :data:`MAX_HEADER_BYTES`, well below the
  WSGI server's own limit, so an over-long header gets a problem+json answer.

Each refusal is a :class:`api.errors.ServiceError` naming what was refused,
so the app's one error handler shapes it like every other error.
"""

from __future__ import annotations

import io
import json
import math
import sys
from typing import IO, Any

from flask import Request

from api.errors import BadRequest, ServiceError
from spendwise.requests import control_character

#: Deepest nesting of arrays and objects a JSON body may have (the top level is 1).
MAX_DEPTH = 32
#: Most bytes the request headers (names and values) may total.
MAX_HEADER_BYTES = 16 * 1024
#: A float's largest magnitude has this many integer digits.
_FLOAT_DIGITS = len(str(int(sys.float_info.max)))


class BodyRefused(ValueError):
    """A JSON body that parses but breaks a limit; the message says which."""


class HeadersTooLarge(ServiceError):
    """The request headers are over :data:`MAX_HEADER_BYTES`."""

    status, title = 431, "Request header fields too large"


def read_json(data: str | bytes) -> Any:
    """Parse a JSON body under the limits; :class:`BodyRefused` or ``ValueError`` if not."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float,
                           parse_int=_float_sized_int)
    except RecursionError:
        raise BodyRefused(_too_deep()) from None
    # A body with few brackets cannot nest deeply: skip the walk for nearly all bodies.
    text = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if text.count(b"[") + text.count(b"{") > MAX_DEPTH and depth(value) > MAX_DEPTH:
        raise BodyRefused(_too_deep())
    return value


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in node if isinstance(child, dict | list))
    return deepest


def _too_deep() -> str:
    return f"the body nests deeper than {MAX_DEPTH} levels"


def _refuse_constant(name: str) -> Any:
    raise BodyRefused(f"the body holds a non-finite number ({name}); JSON numbers are finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyRefused(f"the body holds a number too large for a float ({_excerpt(text)})")
    return value


def _excerpt(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}... ({len(text):,} characters)"


def _float_sized_int(text: str) -> int:
    if len(text.lstrip("-")) > _FLOAT_DIGITS or abs(value := int(text)) > sys.float_info.max:
        raise BodyRefused(f"the body holds a number too large for a float ({_excerpt(text)})")
    return value


class LimitedRequest(Request):
    """Flask's request whose JSON parse errors are 400 problems that say what is wrong, and
    whose uploaded files stay in memory."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        # Werkzeug spools a file part over 500 KiB to a temporary file; a touches file holds
        # raw user ids, which must reach no disk before they are pseudonymised. A body is
        # bounded by MAX_CONTENT_LENGTH (the upload limit) before a form is read.
        return io.BytesIO()

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, BodyRefused):
            raise BadRequest(str(e))
        if e is None:
            raise BadRequest("the body is not JSON (send Content-Type: application/json)")
        raise BadRequest(f"the body is not valid JSON: {_first_line(e)}")


def _first_line(error: ValueError) -> str:
    # JSONDecodeError's message gives the position, never the body's content.
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def check_headers(headers: Any) -> None:
    """Refuse headers over :data:`MAX_HEADER_BYTES` in total, naming the largest."""
    sizes = [(len(name) + len(value), name) for name, value in headers.items()]
    total = sum(size for size, _ in sizes)
    if total > MAX_HEADER_BYTES:
        size, name = max(sizes)
        raise HeadersTooLarge(
            f"the request headers total {total:,} bytes, over the limit of "
            f"{MAX_HEADER_BYTES:,}; the largest is {name} ({size:,} bytes)")


def check_text(args: Any, view_args: dict[str, Any] | None, path: str) -> None:
    """Refuse a control character in a query parameter (name or value) or the path."""
    for name, value in args.items(multi=True):
        for part, text in (("name", name), ("value", value)):
            if found := control_character(text):
                # repr() writes the control character as an escape, never raw.
                raise BadRequest(
                    f"query parameter {name!r}: its {part} holds a control character ({found})",
                    errors=[{"loc": ["query", name], "msg": f"control character {found}"}])
    for name, value in (view_args or {}).items():
        if isinstance(value, str) and (found := control_character(value)):
            raise BadRequest(f"path parameter {name!r} holds a control character ({found})",
                             errors=[{"loc": ["path", name], "msg": f"control character {found}"}])
    if found := control_character(path):
        raise BadRequest(f"the path holds a control character ({found})",
                         errors=[{"loc": ["path"], "msg": f"control character {found}"}])

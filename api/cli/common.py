"""What every command shares: requests built from options, and outputs written together.

A command turns its options into the engine's request type with
:func:`request_of`; options the user did not give are left out, so the
request's own defaults apply, and a bad value gives the request's sentence
with the option's name: ``--order: must be an integer from 1 to 5 or 'auto',
got 7``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from spendwise.requests import FieldProblem, Request

Writer = Callable[[dict[Path, bytes]], None]
R = TypeVar("R", bound=Request)


def option_name(field: str, options: Mapping[str, str]) -> str:
    """The option that sets ``field`` (a dotted path): from ``options``, else
    ``--`` and the last part with ``-`` for ``_``."""
    parts = field.split(".")
    while len(parts) > 1 and parts[-1].isdigit():  # an item of a list option
        parts.pop()
    named = ".".join(parts)
    if named in options:
        return options[named]
    return "--" + parts[-1].replace("_", "-")


def request_of(cls: type[R], fields: Mapping[str, Any],
               options: Mapping[str, str] | None = None) -> R:
    """``cls.build(**fields)`` without the fields set to ``None``; errors name the options."""
    try:
        return cls.build(**{k: v for k, v in fields.items() if v is not None})
    except FieldProblem as exc:
        named = []
        for field, sentence in exc.problems:
            if not field:  # a rule across fields, whose sentence starts with the field
                field, _, rest = sentence.partition(": ")
                sentence = rest if field in cls.model_fields else sentence
                field = field if field in cls.model_fields else ""
            named.append((option_name(field, options or {}) if field else "", sentence))
        raise type(exc)(named) from None


def defaults_of(cls: type[Request]) -> dict[str, Any]:
    """The default of each field of ``cls``, for help texts."""
    return {name: info.get_default(call_default_factory=True)
            for name, info in cls.model_fields.items()}


def write_outputs(outputs: dict[Path, bytes]) -> None:
    """Write every output through a temporary file in its directory, then rename
    them all into place; if any write fails, none of the outputs is replaced."""
    staged: list[tuple[str, Path]] = []
    try:
        for target, data in outputs.items():
            directory = target.parent if str(target.parent) else Path(".")
            if not directory.is_dir():
                raise FileNotFoundError(2, f"directory {directory} does not exist",
                                        str(target))
            fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
            staged.append((temporary, target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp creates 0600
        for temporary, target in staged:
            os.replace(temporary, target)
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

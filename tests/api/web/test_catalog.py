"""Every message of the pages has its Chinese, with the same fields."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask import Flask

from api.web.catalog import CHINESE
from tests.conftest import ROOT

TEMPLATES = ROOT / "api" / "templates" / "web"
VIEWS = ROOT / "api" / "web"
#: ``_("...")`` in a template: a literal string, in single or double quotes.
TEMPLATE_MESSAGE = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
FIELD = re.compile(r"\{(\w+)\}")


def template_messages() -> dict[str, str]:
    """``message -> file`` of every ``_()`` literal of the workspace's templates."""
    found = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for match in TEMPLATE_MESSAGE.finditer(path.read_text(encoding="utf-8")):
            found[match.group(1) if match.group(1) is not None else match.group(2)] = path.name
    return found


def view_messages() -> dict[str, str]:
    """``message -> file`` of every literal passed to ``gettext``/``_`` in the views."""
    found = {}
    for path in sorted(VIEWS.rglob("*.py")):
        if "catalog" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and (
                        getattr(node.func, "attr", None) == "gettext"
                        or getattr(node.func, "id", None) in ("gettext", "_")):
                found[node.args[0].value] = path.name
    return found


def test_messages_are_found() -> None:
    """The extraction sees the layout's and the views' messages (it cannot pass vacuously)."""
    assert "Sign out" in template_messages()
    assert "This key is unknown, revoked or expired." in view_messages()


def test_every_message_has_its_chinese() -> None:
    """No message of a template or a view is missing from the catalogue."""
    missing = {m: f for m, f in {**template_messages(), **view_messages()}.items()
               if m not in CHINESE}
    assert not missing, f"messages without Chinese: {missing}"


def test_translations_keep_their_fields() -> None:
    """A translation has exactly the ``{fields}`` of its English, and is not left English."""
    for english, chinese in CHINESE.items():
        assert sorted(FIELD.findall(english)) == sorted(FIELD.findall(chinese)), english
        assert chinese.strip(), english


def test_nav_labels_are_translated() -> None:
    """The header's links (declared in code, not passed to gettext literally) have Chinese."""
    from api.web.pages import NAV

    assert all(label in CHINESE for label, _endpoint, _action in NAV)


def test_roles_and_kinds_are_translated() -> None:
    """Every role and every kind of dataset has its words."""
    from api.access import ROLES
    from api.datasets import KINDS
    from api.web.home import kind_words

    assert all(name in CHINESE for name in ROLES)
    with Flask(__name__).test_request_context(headers={"Accept-Language": "zh-CN"}):
        words = kind_words()
        assert set(words) == set(KINDS) and "转化日志" in words.values()


def test_templates_exist() -> None:
    """The catalogue test reads real templates."""
    assert isinstance(TEMPLATES, Path) and any(TEMPLATES.glob("*.html"))


def test_each_message_is_translated_in_one_area_only() -> None:
    """A message has one Chinese: no two area modules both define it."""
    from importlib import import_module

    from api.web.catalog import AREAS

    where: dict[str, str] = {}
    for area in AREAS:
        for message in import_module(f"api.web.catalog.{area}").CHINESE:
            assert message not in where, f"{message!r} is in {where[message]} and {area}"
            where[message] = area

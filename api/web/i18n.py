"""The language of a page: English or Simplified Chinese, and numbers in its manner.

The language is the ``spendwise_lang`` cookie (set by the switch in every
page's header), else the best match of the browser's ``Accept-Language``,
else English. Text is written in English in the templates and the views and
looked up in the catalogue (:mod:`api.web.catalog`); a test checks that every
message has its Chinese. Numbers, money and dates are formatted by Babel with
the language's CLDR conventions and thousands separators.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from flask import g, request

from api.web.catalog import CHINESE

#: ``code -> (name in its own language, Babel locale)``.
LANGUAGES = {"en": ("English", "en_US"), "zh": ("简体中文", "zh_Hans_CN")}
COOKIE = "spendwise_lang"
DASH = "–"


def language() -> str:
    """The language of the current request: ``"en"`` or ``"zh"``."""
    if "language" not in g:
        chosen = request.cookies.get(COOKIE, "")
        if chosen not in LANGUAGES:
            best = request.accept_languages.best_match(["en", "en-US", "en-GB", "zh", "zh-CN",
                                                        "zh-Hans", "zh-SG"], default="en")
            chosen = "zh" if best.lower().startswith("zh") else "en"
        g.language = chosen
    found: str = g.language
    return found


def locale() -> str:
    """The Babel locale of the current language."""
    return LANGUAGES[language()][1]


def gettext(message: str, /, **values: Any) -> str:
    """``message`` in the current language, with ``{name}`` fields filled from ``values``."""
    text = CHINESE.get(message, message) if language() == "zh" else message
    return text.format(**values) if values else text


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def number(value: Any, digits: int = 0) -> str:
    """``value`` with the language's thousands separators and ``digits`` decimals."""
    found = _finite(value)
    if found is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(found, format=pattern, locale=locale()))


def money(value: Any, currency: str, digits: int = 0) -> str:
    """An amount in ``currency`` (ISO 4217), e.g. ``$1,200,000`` or ``¥1,200,000``."""
    found = _finite(value)
    if found is None:
        return DASH
    pattern = "¤#,##0" + ("." + "0" * digits if digits else "")
    return str(format_currency(found, currency, format=pattern, locale=locale(),
                               currency_digits=False))


def percent(value: Any, digits: int = 0) -> str:
    """A fraction as a percentage (``0.053`` is ``5%``, or ``5.3%`` with one digit)."""
    found = _finite(value)
    if found is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return str(format_percent(found, format=pattern, locale=locale()))


def when(moment: datetime | None) -> str:
    """A moment in the language's medium date-and-time form (UTC)."""
    if moment is None:
        return DASH
    return str(format_datetime(moment, "medium", tzinfo=UTC, locale=locale()))

"""Amounts of money as people write them: ``1.2M``, ``1,200,000``, ``120万``, ``$300k``.

:func:`parse_amount` reads one amount typed into a form or given on the command
line and returns it as a float in the currency's units. It accepts

* digits with an optional decimal point (``.``) and optional thousands
  separators (``,``) in groups of three: ``1200000``, ``1,200,000``,
  ``1,200,000.50``. Indian grouping (``1,20,000``) is **not** accepted: with
  English and Chinese pages the separator always groups by three, so any other
  grouping is more likely a typo than a lakh;
* one multiplier after the number, with or without a space: ``k``/``K``/
  ``thousand`` (10^3), ``m``/``M``/``mm``/``MM``/``million`` (10^6),
  ``b``/``B``/``bn``/``billion`` (10^9), and the Chinese units ``千`` (10^3),
  ``万``/``萬`` (10^4), ``十万`` (10^5), ``百万`` (10^6), ``千万`` (10^7),
  ``亿``/``億`` (10^8) -- each a single unit, so ``1.2M万`` is refused;
* an optional currency around it: a symbol before (``$``, ``US$``, ``¥``,
  ``€``, ``£``, ``₩``, ``₹``), an ISO 4217 code before or after (``USD``,
  ``CNY``; ``RMB`` is read as CNY) or ``元`` after. Given the currency amounts
  are in, an amount that names another one is refused, never converted
  (``$`` is any dollar and ``¥`` yuan or yen);
* full-width forms (``１２０万``, ``￥``, ``，``) and surrounding blanks, which
  Unicode NFKC normalisation turns into their plain forms first.

Anything else raises :class:`AmountError` (a ``ValueError``) whose message is
one sentence saying what is wrong and how to write it, e.g. ``"1,20,000": the
thousands separator must group three digits (1,200,000)``. Its ``reason`` is a
short code (:data:`REASONS`) a front door may translate. Negative amounts,
``NaN``, infinities and amounts above :data:`MAX_AMOUNT` are refused.

The value is computed in decimal arithmetic, so ``1.2M`` is exactly
``1200000.0`` and ``0.1亿`` exactly ``10000000.0``.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

#: Largest amount accepted: a budget, a bound or a weekly spend (the requests' limit).
MAX_AMOUNT = 1e12
#: Multiplier of each unit written after a number (Latin units in lower case).
UNITS: dict[str, int] = {
    "k": 10**3, "thousand": 10**3, "m": 10**6, "mm": 10**6, "million": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9,
    "千": 10**3, "万": 10**4, "萬": 10**4, "十万": 10**5, "十萬": 10**5, "百万": 10**6,
    "百萬": 10**6, "千万": 10**7, "千萬": 10**7, "亿": 10**8, "億": 10**8,
}
#: Currency symbols and the ISO codes each may stand for.
SYMBOLS: dict[str, frozenset[str]] = {
    "us$": frozenset({"USD"}), "€": frozenset({"EUR"}), "£": frozenset({"GBP"}),
    "₩": frozenset({"KRW"}), "₹": frozenset({"INR"}), "元": frozenset({"CNY"}),
    "¥": frozenset({"CNY", "JPY"}),
    "$": frozenset({"USD", "AUD", "CAD", "HKD", "MXN", "NZD", "SGD", "TWD", "ARS", "CLP",
                    "COP", "BRL"}),
}
#: Codes people write that are not ISO 4217 codes, and the code they mean.
CODE_ALIASES = {"RMB": "CNY"}
#: What :class:`AmountError` may report, each with the sentence it gives.
REASONS = ("empty", "negative", "not_finite", "too_large", "grouping", "two_units",
           "currency", "other_currency", "not_an_amount")

_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
_LOOSE_NUMBER = re.compile(r"[\d,]+(?:\.\d+)?|\.\d+")
_LETTERS = re.compile(r"[a-z]+", re.IGNORECASE)
_NOT_FINITE = {"nan", "inf", "infinity", "∞", "+inf", "-inf"}


class AmountError(ValueError):
    """An amount that cannot be read; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, message: str, text: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.text = text


def _unit_of(rest: str, text: str) -> tuple[int, str]:
    """The multiplier at the start of ``rest`` and what follows it."""
    rest = rest.lstrip()
    best = ""
    for name in UNITS:
        if rest[:len(name)].lower() == name and len(name) > len(best):
            if name.isascii() and rest[len(name):len(name) + 1].isalpha() and \
                    rest[len(name):len(name) + 1].isascii():
                continue  # "mil..." is not "m" followed by letters
            best = name
    if not best:
        letters = _LETTERS.match(rest)
        word = letters.group().lower() if letters else ""
        if any(word[:i] in UNITS and word[i:] in UNITS for i in range(1, len(word))):
            raise AmountError("two_units", f"{text!r}: give one unit (k, M, bn, 万, 亿, ...), "
                              "not two", text)
        return 1, rest
    after = rest[len(best):].lstrip()
    following = _LETTERS.match(after)
    if any(after[:len(n)].lower() == n for n in UNITS if not n.isascii()) or (
            following and following.group().lower() in UNITS):
        raise AmountError("two_units", f"{text!r}: give one unit (k, M, bn, 万, 亿, ...), not "
                          "two", text)
    return UNITS[best.lower()], after


def _currency_of(prefix: str, suffix: str, text: str) -> frozenset[str] | None:
    """The ISO codes the currency named around the number may be (``None``: none named)."""
    found: frozenset[str] | None = None
    for part in (prefix.strip(), suffix.strip()):
        if not part:
            continue
        if part.lower() in SYMBOLS:
            codes = SYMBOLS[part.lower()]
        else:
            code = CODE_ALIASES.get(part.upper(), part.upper())
            if len(part) != 3 or not part.isascii() or not part.isalpha() or \
                    not _is_code(code):
                raise AmountError("currency", f"{text!r}: {part!r} is not a currency or a "
                                  "unit; write an amount such as 1.2M, 1,200,000 or 120万", text)
            codes = frozenset({code})
        found = codes if found is None else found & codes
        if not found:
            raise AmountError("currency", f"{text!r}: names two currencies", text)
    return found


def _is_code(code: str) -> bool:
    from babel.numbers import list_currencies

    return code in list_currencies()


def _split(text: str, shown: str) -> tuple[str, str, str]:
    """``(before, number, after)`` of a normalised amount: exactly one number."""
    found = _LOOSE_NUMBER.search(text)
    before, after = (text[:found.start()], text[found.end():]) if found else (text, "")
    if found is None or re.search(r"[\d.,]", before + after):
        raise AmountError("not_an_amount", f"{shown!r} is not one amount; write it as 1.2M, "
                          "1,200,000 or 120万", shown)
    return before, found.group(), after


def parse_amount(text: str, currency: str | None = None) -> float:
    """The amount written in ``text`` (module docstring for what is accepted).

    Parameters
    ----------
    text
        What was typed: ``"1.2M"``, ``"1,200,000"``, ``"120万"``, ``"$300k"``.
    currency
        The ISO code amounts are in (the workspace's); an amount that names
        another currency (``€``, ``EUR``) is refused rather than converted.

    Returns
    -------
    float
        The amount, at least 0 and at most :data:`MAX_AMOUNT`.

    Raises
    ------
    AmountError
        The text is not one amount; the message says why in one sentence.
    """
    shown = str(text).strip()
    plain = unicodedata.normalize("NFKC", str(text)).strip().replace("\u2212", "-")
    if not plain:
        raise AmountError("empty", "enter an amount, such as 1.2M, 1,200,000 or 120万", shown)
    if plain.lower().lstrip("$¥€£ ") in _NOT_FINITE:
        raise AmountError("not_finite", f"{shown!r} is not a finite amount", shown)
    if plain.startswith("-") or re.match(r"^\D{0,4}-", plain) or \
            (plain.startswith("(") and plain.endswith(")")):
        raise AmountError("negative", f"{shown!r}: an amount cannot be negative", shown)
    before, digits, after = _split(plain, shown)
    if not _NUMBER.fullmatch(digits):
        raise AmountError("grouping", f"{shown!r}: the thousands separator must group three "
                          "digits, as in 1,200,000", shown)
    multiplier, after = _unit_of(after, shown)
    found = _currency_of(before, after, shown)
    if currency is not None and found is not None and currency.upper() not in found:
        raise AmountError("other_currency", f"{shown!r} is in {' or '.join(sorted(found))}, but "
                          f"amounts here are in {currency.upper()}; nothing is converted", shown)
    try:
        value = Decimal(digits.replace(",", "")) * multiplier
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise AmountError("not_an_amount", f"{shown!r} is not an amount", shown) from None
    if value > Decimal(MAX_AMOUNT):
        raise AmountError("too_large", f"{shown!r} is above the largest amount accepted, "
                          f"{MAX_AMOUNT:,.0f}", shown)
    return float(value)

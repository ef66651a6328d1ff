"""The plan builder's form: a period's amounts as people write them in, a PlanRequest out.

A buyer plans a **period** (a week, a month or a quarter,
:data:`optimizer.requests.PERIOD_WEEKS`): the budget, each channel's minimum
and maximum and a KPI target are that period's amounts, typed as people write
them (``1.2M``, ``1,200,000``, ``120万``; :func:`spendwise.money.parse_amount`).
:func:`plan_request` reads the form into the engine's
:class:`~optimizer.requests.PlanRequest`: the period as ``period`` (the
request turns it into weeks), channel limits divided by the period's weeks
into the request's weekly bounds, the maximum change from a percentage into a
fraction. What the form can check in the person's units it checks there (a
minimum above the maximum or above the budget); everything else is the
request's and the engine's own sentence, put beside the field it concerns
(:func:`field_of`, :func:`engine_errors`).

Form fields: ``model``, ``period``, ``budget``, ``objective``, ``target``,
``max_change``, ``allow_unconverged`` and, for channel ``i`` of the model (in
the model's order), ``min_i``, ``max_i`` and ``lock_i``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.errors import Conflict, Invalid, NotFound
from api.web import i18n
from api.web.pages import FormErrors
from optimizer.errors import InfeasibleError, NotConvergedError, OptimizerError
from optimizer.requests import PERIOD_WEEKS, PlanRequest
from spendwise.errors import FieldProblem
from spendwise.money import MAX_AMOUNT, AmountError, parse_amount

#: The periods a plan is built for, and the one the form starts with.
PERIODS = tuple(PERIOD_WEEKS)
DEFAULT_PERIOD = "month"
#: The request's fields and the form fields that show their messages.
FIELDS = {"budget": "budget", "budget_mode": "budget", "period": "period",
          "horizon_weeks": "period", "objective": "objective", "target": "target",
          "max_change": "max_change", "allow_unconverged": "allow_unconverged",
          "model": "model"}
#: Engine sentences about the budget as a whole (:func:`optimizer.constraints.check_budget`).
BUDGET_CONFLICTS = ("channel minimums add up", "channel maximums add up",
                    "locked channels alone spend")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%?")


@dataclass(frozen=True)
class ChannelRow:
    """One channel of the model as the builder shows it: weekly amounts."""

    index: int
    name: str
    current_weekly: float
    seen_weekly: float


def amount_message(exc: AmountError, currency: str) -> str:
    """The sentence of an amount that cannot be read, in the page's language."""
    if exc.reason == "empty":
        return i18n.gettext("Enter an amount, such as 1.2M, 1,200,000 or 120万.")
    if exc.reason == "negative":
        return i18n.gettext("An amount cannot be negative.")
    if exc.reason == "too_large":
        return i18n.gettext("This is above the largest amount accepted, {amount}.",
                            amount=i18n.number(MAX_AMOUNT))
    if exc.reason == "grouping":
        return i18n.gettext("The thousands separator groups three digits, as in 1,200,000.")
    if exc.reason == "two_units":
        return i18n.gettext("Give one unit (k, M, bn, 万, 亿), not two.")
    if exc.reason == "other_currency":
        return i18n.gettext("Amounts here are in {currency}; nothing is converted.",
                            currency=currency)
    return i18n.gettext("Write an amount such as 1.2M, 1,200,000 or 120万.")


def read_amount(form: Mapping[str, str], name: str, errors: FormErrors, currency: str,
                required: bool = False) -> float | None:
    """The amount of field ``name`` (``None`` if left empty and not required)."""
    text = str(form.get(name, "")).strip()
    if not text and not required:
        return None
    try:
        return parse_amount(text, currency)
    except AmountError as exc:
        errors.add(name, amount_message(exc, currency))
        return None


def read_change(text: str, errors: FormErrors) -> float | None:
    """A percentage (``30``, ``30%``, ``３０％``) as a fraction; ``None`` if empty."""
    plain = unicodedata.normalize("NFKC", text).strip()
    if not plain:
        return None
    found = _PERCENT.fullmatch(plain)
    if found is None:
        errors.add("max_change", i18n.gettext("Enter a percentage, such as 30 or 30%."))
        return None
    return float(found.group(1)) / 100


def plan_request(form: Mapping[str, str], channels: Sequence[ChannelRow],
                 currency: str) -> tuple[PlanRequest | None, FormErrors]:
    """The :class:`PlanRequest` of a filled-in builder, or the messages of its fields."""
    errors = FormErrors()
    period = str(form.get("period", ""))
    if period not in PERIOD_WEEKS:
        errors.add("period", i18n.gettext("Choose a week, a month or a quarter."))
        period = DEFAULT_PERIOD
    weeks = PERIOD_WEEKS[period]
    objective = str(form.get("objective", "conversions"))
    budget = read_amount(form, "budget", errors, currency, required=objective != "min_spend")
    target = read_amount(form, "target", errors, currency, required=True) \
        if objective == "min_spend" else None
    fields: dict[str, Any] = {
        "period": period, "objective": objective, "budget": budget, "target": target,
        "max_change": read_change(str(form.get("max_change", "")), errors),
        "budget_mode": "cap" if form.get("budget_cap") and objective not in
        ("profit", "min_spend") else None,
        "allow_unconverged": bool(form.get("allow_unconverged")) or None}
    bounds, locked = {}, []
    for row in channels:
        low, high = (read_amount(form, f"{side}_{row.index}", errors, currency)
                     for side in ("min", "max"))
        if low is not None and high is not None and low > high:
            errors.add(f"min_{row.index}", i18n.gettext("The minimum is above the maximum."))
        elif low is not None and budget is not None and low > budget:
            errors.add(f"min_{row.index}", i18n.gettext(
                "This minimum is above the budget of {budget}.",
                budget=i18n.money(budget, currency)))
        if low is not None or high is not None:
            bounds[row.name] = {"min": None if low is None else low / weeks,
                                "max": None if high is None else high / weeks}
        if form.get(f"lock_{row.index}"):
            locked.append(row.name)
    fields |= {"bounds": bounds or None, "locked": tuple(locked) or None}
    if errors:
        return None, errors
    try:
        return PlanRequest.build(**{k: v for k, v in fields.items() if v is not None}), errors
    except FieldProblem as exc:
        return None, problems_to_fields(exc.problems, channels)


def field_of(path: str, sentence: str, channels: Sequence[ChannelRow]) -> tuple[str, str]:
    """The form field of a request's field path (``bounds.<channel>.min``, ``max_change``;
    ``""`` for the top of the form) and the sentence to show there."""
    if not path:  # a rule across fields: its sentence starts with the field
        head, _, rest = sentence.partition(": ")
        if head in PlanRequest.model_fields:
            path, sentence = head, rest
    parts = path.split(".")
    by_name = {json.dumps(c.name, ensure_ascii=False)[1:-1]: c.index for c in channels}
    if parts[0] == "bounds" and len(parts) > 1:
        side = parts[-1] if parts[-1] in ("min", "max") and len(parts) > 2 else "min"
        name = ".".join(parts[1:-1] if len(parts) > 2 and parts[-1] in ("min", "max")
                        else parts[1:])
        if name in by_name:
            return f"{side}_{by_name[name]}", sentence
    return FIELDS.get(parts[0], ""), sentence


def problems_to_fields(problems: Sequence[tuple[str, str]],
                       channels: Sequence[ChannelRow]) -> FormErrors:
    """A request's ``(field, sentence)`` problems on the builder's fields."""
    errors = FormErrors()
    for path, sentence in problems:
        name, text = field_of(path, sentence, channels)
        errors.add(name, text if name or not path else f"{path}: {text}")
    return errors


def engine_errors(exc: Exception, channels: Sequence[ChannelRow]) -> FormErrors | None:
    """The service's or the engine's refusal on the builder's fields; ``None`` for an error
    the form cannot explain (left to the error page)."""
    if isinstance(exc, Invalid) and exc.errors:
        return problems_to_fields([(".".join(str(p) for p in e.get("loc", [])[1:]),
                                    str(e.get("msg", ""))) for e in exc.errors], channels)
    errors = FormErrors()
    text = str(getattr(exc, "detail", exc))
    if isinstance(exc, NotFound | Conflict):
        errors.add("model", text)
    elif isinstance(exc, NotConvergedError):
        errors.add("allow_unconverged", text)
    elif isinstance(exc, InfeasibleError):
        errors.add(_infeasible_field(text, channels), text)
    elif isinstance(exc, OptimizerError | Invalid):
        errors.add(FIELDS.get(getattr(exc, "field", None) or "", ""), text)
    else:
        return None
    return errors


def _infeasible_field(text: str, channels: Sequence[ChannelRow]) -> str:
    """The field an infeasible plan's sentence is about: a channel's row, or the budget."""
    if text.startswith(BUDGET_CONFLICTS):
        return "budget"
    for row in sorted(channels, key=lambda c: -len(c.name)):
        if text.startswith(f"channel {row.name}:"):
            return f"min_{row.index}"
    return ""

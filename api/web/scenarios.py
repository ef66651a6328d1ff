"""Scenarios for finance: plans and forecasts side by side, and a model's budget frontier.

``GET /scenarios?ids=pl_1,pl_2`` puts two to four plans or forecasts of the
workspace side by side: spend, KPI, revenue, ROMI and profit with their 90%
intervals, what the current allocation spends and brings over the same
period, and the probability that each beats it. The numbers are those of the
stored results; a probability a result does not hold is computed on the
model's draws by :func:`optimizer.forecast.compare`. Without ids (or with a
wrong number of them) the page is a form of checkboxes; ``format=csv``
downloads the table.

``GET /models/<model_id>/frontier?period=month&budget=1.2M`` draws the budget
frontier of a fitted model (:mod:`optimizer.frontier`): the expected KPI of
the best plan at each total budget of the period with its band, the return
of the next unit, and in words where the next ``step`` would go and what a
cut of ``cut`` percent gives up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from flask import Blueprint, Response, request
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from api.context import RESOURCE_ID, db, services
from api.errors import NotFound
from api.fits import fitted, model_of
from api.html import inline_svg
from api.jobs import SUCCEEDED
from api.tables import Plan, ResponseFit
from api.web import i18n, pages
from api.web.drawn import DRAWN
from api.web.plans import kpi_words, period_words
from optimizer.errors import OptimizerError
from optimizer.forecast import compare
from optimizer.frontier import Shift, budget_cut, frontier, next_increment
from optimizer.frontier_chart import frontier_chart
from optimizer.posterior import ResponseDraws
from optimizer.requests import PERIOD_WEEKS, PlanRequest
from optimizer.response_model import CURRENT_WEEKS
from spendwise.errors import FieldProblem
from spendwise.export import to_csv
from spendwise.money import AmountError, parse_amount

blueprint = Blueprint("web_scenarios", __name__)
FEWEST, MOST = 2, 4
#: Plans and forecasts offered in the form, newest first.
OFFERED = 100
#: Defaults of the frontier's questions: the next amount, and the cut in percent.
STEP, CUT = 100_000.0, 20.0
#: The marginal return is shown per this many currency units.
PER = 1000.0
#: The frontier form's field of each field an engine error may name.
FIELDS = {"budget": "budget", "amount": "step", "fraction": "cut"}
Stats = Mapping[str, Any]


# -- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One plan or forecast as the table shows it (``Stats``: mean and 5/50/95%)."""

    row: Plan
    horizon_weeks: float
    kpi_name: str
    budget: float | None
    spend: float
    kpi: Stats
    revenue: Stats
    romi: Stats
    profit: Stats
    current_spend: float | None
    current_kpi: Stats | None
    beats: Mapping[str, float | None]


def less(stats: Stats, amount: float) -> dict[str, float | None]:
    """An interval of draws minus a constant (profit is revenue less a fixed spend)."""
    return {k: None if stats.get(k) is None else float(stats[k]) - amount
            for k in ("mean", "p05", "p50", "p95")}


def allocation(draws: ResponseDraws, body: Mapping[str, Any]) -> Any:
    """The weekly spend (or per-week schedule) of a stored plan or forecast, in the
    draws' channel order."""
    entries = body.get("channels", [])
    if body.get("mode") != "per_week":
        return draws.spend_by_channel({e["channel"]: e["weekly_spend"] for e in entries},
                                      "allocation")
    weeks = len(entries[0]["weekly_spend"]) if entries else 0
    return np.array([draws.spend_by_channel({e["channel"]: e["weekly_spend"][t]
                                             for e in entries}, "allocation")
                     for t in range(weeks)])


def scenario_of(row: Plan, draws_of: Callable[[Plan], ResponseDraws | None]) -> Scenario:
    """The numbers of a stored plan or forecast; what it does not hold from the draws."""
    result = row.result or {}
    is_plan = row.kind == "plan"
    body = result if is_plan else result.get("forecast", {})
    total, against = body.get("total", {}), None if is_plan else result.get("against_current")
    spend = float(total.get("spend", math.nan))
    if is_plan:
        beats = {"kpi": result.get("prob_beats_current"), "profit": None}
        current_spend, current_kpi = total.get("current_spend"), total.get("current_kpi")
    else:
        beats = dict((against or {}).get("prob_proposed_beats_current", {}))
        now = (against or {}).get("current", {}).get("total", {})
        current_spend, current_kpi = now.get("spend"), now.get("kpi")
    missing = tuple(k for k in ("kpi", "profit") if beats.get(k) is None)
    draws = draws_of(row) if missing or current_kpi is None else None
    if draws is not None:
        if row.parameters.get("current"):  # the plan's own "current", as its allocator used
            draws = replace(draws, current=draws.spend_by_channel(row.parameters["current"],
                                                                  "current"))
        comparison = compare(draws, "current", allocation(draws, body),
                             horizon_weeks=body.get("horizon_weeks", 1),
                             mode=body.get("mode"))
        beats.update({k: comparison.prob_beats[k] for k in missing})
        if current_kpi is None:
            now = comparison.current.total_dict()
            current_spend, current_kpi = now["spend"], now["kpi"]
    budget = (result.get("budget") or {}).get("amount") if is_plan else None
    return Scenario(row, float(body.get("horizon_weeks", math.nan)),
                    str(body.get("kpi_name", "conversions")), budget, spend,
                    total.get("kpi", {}), total.get("revenue", {}), total.get("romi", {}),
                    less(total.get("revenue", {}), spend), current_spend, current_kpi, beats)


def chosen_ids(args: MultiDict[str, str]) -> list[str]:
    """The ids asked for, as ``ids=a,b`` or ``ids=a&ids=b``, each once, in order."""
    given = args.getlist("ids")
    found = [part.strip() for value in given for part in str(value).split(",")]
    return list(dict.fromkeys(p for p in found if p))


def _draws_loader(workspace_id: str) -> Callable[[Plan], ResponseDraws | None]:
    def draws_of(row: Plan) -> ResponseDraws | None:
        model = db().get(ResponseFit, row.model_id) if row.model_id else None
        if model is None or model.workspace_id != workspace_id or model.state != SUCCEEDED:
            return None
        return fitted(services().store, model).draws
    return draws_of


def _offered(workspace_id: str) -> list[Plan]:
    return list(db().scalars(select(Plan).where(Plan.workspace_id == workspace_id,
                                                 Plan.state == SUCCEEDED)
                             .order_by(Plan.created_at.desc(), Plan.id).limit(OFFERED)))


def _rows(workspace_id: str, ids: list[str], errors: pages.FormErrors) -> list[Plan]:
    rows = []
    for plan_id in ids:
        row = db().get(Plan, plan_id) if RESOURCE_ID.fullmatch(plan_id) else None
        if row is None or row.workspace_id != workspace_id:
            raise NotFound(i18n.gettext("No plan or forecast {id} in this workspace.",
                                        id=plan_id[:40]))
        if row.state != SUCCEEDED:
            errors.add("ids", i18n.gettext("{id} has no result yet.", id=row.id))
        rows.append(row)
    return rows


@blueprint.get("/scenarios")
def scenarios() -> Response:
    """Two to four plans or forecasts side by side, or the form that chooses them."""
    who = pages.require("plan.read")
    assert who.workspace_id is not None
    ids, errors = chosen_ids(request.args), pages.FormErrors()
    if ids and not FEWEST <= len(ids) <= MOST:
        errors.add("ids", i18n.gettext("Choose from two to four plans or forecasts; you chose "
                                       "{count}.", count=len(ids)))
    rows = _rows(who.workspace_id, ids, errors) if len(ids) <= 50 else []
    shown = [] if errors or not ids else \
        [scenario_of(r, _draws_loader(who.workspace_id)) for r in rows]
    if shown and request.args.get("format") == "csv":
        return scenarios_csv(shown)
    models = list(db().scalars(select(ResponseFit).where(
        ResponseFit.workspace_id == who.workspace_id, ResponseFit.state == SUCCEEDED)
        .order_by(ResponseFit.created_at.desc()).limit(20))) if who.can("model.read") else []
    return pages.render("web/scenarios/scenarios.html", status=422 if errors else 200,
                        title=i18n.gettext("Scenarios"), ids=ids, errors=errors,
                        scenarios=shown, offered=_offered(who.workspace_id) if not shown else [],
                        models=models, current_weeks=CURRENT_WEEKS,
                        several_models=len({s.row.model_id for s in shown}) > 1,
                        several_periods=len({s.horizon_weeks for s in shown}) > 1)


def scenarios_csv(shown: list[Scenario]) -> Response:
    """The side-by-side table as CSV, one row per scenario (formula-like cells neutralised)."""
    records = []
    for s in shown:
        record: dict[str, Any] = {"id": s.row.id, "kind": s.row.kind, "model": s.row.model_id,
                                  "horizon_weeks": s.horizon_weeks, "kpi_name": s.kpi_name,
                                  "budget": s.budget, "spend": s.spend}
        for name in ("kpi", "revenue", "romi", "profit"):
            stats = getattr(s, name)
            record.update({f"{name}_{k}": stats.get(k) for k in ("mean", "p05", "p95")})
        record.update({"current_spend": s.current_spend,
                       "current_kpi_mean": (s.current_kpi or {}).get("mean"),
                       "prob_beats_current_kpi": s.beats.get("kpi"),
                       "prob_beats_current_profit": s.beats.get("profit")})
        records.append(record)
    return Response(to_csv(pd.DataFrame(records)), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="scenarios.csv"'})


# -- the budget frontier ------------------------------------------------------------------------


def _form(errors: pages.FormErrors, weekly_now: float) -> tuple[dict[str, str], dict[str, Any]]:
    """The frontier form as typed, and its values (defaults where left empty)."""
    form = {k: request.args.get(k, "").strip()[:40] for k in ("period", "budget", "step", "cut")}
    period = form["period"] or "month"
    if period not in PERIOD_WEEKS:
        errors.add("period", i18n.gettext("Choose a week, a month or a quarter."))
        period = "month"
    values: dict[str, Any] = {"period": period}
    for name, default in (("budget", weekly_now * PERIOD_WEEKS[period]), ("step", STEP)):
        try:
            values[name] = parse_amount(form[name], pages.workspace().currency) \
                if form[name] else default
        except AmountError as exc:
            errors.add(name, i18n.gettext("Amounts here are in {currency}; nothing is "
                                          "converted.", currency=pages.workspace().currency)
                       if exc.reason == "other_currency" else
                       i18n.gettext("Enter an amount such as 1.2M, 1,200,000 or 120万."))
    try:
        values["cut"] = float(form["cut"].rstrip("%")) if form["cut"] else CUT
        if not 0 < values["cut"] < 100:
            raise ValueError(form["cut"])
    except ValueError:
        errors.add("cut", i18n.gettext("Enter a percentage between 0 and 100."))
    form["period"] = period
    return form, values


@blueprint.get("/models/<model_id>/frontier", endpoint="frontier")
def frontier_page(model_id: str) -> Response:
    """The budget frontier of a fitted model, and where the next amount would go."""
    who = pages.require("model.read")
    who.require("plan.read")
    assert who.workspace_id is not None
    row = model_of(db(), who.workspace_id, model_id)
    loaded = fitted(services().store, row)
    draws = loaded.draws
    errors = pages.FormErrors()
    form, values = _form(errors, float(np.sum(draws.current)))
    context: dict[str, Any] = {}
    if not errors:
        try:
            key = ("frontier", row.id, row.artifact, i18n.language(),
                   tuple(sorted(values.items())))
            context = DRAWN.get(key, lambda: _answers(draws, values))
        except FieldProblem as exc:
            errors = pages.FormErrors.of_error(exc, FIELDS)
        except OptimizerError as exc:
            errors.add(FIELDS.get(exc.field or "", ""), str(exc))
    return pages.render("web/scenarios/frontier.html", status=422 if errors else 200,
                        title=i18n.gettext("Budget frontier of model {model}", model=row.id),
                        model=row, form=form, values=values, errors=errors,
                        periods={p: period_words(p) for p in PERIOD_WEEKS},
                        converged=loaded.model.result_.converged,
                        current_weeks=CURRENT_WEEKS, per=PER, **context)


def _answers(draws: ResponseDraws, values: Mapping[str, Any]) -> dict[str, Any]:
    """The frontier, its chart and the two answers at the chosen budget."""
    budget = values["budget"]
    plan = PlanRequest.build(budget=budget, period=values["period"])
    result = frontier(draws, plan)
    more = next_increment(draws, plan, budget, values["step"])
    cut = budget_cut(draws, plan, budget, values["cut"] / 100)
    words = period_words(values["period"])
    labels = {"budget": i18n.gettext("total budget {period}", period=words),
              "kpi": i18n.gettext("expected {kpi} (mean, 90% band)", kpi=kpi_words(draws.kpi)),
              "marginal": i18n.gettext("{kpi} from the next {amount}", kpi=kpi_words(draws.kpi),
                                       amount=_money(PER)),
              "best": i18n.gettext("best plan at each budget"),
              "band": i18n.gettext("90% band"), "today": i18n.gettext("today's allocation"),
              "current": i18n.gettext("current budget"),
              "reference": i18n.gettext("chosen budget")}
    chart = inline_svg(frontier_chart(result, per=PER, labels=labels),
                       i18n.gettext("Expected KPI and the return of the next unit against the "
                                    "total budget"))
    today = result.at(result.current_budget)
    return {"frontier": result.to_dict(), "chart": chart, "kpi": draws.kpi,
            "today": {"budget": result.current_budget, "now": float(result.current_kpi.mean()),
                      "best": float(today.total_kpi.mean())},
            "next_words": next_sentence(more, words),
            "cut_words": cut_sentence(cut, words, values["cut"]),
            "more": more.to_dict(), "given_up": given_up(cut)}


def given_up(cut: Shift) -> list[dict[str, Any]]:
    """What each channel, then all of them, give up in a cut: spend and KPI (at least 0)."""
    rows = []
    for name, spend, kpi in [*zip(cut.channels, cut.spend_change, cut.channel_kpi_change.T,
                                  strict=True), ("", cut.moved, cut.kpi_change)]:
        low, high = np.percentile(-kpi, [5, 95])
        rows.append({"channel": name, "spend": max(0.0, -float(spend)),
                     "kpi": {"mean": max(0.0, -float(kpi.mean())), "p05": max(0.0, float(low)),
                             "p95": max(0.0, float(high))}})
    return rows


def kpi_amount(value: Any, kpi: str) -> str:
    """A quantity of KPI in words: ``310 conversions`` or ``$31,000 of revenue``."""
    if kpi == "revenue":
        return i18n.gettext("{amount} of revenue", amount=_money(value))
    return i18n.gettext("{amount} conversions", amount=i18n.number(value))


def _money(value: Any) -> str:
    return i18n.money(value, pages.workspace().currency)


def _plain(value: Any, kpi: str) -> str:
    return _money(value) if kpi == "revenue" else i18n.number(value)


def listing(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c`` in the reader's language."""
    if len(parts) <= 1:
        return "".join(parts)
    return i18n.gettext(", ").join(parts[:-1]) + i18n.gettext(" and ") + parts[-1]


def next_sentence(more: Shift, period: str) -> str:
    """Where the next amount would go and what it adds, in words."""
    if more.moved <= 1e-9 * abs(more.amount):
        return i18n.gettext("The channels are at their caps: the next {amount} {period} would "
                            "stay unspent.", amount=_money(more.amount), period=period)
    order = np.argsort(-more.shares)
    split = listing([i18n.gettext("{share} to {channel}", share=i18n.percent(more.shares[i]),
                                  channel=more.channels[i])
                     for i in order if more.shares[i] >= 0.005])
    change = np.percentile(more.kpi_change, [5, 95])
    text = i18n.gettext("The next {amount} {period} would go {split} and add about {kpi} "
                        "({low}–{high}).", amount=_money(more.amount), period=period,
                        split=split, kpi=kpi_amount(more.kpi_change.mean(), more.kpi_name),
                        low=_plain(change[0], more.kpi_name),
                        high=_plain(change[1], more.kpi_name))
    unspent = more.amount - more.moved
    if unspent > 1e-6 * more.amount:
        text += " " + i18n.gettext("Of it, {unspent} would stay unspent: the channels reach "
                                   "their caps.", unspent=_money(unspent))
    return text


def cut_sentence(cut: Shift, period: str, percent: float) -> str:
    """What a cut gives up, and from which channels mostly, in words."""
    lost = -cut.channel_kpi_change.mean(axis=0)
    order = np.argsort(-lost)
    names, covered = [], 0.0
    for i in order[:3]:
        names.append(cut.channels[i])
        covered += max(float(lost[i]), 0.0)
        if covered >= 0.5 * float(lost.sum()):
            break
    low, high = np.percentile(-cut.kpi_change, [5, 95])
    if -cut.moved <= 1e-9 * abs(cut.amount):
        return i18n.gettext("Cutting the budget by {percent} would lose nothing: the channels "
                            "are at their caps and leave that much unspent anyway.",
                            percent=i18n.percent(percent / 100, 0 if percent == int(percent)
                                                 else 1))
    return i18n.gettext("Cutting the budget by {percent} would lose about {kpi} {period} "
                        "({low}–{high}), mostly from {channels}.",
                        percent=i18n.percent(percent / 100, 0 if percent == int(percent) else 1),
                        kpi=kpi_amount(-cut.kpi_change.mean(), cut.kpi_name), period=period,
                        low=_plain(low, cut.kpi_name), high=_plain(high, cut.kpi_name),
                        channels=listing(names))

"""A plan in words: what moves where, what it gains, which limits bind, what stays unspent.

:func:`plan_story` reads the JSON form of a plan (:meth:`optimizer.plan.Plan.to_dict`)
and :func:`forecast_story` that of a forecast (:func:`optimizer.forecast.forecast_of`)
and return a :class:`Story`: structured facts, each number taken from the
JSON (or from posterior draws when given), so that any front door can say
them in its own language and units (:mod:`optimizer.headline` says the
headline in one sentence).

The facts
    *Moves* are each channel's spend over the horizon, today against the plan.
    The amount *moved* is what the cut channels give up (when the total
    grows, what the raised channels gain beyond it is *added*). A change
    below :data:`NEGLIGIBLE` of the total is not named.

    The *gain* is in the objective's measure (profit for a profit plan,
    revenue for a revenue plan, the KPI otherwise): the mean and the 5th and
    95th percentiles over the posterior draws of plan minus today, and the
    share of draws in which the plan is strictly ahead.

    A *binding limit* is one the plan sits on (within :data:`TOLERANCE`): a
    channel at its minimum or maximum, locked, or given nothing; the budget
    spent in full; a KPI target or ROMI floor met exactly. Each names where
    the limit came from (the channel's limits in the plan's
    ``constraints.limit_sources``: a bound, the maximum change, the cap of
    ``max_spend_multiple`` times the largest weekly spend seen, a lock) and,
    for a channel, the return of its next currency unit against the budget's
    shadow price: by the Karush-Kuhn-Tucker conditions a channel held at its
    maximum returns more than the price at the margin (it would take more),
    one held at its minimum less.

    *Unspent* money is a budget cap left over, with its reason: every channel
    is at its maximum; the next unit of every channel returns less than it
    costs (profit); the KPI target is reached; the ROMI floor; otherwise the
    cap.

    Channels *beyond their history* are those whose proposed weekly spend is
    above the largest weekly spend the model's data holds for them (the
    curve there is extrapolated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from optimizer.forecast import interval

#: A change smaller than this share of the total spend is not named in the summary.
NEGLIGIBLE = 1e-3
#: Relative distance to a limit within which the plan is on it.
TOLERANCE = 1e-6
#: The measure of each objective's gain (``None``: the plan's KPI).
MEASURES = {"revenue": "revenue", "profit": "profit"}


@dataclass(frozen=True)
class Move:
    """One channel's spend over the horizon: today and in the plan."""

    channel: str
    current: float
    proposed: float

    @property
    def change(self) -> float:
        """Proposed minus current spend."""
        return self.proposed - self.current


@dataclass(frozen=True)
class Gain:
    """Plan minus today in one measure over the horizon, and the chance it is ahead."""

    measure: str
    mean: float | None
    low: float | None
    high: float | None
    probability: float | None

    @classmethod
    def of_draws(cls, measure: str, samples: ArrayLike) -> Gain:
        """The gain of per-draw differences: mean, 5th and 95th percentiles, P(> 0)."""
        values = np.asarray(samples, dtype=float)
        stats = interval(values)
        return cls(measure, stats["mean"], stats["p05"], stats["p95"],
                   float(np.mean(values > 0)) if values.size else None)

    @classmethod
    def of_interval(cls, measure: str, stats: Mapping[str, Any] | None,
                    probability: float | None) -> Gain:
        """The gain of an interval dictionary (:func:`optimizer.forecast.interval`)."""
        stats = stats or {}
        return cls(measure, stats.get("mean"), stats.get("p05"), stats.get("p95"), probability)


@dataclass(frozen=True)
class Binding:
    """A limit the plan sits on.

    ``limit`` is ``minimum``, ``maximum``, ``locked``, ``fixed`` (a minimum and
    a maximum that meet), ``nothing`` (a channel given no spend), ``budget``,
    ``target`` or ``romi_floor``; ``source``
    where the limit came from: ``bound``, ``max_change``, ``history_cap``,
    ``locked``, ``no_minimum``, ``budget_equal``, ``budget_cap``, ``target``,
    ``romi_floor`` (``other`` if unknown). ``amount`` is the limit over the
    horizon (the weekly limit times the horizon's weeks), ``setting`` the
    maximum change or multiple that made it, ``marginal`` the return of the
    channel's next currency unit in the objective's measure and
    ``budget_return`` the budget's shadow price in the same measure.
    """

    channel: str | None
    limit: str
    source: str
    amount: float | None
    setting: float | None = None
    marginal: float | None = None
    budget_return: float | None = None


@dataclass(frozen=True)
class Unspent:
    """Budget left over, and why (``all_at_maximum``, ``unprofitable``, ``target_reached``,
    ``romi_floor`` or ``cap``)."""

    amount: float
    reason: str


@dataclass(frozen=True)
class Beyond:
    """A channel whose proposed weekly spend is above the largest weekly spend seen."""

    channel: str
    weekly: float
    seen: float


@dataclass(frozen=True)
class Story:
    """The facts of a plan or a forecast (module docstring)."""

    kind: str
    objective: str | None
    kpi_name: str
    period: str | None
    horizon_weeks: float
    moves: tuple[Move, ...]
    gain: Gain | None
    binding: tuple[Binding, ...] = ()
    unspent: Unspent | None = None
    beyond: tuple[Beyond, ...] = ()

    @property
    def current_total(self) -> float:
        """Today's spend over the horizon."""
        return float(sum(m.current for m in self.moves))

    @property
    def proposed_total(self) -> float:
        """The proposal's spend over the horizon."""
        return float(sum(m.proposed for m in self.moves))

    @property
    def moved(self) -> float:
        """Money taken from the channels that are cut (0 when none is)."""
        return float(sum(max(-m.change, 0.0) for m in self.moves))

    @property
    def added(self) -> float:
        """Change of the total spend (negative when the proposal spends less)."""
        return self.proposed_total - self.current_total

    def _named(self, sign: int) -> tuple[str, ...]:
        floor = NEGLIGIBLE * max(self.current_total, self.proposed_total)
        chosen = [m for m in self.moves if sign * m.change > floor]
        return tuple(m.channel for m in sorted(chosen, key=lambda m: -abs(m.change)))

    @property
    def sources(self) -> tuple[str, ...]:
        """Channels cut by more than :data:`NEGLIGIBLE` of the total, largest cut first."""
        return self._named(-1)

    @property
    def destinations(self) -> tuple[str, ...]:
        """Channels raised by more than :data:`NEGLIGIBLE` of the total, largest first."""
        return self._named(1)

    @property
    def action(self) -> str:
        """``move``, ``move_add``, ``move_cut``, ``add``, ``cut`` or ``keep``."""
        floor = NEGLIGIBLE * max(self.current_total, self.proposed_total)
        grows, shrinks = self.added > floor, self.added < -floor
        if self.sources and self.destinations:
            return "move_add" if grows else "move_cut" if shrinks else "move"
        if self.destinations:
            return "add"
        return "cut" if self.sources else "keep"


# -- plans ------------------------------------------------------------------------------------


def _source(text: str) -> str:
    """Where a limit came from, from :func:`optimizer.constraints.channel_limits`' words."""
    if text == "locked at current":
        return "locked"
    if text == "its bound":
        return "bound"
    if text.startswith("current "):
        return "max_change"
    if "x its largest weekly spend" in text:
        return "history_cap"
    return "no_minimum" if text == "no minimum" else "other"


def _weekly(entry: Mapping[str, Any]) -> np.ndarray[Any, Any]:
    return np.atleast_1d(np.asarray(entry.get("weekly_spend", 0.0), dtype=float))


def _marginal(entry: Mapping[str, Any], objective: str) -> float | None:
    """The return of the channel's next currency unit in the objective's measure."""
    romi = (entry.get("marginal_romi") or {}).get("mean")
    if objective == "revenue":
        return None if romi is None else romi + 1.0
    if objective == "profit":
        return romi
    if objective in ("conversions", "cvar"):
        return (entry.get("marginal_kpi") or {}).get("mean")
    return None


def _setting(plan: Mapping[str, Any], channel: str, source: str) -> float | None:
    constraints = plan.get("constraints") or {}
    if source == "max_change":
        change = constraints.get("max_change")
        return change.get(channel) if isinstance(change, Mapping) else change
    if source == "history_cap":
        return constraints.get("max_spend_multiple")
    return None


def _channel_limits(plan: Mapping[str, Any], entry: Mapping[str, Any],
                    price: float | None) -> list[Binding]:
    """The limits one channel of a plan sits on."""
    name, weeks = str(entry["channel"]), float(plan["horizon_weeks"])
    weekly, objective = _weekly(entry), str(plan["objective"])
    low, high = float(entry.get("min_weekly") or 0.0), entry.get("max_weekly")
    sources = ((plan.get("constraints") or {}).get("limit_sources") or {}).get(name, {})
    slack = TOLERANCE * max(float(np.max(weekly)), low, float(high or 0.0), 1.0)
    marginal = _marginal(entry, objective)
    if high is not None and high - low <= slack:  # no room: locked, or limits that meet
        source = _source(str(sources.get("max", "")))
        return [Binding(name, "locked" if source == "locked" else "fixed", source,
                        high * weeks, _setting(plan, name, source), marginal, price)]
    found = []
    if high is not None and float(np.max(weekly)) >= high - slack:
        source = _source(str(sources.get("max", "")))
        found.append(Binding(name, "maximum", source, high * weeks,
                             _setting(plan, name, source), marginal, price))
    if float(np.min(weekly)) <= low + slack:
        source = _source(str(sources.get("min", "")))
        found.append(Binding(name, "minimum" if low > slack else "nothing", source, low * weeks,
                             _setting(plan, name, source), marginal, price))
    return found


def _plan_limits(plan: Mapping[str, Any]) -> list[Binding]:
    """Every limit a plan sits on: channels first, then the budget, target and floor."""
    objective = str(plan["objective"])
    price = (plan.get("shadow_price") or {}).get("value") \
        if objective in ("conversions", "revenue", "profit") else None
    found = [b for entry in plan["channels"] for b in _channel_limits(plan, entry, price)]
    budget = plan.get("budget") or {}
    amount, spend = budget.get("amount"), float(plan["total"]["spend"])
    if amount is not None and (budget.get("constraint") == "equal" or
                               spend >= amount * (1 - TOLERANCE)):
        source = "budget_equal" if budget.get("constraint") == "equal" else "budget_cap"
        found.append(Binding(None, "budget", source, float(amount), budget_return=price))
    constraints = plan.get("constraints") or {}
    if objective == "min_spend" and constraints.get("target") is not None:
        found.append(Binding(None, "target", "target", float(constraints["target"]),
                             budget_return=(plan.get("shadow_price") or {}).get("value")))
    floor, romi = constraints.get("romi_floor"), (plan["total"].get("romi") or {}).get("mean")
    if floor is not None and romi is not None and abs(romi - floor) <= 1e-4 * max(1.0, abs(floor)):
        found.append(Binding(None, "romi_floor", "romi_floor", None, setting=float(floor)))
    return found


def _unspent(plan: Mapping[str, Any], limits: Sequence[Binding]) -> Unspent | None:
    budget = plan.get("budget") or {}
    amount, spend = budget.get("amount"), float(plan["total"]["spend"])
    if amount is None or spend >= amount * (1 - TOLERANCE):
        return None
    at_max = {b.channel for b in limits if b.limit in ("maximum", "locked", "fixed")}
    objective = str(plan["objective"])
    if objective == "min_spend":
        reason = "target_reached"
    elif all(c["channel"] in at_max for c in plan["channels"]):
        reason = "all_at_maximum"
    elif objective == "profit":
        reason = "unprofitable"
    elif (plan.get("constraints") or {}).get("romi_floor") is not None:
        reason = "romi_floor"
    else:
        reason = "cap"
    return Unspent(float(amount) - spend, reason)


def beyond_history(channels: Sequence[Mapping[str, Any]],
                   history: Mapping[str, float] | None) -> tuple[Beyond, ...]:
    """Channels whose highest proposed weekly spend is above the largest weekly spend seen."""
    if not history:
        return ()
    found = []
    for entry in channels:
        name = str(entry["channel"])
        if name not in history:
            continue
        top, seen = float(np.max(_weekly(entry))), float(history[name])
        if top > seen * (1 + TOLERANCE) + 1e-9:
            found.append(Beyond(name, top, seen))
    return tuple(found)


def _plan_gain(plan: Mapping[str, Any], comparison: Any | None) -> Gain:
    measure = MEASURES.get(str(plan["objective"]), str(plan["kpi_name"]))
    total, beats = plan["total"], plan.get("prob_beats") or {}
    key = {"revenue": "revenue", "profit": "profit"}.get(measure, "kpi")
    if comparison is not None:
        samples = {"kpi": comparison.kpi_gain, "revenue": comparison.revenue_gain,
                   "profit": comparison.profit_gain}[key]
        return Gain.of_draws(measure, samples)
    if key != "kpi" and f"{key}_gain" not in total:  # a plan saved before these were kept
        measure, key = str(plan["kpi_name"]), "kpi"
    probability = beats.get(key, plan.get("prob_beats_current") if key == "kpi" else None)
    return Gain.of_interval(measure, total.get(f"{key}_gain"), probability)


def plan_story(plan: Mapping[str, Any], history: Mapping[str, float] | None = None,
               comparison: Any | None = None) -> Story:
    """The facts of a plan's JSON (:meth:`optimizer.plan.Plan.to_dict`).

    Parameters
    ----------
    plan
        The plan's JSON form.
    history
        ``channel -> largest weekly spend`` in the model's data
        (``ResponseDraws.max_weekly_spend``); without it no channel is flagged
        as beyond its history.
    comparison
        The plan against today on the posterior draws
        (:class:`optimizer.forecast.Comparison`); when given the gain and its
        probability are computed from its draws instead of read from the JSON.
    """
    moves = tuple(Move(str(c["channel"]), float(c["current_spend"]), float(c["spend"]))
                  for c in plan["channels"])
    limits = _plan_limits(plan)
    budget = plan.get("budget") or {}
    period = budget.get("period")
    return Story("plan", str(plan["objective"]), str(plan["kpi_name"]),
                 None if period in (None, "horizon") else str(period),
                 float(plan["horizon_weeks"]), moves, _plan_gain(plan, comparison),
                 tuple(limits), _unspent(plan, limits), beyond_history(plan["channels"], history))


def forecast_story(body: Mapping[str, Any], comparison: Mapping[str, Any] | None,
                   history: Mapping[str, float] | None = None) -> Story:
    """The facts of a forecast (``body``) and its comparison with today (if it has one)."""
    today = {str(c["channel"]): float(c["spend"])
             for c in (comparison or {}).get("current", {}).get("channels", [])}
    moves = tuple(Move(str(c["channel"]), today.get(str(c["channel"]), float(c["spend"])),
                       float(c["spend"])) for c in body["channels"])
    gain = None
    if comparison is not None:
        gain = Gain.of_interval(str(body["kpi_name"]), comparison["difference"]["kpi"],
                                comparison["prob_proposed_beats_current"]["kpi"])
    period = body.get("period")
    return Story("forecast", None, str(body["kpi_name"]), None if period is None else str(period),
                 float(body["horizon_weeks"]), moves, gain,
                 beyond=beyond_history(body["channels"], history))

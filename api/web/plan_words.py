"""What a plan's page says, in the reader's language and money per period.

:func:`plan_view` turns a stored plan (its JSON and parameters) into what
``web/plans/plan.html`` shows: the summary sentence and the facts of
:func:`optimizer.narrative.plan_story` in words (which limits bind and why,
money left unspent and why, channels beyond the spend their data has seen),
what "today" is, and the channel table in money over the plan's period.

The return of a channel's next unit is shown per 1,000 of the currency: the
expected conversions (or revenue, or profit) another 1,000 spent there over
the period would bring, against what the budget's last 1,000 brings where it
was spent (the budget's shadow price, :attr:`optimizer.plan.Plan.shadow_price`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from api.web import i18n
from optimizer.headline import summary
from optimizer.narrative import Beyond, Binding, Story, Unspent, plan_story
from optimizer.requests import PERIOD_WEEKS

Format = Callable[[Any], str]
#: Returns of the next unit are shown per this much money.
PER = 1000.0


@dataclass(frozen=True)
class PlanView:
    """What the plan page shows (module docstring)."""

    story: Story
    sentence: str
    period_text: str
    period_noun: str
    weeks: float
    today: str
    channels: list[dict[str, Any]]
    binding: list[str]
    unspent: str | None
    beyond: list[str]
    kpi: str
    budget_label: str
    measure: str


def horizon_words(story: Story) -> str:
    """``a month`` (or week, quarter), else ``over 6 weeks``."""
    names = {"week": i18n.gettext("a week"), "month": i18n.gettext("a month"),
             "quarter": i18n.gettext("a quarter")}
    if story.period in PERIOD_WEEKS:
        return names[str(story.period)]
    return i18n.gettext("over {weeks} weeks", weeks=i18n.number(story.horizon_weeks))


def budget_label(period: str | None, weeks: float) -> str:
    """``A month's budget`` (or week's, quarter's), else ``Budget over 6 weeks``."""
    if period == "week":
        return i18n.gettext("A week's budget")
    if period == "month":
        return i18n.gettext("A month's budget")
    if period == "quarter":
        return i18n.gettext("A quarter's budget")
    return i18n.gettext("Budget over {weeks} weeks", weeks=i18n.number(weeks))


def horizon_noun(period: str | None, weeks: float) -> str:
    """The horizon as a noun: ``a month`` (or week, quarter), else ``6 weeks``."""
    if period in PERIOD_WEEKS:
        return {"week": i18n.gettext("a week"), "month": i18n.gettext("a month"),
                "quarter": i18n.gettext("a quarter")}[str(period)]
    return i18n.gettext("{weeks} weeks", weeks=i18n.number(weeks))


def returns(value: float | None, measure: str, formats: Mapping[str, Format]) -> str:
    """What :data:`PER` more money returns in ``measure`` (``conversions``, ``revenue``,
    ``profit``)."""
    if value is None:
        return i18n.DASH
    if measure == "revenue":
        return i18n.gettext("{amount} of revenue", amount=formats["money"](value * PER))
    if measure == "profit":
        return i18n.gettext("{amount} of profit", amount=formats["money"](value * PER))
    return i18n.gettext("{count} conversions", count=i18n.number(value * PER, 1))


def _why(b: Binding, period: str, formats: Mapping[str, Format]) -> str:
    """Where a channel's limit came from, in words."""
    amount = formats["money"](b.amount)
    if b.source == "bound":
        return i18n.gettext("the {limit} you set, {amount} {period}",
                            limit=i18n.gettext("maximum") if b.limit == "maximum"
                            else i18n.gettext("minimum"), amount=amount, period=period)
    if b.source == "max_change":
        return i18n.gettext("today's spend {sign} the largest change you allowed ({change}), "
                            "{amount} {period}", sign="+" if b.limit == "maximum" else "−",
                            change=formats["percent"](b.setting), amount=amount, period=period)
    if b.source == "history_cap":
        return i18n.gettext("{multiple} times its largest weekly spend in the data, {amount} "
                            "{period}: beyond it the model cannot vouch for the response",
                            multiple=i18n.number(b.setting, 1), amount=amount, period=period)
    return i18n.gettext("{amount} {period}", amount=amount, period=period)


def _pressure(b: Binding, measure: str, formats: Mapping[str, Format]) -> str:
    """Why the plan sits on a channel's limit: its next unit against the budget's last."""
    if b.marginal is None or b.budget_return is None:
        return ""
    per, mine = formats["money"](PER), returns(b.marginal, measure, formats)
    theirs = returns(b.budget_return, measure, formats)
    if b.limit == "maximum":
        return i18n.gettext("Another {per} there would bring {mine}, more than the {theirs} "
                            "the budget's last {per} brings, so it would take more.",
                            per=per, mine=mine, theirs=theirs)
    return i18n.gettext("Its {which} {per} would bring {mine}, less than the {theirs} the "
                        "budget's last {per} brings, so it would take less.",
                        which=i18n.gettext("first") if b.limit == "nothing"
                        else i18n.gettext("next"), per=per, mine=mine, theirs=theirs)


def binding_words(b: Binding, story: Story, measure: str,
                  formats: Mapping[str, Format]) -> str:
    """One binding limit in a sentence or two."""
    period = horizon_words(story)
    money = formats["money"]
    if b.limit == "budget":
        text = i18n.gettext("The budget of {amount} is spent in full, as you asked.",
                            amount=money(b.amount)) if b.source == "budget_equal" else \
            i18n.gettext("The budget cap of {amount} is reached.", amount=money(b.amount))
        if b.budget_return is None:
            return text
        return text + " " + i18n.gettext("Another {per} would bring about {value}.",
                                         per=money(PER),
                                         value=returns(b.budget_return, measure, formats))
    if b.limit == "target":
        kpi = i18n.gettext("revenue") if story.kpi_name == "revenue" else \
            i18n.gettext("conversions")
        return i18n.gettext("The target of {amount} {kpi} is reached at the least spend.",
                            amount=i18n.number(b.amount), kpi=kpi)
    if b.limit == "romi_floor":
        return i18n.gettext("The ROMI floor of {floor} binds: spending more would take ROMI "
                            "below it.", floor=formats["percent"](b.setting))
    if b.limit == "locked":
        return i18n.gettext("{channel} is locked at today's spend, {amount} {period}.",
                            channel=b.channel, amount=money(b.amount), period=period)
    if b.limit == "fixed":
        return i18n.gettext("{channel} is held at {amount} {period}, where its minimum and "
                            "maximum meet.", channel=b.channel, amount=money(b.amount),
                            period=period)
    if b.limit == "nothing":
        head = i18n.gettext("{channel} gets nothing.", channel=b.channel)
    elif b.limit == "maximum":
        head = i18n.gettext("{channel} is at its maximum: {why}.", channel=b.channel,
                            why=_why(b, period, formats))
    else:
        head = i18n.gettext("{channel} is at its minimum: {why}.", channel=b.channel,
                            why=_why(b, period, formats))
    pressure = _pressure(b, measure, formats)
    return f"{head} {pressure}" if pressure else head


def unspent_words(unspent: Unspent, money: Format) -> str:
    """Money left unspent, and why."""
    amount = money(unspent.amount)
    reasons = {
        "all_at_maximum": i18n.gettext("{amount} of the budget is left unspent: every channel "
                                       "is at its maximum. Raise the maximums to spend it.",
                                       amount=amount),
        "unprofitable": i18n.gettext("{amount} of the budget is left unspent: beyond this "
                                     "plan the next unit of every channel returns less than it "
                                     "costs, so spending it would lower profit.", amount=amount),
        "target_reached": i18n.gettext("{amount} of the budget is left unspent: the target is "
                                       "reached without it.", amount=amount),
        "romi_floor": i18n.gettext("{amount} of the budget is left unspent: spending it would "
                                   "take ROMI below the floor.", amount=amount),
    }
    return reasons.get(unspent.reason, i18n.gettext(
        "{amount} of the budget is left unspent: the plan does better without it.",
        amount=amount))


def beyond_words(b: Beyond, money: Format) -> str:
    """A channel moved beyond the spend its data has seen."""
    return i18n.gettext("{channel}: {weekly} a week, above the most its data has seen in a week "
                        "({seen}). The response there is the curve extrapolated: test the "
                        "increase before relying on it.", channel=b.channel,
                        weekly=money(b.weekly), seen=money(b.seen))


def _channel_rows(plan: Mapping[str, Any], story: Story) -> list[dict[str, Any]]:
    weeks = story.horizon_weeks
    limits = {b.channel: b.limit for b in story.binding if b.channel is not None}
    beyond = {b.channel for b in story.beyond}
    flags = {"maximum": i18n.gettext("at its maximum"), "minimum": i18n.gettext("at its minimum"),
             "locked": i18n.gettext("locked"), "fixed": i18n.gettext("held"),
             "nothing": i18n.gettext("gets nothing")}
    rows = []
    for c in plan["channels"]:
        name = str(c["channel"])
        high = c.get("max_weekly")
        rows.append({"channel": name, "today": c["current_spend"], "proposed": c["spend"],
                     "change": c["change"], "change_pct": c.get("change_pct"), "kpi": c["kpi"],
                     "romi": c["romi"], "low": float(c.get("min_weekly") or 0.0) * weeks,
                     "high": None if high is None else float(high) * weeks,
                     "flag": flags.get(limits.get(name, ""), ""), "beyond": name in beyond})
    return rows


def plan_view(plan: Mapping[str, Any], parameters: Mapping[str, Any],
              history: Mapping[str, float] | None, formats: Mapping[str, Format],
              current_weeks: int) -> PlanView:
    """What the page of a plan shows (module docstring)."""
    story = plan_story(plan, history)
    measure = story.gain.measure if story.gain is not None else story.kpi_name
    period, noun = horizon_words(story), horizon_noun(story.period, story.horizon_weeks)
    today = i18n.gettext("Today is the weekly spend given with the plan, counted for {period}.",
                         period=noun) if parameters.get("current") else \
        i18n.gettext("Today is the model's mean weekly spend over the last {weeks} weeks of its "
                     "data, counted for {period}.", weeks=current_weeks, period=noun)
    kpi = i18n.gettext("revenue") if story.kpi_name == "revenue" else \
        i18n.gettext("conversions")
    return PlanView(
        story, summary(story, translate=i18n.gettext, money=formats["money"],
                       number=formats["number"], percent=formats["percent"]),
        period, noun, story.horizon_weeks, today, _channel_rows(plan, story),
        [binding_words(b, story, measure, formats) for b in story.binding],
        None if story.unspent is None else unspent_words(story.unspent, formats["money"]),
        [beyond_words(b, formats["money"]) for b in story.beyond], kpi,
        budget_label(story.period, story.horizon_weeks),
        {"profit": i18n.gettext("profit"), "revenue": i18n.gettext("revenue")}.get(measure, kpi))

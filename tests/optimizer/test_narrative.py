"""The plan in words: moves, gains, binding limits, unspent money, spend beyond the data,
and the headline sentence.

Most cases are a plan's JSON written by hand over a quarter (13 weeks), so every
fact has a value worked out here; the last ones read plans the allocator made.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from optimizer.allocator import BudgetAllocator
from optimizer.forecast import compare, forecast
from optimizer.headline import listing, summary
from optimizer.narrative import Beyond, Binding, Unspent, forecast_story, plan_story
from optimizer.requests import PlanRequest
from tests.optimizer.conftest import random_draws

WEEKS = 13


def channel(name: str, today: float, weekly: float, low: float, high: float | None,
            sources: tuple[str, str], marginal: float) -> dict[str, Any]:
    """One channel of a plan's JSON: weekly amounts, horizon spend, limits and returns."""
    return {"channel": name, "current_spend": today * WEEKS, "spend": weekly * WEEKS,
            "weekly_spend": weekly, "min_weekly": low, "max_weekly": high,
            "change": (weekly - today) * WEEKS, "marginal_kpi": {"mean": marginal},
            "marginal_romi": {"mean": 30 * marginal - 1}, "sources": sources}


def hand_plan() -> dict[str, Any]:
    """A quarter's plan: feeds cut to its minimum, email raised to +50%, search locked, sms
    given nothing, video free; 7,150 spent of a budget of 7,150."""
    rows = [channel("feeds", 100, 50, 50, None, ("its bound", "no cap"), 0.01),
            channel("email", 100, 150, 0, 150, ("no minimum", "current 100 + 50%"), 0.05),
            channel("search", 200, 200, 200, 200, ("locked at current", "locked at current"),
                    0.03),
            channel("sms", 0, 0, 0, 30, ("no minimum", "1.5 x its largest weekly spend 20"),
                    0.001),
            channel("video", 100, 150, 0, None, ("no minimum", "no cap"), 0.02)]
    sources = {r["channel"]: dict(zip(("min", "max"), r.pop("sources"), strict=True))
               for r in rows}
    return {"objective": "conversions", "kpi_name": "conversions", "horizon_weeks": WEEKS,
            "budget": {"amount": 7150.0, "period": "quarter", "horizon_weeks": WEEKS,
                       "constraint": "equal"},
            "channels": rows, "shadow_price": {"value": 0.02},
            "total": {"spend": 7150.0, "kpi_gain": {"mean": 12.3, "p05": 8.2, "p95": 16.4},
                      "romi": {"mean": 1.0}},
            "prob_beats_current": 0.97,
            "constraints": {"max_change": 0.5, "max_spend_multiple": 1.5, "romi_floor": None,
                            "target": None, "limit_sources": sources}}


def plain(value: Any) -> str:
    """A number with thousands separators and no decimals."""
    return f"{value:,.0f}"


def test_moves_gain_and_the_summary_sentence() -> None:
    """Money cut from feeds moves to email and video, the total grows by 650, and the
    sentence says it with the KPI gain of the quarter and its probability."""
    story = plan_story(hand_plan())
    assert story.period == "quarter" and story.horizon_weeks == WEEKS
    assert story.current_total == 6500 and story.proposed_total == 7150
    assert story.moved == 650 and story.added == 650
    assert story.sources == ("feeds",) and story.destinations == ("email", "video")
    assert story.action == "move_add"
    assert summary(story, money=plain, number=plain, percent=lambda p: f"{100 * p:.0f}%") == (
        "Move 650 from feeds to email and video, and spend 650 more in all: +12 conversions a "
        "quarter (8–16), 97% likely to beat today's allocation.")


def test_binding_limits_name_their_source_and_their_pressure() -> None:
    """Each limit the plan sits on is found with where it came from and the channel's next
    unit against the budget's shadow price; video, inside its limits, is not."""
    story = plan_story(hand_plan())
    assert story.binding == (
        Binding("feeds", "minimum", "bound", 50 * WEEKS, None, 0.01, 0.02),
        Binding("email", "maximum", "max_change", 150 * WEEKS, 0.5, 0.05, 0.02),
        Binding("search", "locked", "locked", 200 * WEEKS, None, 0.03, 0.02),
        Binding("sms", "nothing", "no_minimum", 0.0, None, 0.001, 0.02),
        Binding(None, "budget", "budget_equal", 7150.0, budget_return=0.02))
    assert story.unspent is None


def test_unspent_money_and_its_reason() -> None:
    """A profit plan under a cap leaves the rest unspent because returns fall below cost;
    with every channel at its maximum, that is the reason; its gain is in profit."""
    plan = hand_plan()
    plan |= {"objective": "profit", "prob_beats": {"kpi": 0.9, "revenue": 0.8, "profit": 0.7},
             "shadow_price": {"value": 0.0}}
    plan["budget"] |= {"amount": 10_000.0, "constraint": "cap"}
    plan["total"]["profit_gain"] = {"mean": 300.0, "p05": 100.0, "p95": 500.0}
    story = plan_story(plan)
    assert story.unspent == Unspent(2850.0, "unprofitable")
    assert story.gain is not None and (story.gain.measure, story.gain.mean,
                                       story.gain.probability) == ("profit", 300.0, 0.7)
    assert not any(b.limit == "budget" for b in story.binding)
    capped = copy.deepcopy(plan)
    for entry in capped["channels"]:
        entry["max_weekly"] = entry["weekly_spend"]
    assert plan_story(capped).unspent == Unspent(2850.0, "all_at_maximum")
    old = copy.deepcopy(plan)
    del old["prob_beats"], old["total"]["profit_gain"]
    assert plan_story(old).gain.measure == "conversions"  # a plan saved before profit gains


def test_spend_beyond_the_data_is_flagged() -> None:
    """Email at 150 a week is above the 120 its data has seen; video at 150 is within 200."""
    story = plan_story(hand_plan(), {"email": 120.0, "video": 200.0, "feeds": 100.0})
    assert story.beyond == (Beyond("email", 150.0, 120.0),)
    assert plan_story(hand_plan()).beyond == ()


def test_lists_and_translation() -> None:
    """Long lists name three channels and count the rest; every word goes through translate."""
    assert listing(["a"]) == "a" and listing(["a", "b"]) == "a and b"
    assert listing(["a", "b", "c"]) == "a, b and c"
    assert listing(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    seen: list[str] = []

    def translate(message: str, /, **fields: Any) -> str:
        seen.append(message)
        return message.upper().format(**{k.upper(): v for k, v in fields.items()})

    text = summary(plan_story(hand_plan()), money=plain, number=plain, percent=str,
                   translate=translate)
    assert text.startswith("MOVE 650 FROM feeds TO email AND video") and "A QUARTER" in text
    assert "{action}: {gain} {measure} {period} ({low}–{high}), {probability} likely to beat " \
           "today's allocation." in seen


def test_an_engine_plan_in_words_matches_its_draws() -> None:
    """For a plan the allocator made, the gain read from the JSON is the one computed on the
    posterior draws, and the cap that binds is the maximum set."""
    draws = random_draws(40, 4, seed=5, value=20.0)
    first = draws.channels[0]
    request = PlanRequest.build(budget=1.2 * 13 * float(draws.current.sum()), period="quarter",
                                objective="revenue",
                                bounds={first: {"max": 0.5 * float(draws.current[0])}})
    plan = BudgetAllocator.for_request(draws, request).plan(request)
    from_json = plan_story(plan.to_dict())
    from_draws = plan_story(plan.to_dict(), comparison=plan.comparison)
    gain = plan.comparison.revenue_gain
    assert from_json.gain.measure == from_draws.gain.measure == "revenue"
    assert from_json.gain.mean == pytest.approx(float(gain.mean()), rel=1e-12)
    assert from_draws.gain.low == pytest.approx(float(np.percentile(gain, 5)), rel=1e-12)
    assert from_json.gain.probability == from_draws.gain.probability == \
        pytest.approx(float(np.mean(gain > 0)))
    capped = next(b for b in from_json.binding if b.channel == first)
    assert (capped.limit, capped.source) == ("maximum", "bound")
    assert capped.amount == pytest.approx(0.5 * 13 * float(draws.current[0]))
    assert capped.marginal > capped.budget_return == pytest.approx(plan.shadow_price)


def test_a_forecast_in_words() -> None:
    """A forecast moves from today's spend to its allocation with the comparison's gain."""
    draws = random_draws(40, 3, seed=2)
    weekly = np.asarray(draws.current) * np.array([0.5, 1.0, 1.5])
    comparison = compare(draws, "current", weekly, horizon_weeks=4).to_dict()
    body = forecast(draws, weekly, horizon_weeks=4).to_dict()
    story = forecast_story(body, comparison)
    assert story.sources == (draws.channels[0],) and story.destinations == (draws.channels[2],)
    assert story.moved == pytest.approx(0.5 * 4 * float(draws.current[0]))
    assert story.gain.mean == comparison["difference"]["kpi"]["mean"]
    assert summary(story, money=plain, number=plain, percent=str).count("over 4 weeks") == 1
    alone = forecast_story(body, None)
    assert alone.gain is None and alone.action == "keep"

"""The scenario comparison and the budget frontier pages, checked against the stored results
and against direct computations over the model's draws."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from api.fits import fitted
from api.plans import create
from api.tables import Plan, ResponseFit, Workspace
from optimizer.allocator import BudgetAllocator
from optimizer.posterior import ResponseDraws
from optimizer.requests import ForecastRequest, PlanRequest
from tests.api.test_pages import HOSTILE, MATHTEXT
from tests.api.web.conftest import Browser, add_fitted_model, text_of, upload_fixtures

pytestmark = pytest.mark.filterwarnings("ignore:no font for some channel names")
MONTH = 52 / 12


def services(app: Any) -> Any:
    """The app's services."""
    return app.extensions["spendwise"]


def draws_of(app: Any, model_id: str) -> ResponseDraws:
    """The posterior draws of a stored model, as the service loads them."""
    with services(app).sessions() as session:
        return fitted(services(app).store, session.get(ResponseFit, model_id)).draws


def add(app: Any, model_id: str, request: PlanRequest | ForecastRequest) -> str:
    """A plan or forecast made by the service function the JSON API calls; its id."""
    with services(app).sessions.begin() as session:
        return str(create(session, services(app).store, app.config["WORKSPACE_ID"], "fixture",
                          model_id, request).id)


def stored(app: Any, plan_id: str) -> dict[str, Any]:
    """The stored JSON result of a plan or forecast."""
    with services(app).sessions() as session:
        result: dict[str, Any] = session.get(Plan, plan_id).result
        return result


@pytest.fixture
def world(web_app: Any) -> dict[str, Any]:
    """A fitted model, two plans (four weeks, and a month) and two forecasts, one of them
    stored without its comparison with the current allocation."""
    model = add_fitted_model(web_app, upload_fixtures(web_app, ("spend", "outcomes")))
    draws = draws_of(web_app, model)
    weekly = float(draws.current.sum())
    tilted = {c: float(x) for c, x in zip(draws.channels, draws.current *
                                           np.linspace(0.7, 1.3, draws.n_channels), strict=True)}
    return {
        "model": model, "draws": draws,
        "four_weeks": add(web_app, model, PlanRequest.build(budget=0.9 * 4 * weekly)),
        "month": add(web_app, model, PlanRequest.build(budget=1.1 * MONTH * weekly,
                                                       period="month")),
        "bare": add(web_app, model, ForecastRequest.build(allocation=tilted,
                                                          compare_with_current=False)),
        "compared": add(web_app, model, ForecastRequest.build(allocation=tilted, period="month")),
    }


def table_cells(html: str, table_id: str) -> dict[str, list[str]]:
    """``row heading -> text of each cell`` of a table of the page."""
    table = re.search(rf'<table id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    rows = {}
    for row in re.findall(r"<tr.*?</tr>", table.group(), re.S):
        heading = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)
        if heading:
            rows[text_of(heading.group(1))] = [text_of(c) for c in
                                               re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return rows


def totals(draws: ResponseDraws, weekly: np.ndarray, weeks: float) -> tuple[Any, Any]:
    """``(KPI, revenue)`` per draw of a steady weekly spend over ``weeks`` weeks, written out:
    ``weeks * sum_c beta (1 - exp(-x / lam))``, revenue with each channel's value."""
    assert draws.curve_name == "exponential"
    kpi = weeks * draws.beta * (1 - np.exp(-weekly / draws.lam))
    value = np.broadcast_to(draws.value_per_kpi, draws.beta.shape)
    return kpi.sum(axis=1), (kpi * value).sum(axis=1)


def chances(draws: ResponseDraws, result: dict[str, Any], weeks: float) -> dict[str, float]:
    """The share of draws in which an allocation's KPI and profit beat the current one's."""
    body = result.get("forecast", result)
    spend = {c["channel"]: c["weekly_spend"] for c in body["channels"]}
    weekly = np.array([spend.get(c, 0.0) for c in draws.channels])
    kpi, revenue = totals(draws, weekly, weeks)
    kpi_now, revenue_now = totals(draws, draws.current, weeks)
    extra = weeks * (weekly.sum() - draws.current.sum())
    return {"kpi": float(np.mean(kpi > kpi_now)),
            "profit": float(np.mean(revenue - revenue_now - extra > 0))}


def usd(value: float) -> str:
    """An amount as the pages show US dollars in English."""
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"


# -- scenarios ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "buyer", "auditor", "finance"])
def test_every_role_that_reads_plans_opens_the_scenarios(world: dict[str, Any],
                                                         browser: Browser, role: str) -> None:
    """Each role with ``plan.read`` sees the form listing the workspace's four results."""
    page = browser.sign_in(role).page("/scenarios")
    for key in ("four_weeks", "month", "bare", "compared"):
        assert f'value="{world[key]}"' in page
    assert "Choose two to four plans or forecasts" in text_of(page)


def test_the_table_shows_the_stored_numbers(web_app: Any, world: dict[str, Any],
                                            browser: Browser) -> None:
    """Spend, KPI, revenue, ROMI, profit and current are those of the stored JSON, and each
    chance of beating current is the stored one or a direct count over the draws."""
    ids = [world["four_weeks"], world["month"], world["bare"]]
    page = browser.sign_in("finance").page("/scenarios?ids=" + ",".join(ids))
    cells = table_cells(page, "scenarios")
    draws = world["draws"]
    for column, plan_id in enumerate(ids):
        result = stored(web_app, plan_id)
        body = result.get("forecast", result)
        total, weeks = body["total"], body["horizon_weeks"]
        spend, kpi, revenue = total["spend"], total["kpi"], total["revenue"]
        assert cells["Spend"][column] == usd(spend)
        assert cells["Expected KPI"][column] == \
            f"{kpi['mean']:,.0f} {kpi['p05']:,.0f}–{kpi['p95']:,.0f} conversions"
        assert cells["Revenue"][column] == \
            f"{usd(revenue['mean'])} {usd(revenue['p05'])}–{usd(revenue['p95'])}"
        assert cells["Profit (revenue less spend)"][column] == \
            f"{usd(revenue['mean'] - spend)} {usd(revenue['p05'] - spend)}–" \
            f"{usd(revenue['p95'] - spend)}"
        assert cells["ROMI (revenue less spend, per unit spent)"][column].split()[0] == \
            f"{100 * total['romi']['mean']:.1f}%"
        direct = chances(draws, result, weeks)
        if "prob_beats_current" in result:
            assert result["prob_beats_current"] == pytest.approx(direct["kpi"], abs=1e-12)
        assert cells["Chance of beating current on KPI"][column] == f"{100 * direct['kpi']:.0f}%"
        assert cells["Chance of beating current on profit"][column] == \
            f"{100 * direct['profit']:.0f}%"
        assert cells["Current spend over the same period"][column] == \
            usd(weeks * float(draws.current.sum()))
    assert cells["Period"] == ["4 weeks", "4.33 weeks", "4 weeks"]
    assert "the model's current weekly spend per channel" in text_of(page)
    assert "different response models" not in page


def test_the_csv_holds_the_same_numbers(web_app: Any, world: dict[str, Any],
                                        browser: Browser) -> None:
    """The download has one row per scenario with the stored totals in full precision and the
    chances counted over the draws."""
    ids = [world["month"], world["compared"]]
    response = browser.sign_in("finance").get("/scenarios?format=csv&ids=" + ",".join(ids))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = pd.read_csv(io.StringIO(response.get_data(as_text=True)))
    assert list(table["id"]) == ids
    for i, plan_id in enumerate(ids):
        result = stored(web_app, plan_id)
        body = result.get("forecast", result)
        assert table["spend"][i] == body["total"]["spend"]
        assert table["kpi_p95"][i] == body["total"]["kpi"]["p95"]
        direct = chances(world["draws"], result, body["horizon_weeks"])
        assert table["prob_beats_current_kpi"][i] == pytest.approx(direct["kpi"], abs=1e-12)
        assert table["prob_beats_current_profit"][i] == pytest.approx(direct["profit"],
                                                                     abs=1e-12)
    compared = stored(web_app, world["compared"])["against_current"]
    assert table["prob_beats_current_profit"][1] == \
        compared["prob_proposed_beats_current"]["profit"]


@pytest.mark.parametrize("count", [1, 5])
def test_one_or_five_scenarios_are_refused_beside_the_field(web_app: Any, world: dict[str, Any],
                                                           browser: Browser, count: int) -> None:
    """One id, or five, shows the form again (422) with the message beside the checkboxes
    and the chosen ones still ticked."""
    model = world["model"]
    extra = add(web_app, model, PlanRequest.build(budget=150_000.0))
    ids = [world["four_weeks"], world["month"], world["bare"], world["compared"], extra][:count]
    page = browser.sign_in("buyer").page("/scenarios?" + "&".join(f"ids={i}" for i in ids),
                                         status=422)
    error = re.search(r'<p class="field-error" id="ids-error"[^>]*>(.*?)</p>', page, re.S)
    assert error and text_of(error.group(1)) == \
        f"Choose from two to four plans or forecasts; you chose {count}."
    assert 'aria-describedby="ids-error"' in page
    assert all(re.search(rf'value="{i}" id="pick-{i}" checked', page) for i in ids)


def test_a_plan_of_another_workspace_is_not_found(web_app: Any, world: dict[str, Any],
                                                  browser: Browser) -> None:
    """Another workspace's plan is neither offered nor shown: asking for it is a 404."""
    result = stored(web_app, world["four_weeks"])
    with services(web_app).sessions.begin() as session:
        other = Workspace(name="rival")
        session.add(other)
        session.flush()
        row = Plan(workspace_id=other.id, kind="plan", parameters={}, state="succeeded",
                   result=result, fingerprint="f" * 64,
                   version="0.1.0", created_by="fixture")
        session.add(row)
        session.flush()
        foreign = row.id
    browser.sign_in("finance")
    assert foreign not in browser.page("/scenarios")
    page = browser.page(f"/scenarios?ids={world['four_weeks']},{foreign}", status=404)
    assert f"No plan or forecast {foreign} in this workspace." in text_of(page)


def test_plans_of_two_models_are_flagged_and_chinese_is_shown(web_app: Any,
                                                              world: dict[str, Any],
                                                              browser: Browser) -> None:
    """Plans of different models sit side by side under a notice; in Chinese the page says
    what current means in Chinese."""
    second = add_fitted_model(web_app, upload_fixtures(web_app, ("spend", "outcomes")))
    other = add(web_app, second, PlanRequest.build(budget=120_000.0))
    url = f"/scenarios?ids={world['four_weeks']},{other}"
    assert "different response models" in text_of(browser.sign_in("finance").page(url))
    chinese = text_of(browser.page(url, headers={"Accept-Language": "zh-CN"}))
    assert "这些情景来自不同的响应模型" in chinese
    assert "“当前”指模型中各渠道当前的每周花费" in chinese
    assert "利润胜过当前的概率" in chinese


# -- the budget frontier ------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("buyer", 200), ("finance", 200),
                                              ("auditor", 403)])
def test_the_frontier_follows_the_role_table(world: dict[str, Any], browser: Browser,
                                            role: str, status: int) -> None:
    """Roles that read models and plans see the frontier; the auditor (no ``model.read``)
    is refused."""
    page = browser.sign_in(role).page(f"/models/{world['model']}/frontier", status=status)
    if status == 200:
        svg = page[page.index('<svg role="img"'):page.index("</svg>")]
        assert "expected conversions (mean, 90% band)" in svg and "<text" in svg
    else:
        assert "may not read models" in text_of(page)


def test_the_answers_are_the_allocators_plans(web_app: Any, world: dict[str, Any],
                                              browser: Browser) -> None:
    """The next 100,000 a month and a 20% cut, in words, match the allocator's certified plans
    at those budgets (shares of the increment, KPI added and lost with 5-95% intervals)."""
    draws = world["draws"]
    budget = 100_000.0  # where all four channels share the next 100,000
    page = browser.sign_in("finance").page(f"/models/{world['model']}/frontier"
                                           "?period=month&budget=100%2C000")

    def plan(amount: float) -> Any:
        request = PlanRequest.build(budget=amount, period="month")
        return BudgetAllocator.for_request(draws, request).plan(request)

    now, more, less = plan(budget), plan(budget + 100_000), plan(0.8 * budget)
    shares = (more.spend - now.spend) / 100_000
    split = [f"{100 * shares[i]:.0f}% to {draws.channels[i]}" for i in np.argsort(-shares)
             if shares[i] >= 0.005]
    gain = more.forecast.total_kpi - now.forecast.total_kpi
    low, high = np.percentile(gain, [5, 95])
    listed = split[0] if len(split) == 1 else ", ".join(split[:-1]) + " and " + split[-1]
    expected = (f"The next $100,000 a month would go {listed} and add about {gain.mean():,.0f} "
                f"conversions ({low:,.0f}–{high:,.0f}).")
    words = text_of(re.search(r'<p id="next-words">(.*?)</p>', page, re.S).group(1))
    assert words == expected
    lost = now.forecast.total_kpi - less.forecast.total_kpi
    low, high = np.percentile(lost, [5, 95])
    cut = text_of(re.search(r'<p id="cut-words">(.*?)</p>', page, re.S).group(1))
    assert cut.startswith(f"Cutting the budget by 20% would lose about {lost.mean():,.0f} "
                          f"conversions a month ({low:,.0f}–{high:,.0f}), mostly from ")
    rows = table_cells(page, "frontier")
    assert len(split) == 4 and HOSTILE not in page
    assert rows["$100,000"][1].split(" (")[0] == f"{now.forecast.total_kpi.mean():,.0f}"


def test_the_frontier_escapes_channel_names(world: dict[str, Any], browser: Browser) -> None:
    """Channel names with markup and dollar signs appear as text, never as markup."""
    page = browser.sign_in("owner").page(f"/models/{world['model']}/frontier")
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "tv $\\bad$ &amp; co" in page and MATHTEXT not in page


def test_a_refused_frontier_form_keeps_what_was_typed(world: dict[str, Any],
                                                      browser: Browser) -> None:
    """A budget that is not an amount, an unknown period and a cut of 150% are each named
    beside their field (422), with the text typed kept in the field."""
    page = browser.sign_in("finance").page(f"/models/{world['model']}/frontier"
                                           "?budget=lots&period=decade&cut=150", status=422)
    for field, message in (("budget", "Enter an amount such as 1.2M, 1,200,000 or 120万."),
                           ("period", "Choose a week, a month or a quarter."),
                           ("cut", "Enter a percentage between 0 and 100.")):
        found = re.search(rf'id="{field}-error"[^>]*>(.*?)</p>', page, re.S)
        assert found and text_of(found.group(1)) == message
    assert 'name="budget" value="lots"' in page and 'value="150"' in page
    assert '<svg role="img"' not in page
    zero = browser.page(f"/models/{world['model']}/frontier?budget=0", status=422)
    found = re.search(r'id="budget-error"[^>]*>(.*?)</p>', zero, re.S)
    assert found and "greater than 0" in text_of(found.group(1))


def test_a_quarter_in_chinese_units(world: dict[str, Any], browser: Browser) -> None:
    """``120万`` a quarter is a reference of 1,200,000 over 13 weeks; in Chinese the headings
    and the answers are Chinese."""
    url = f"/models/{world['model']}/frontier?period=quarter&budget=120万"
    rows = table_cells(browser.sign_in("finance").page(url), "frontier")
    assert "$1,200,000" in rows and "$600,000" in rows and "$2,400,000" in rows
    current = 13 * float(world["draws"].current.sum())
    assert f"{usd(current)} (current)" in rows
    chinese = text_of(browser.page(url, headers={"Accept-Language": "zh-CN"}))
    assert "预算前沿" in chinese and "每季度追加的 US$100,000 将" in chinese
    assert "预算削减 20% 将每季度失去约" in chinese


def test_a_model_of_another_workspace_has_no_frontier(web_app: Any, browser: Browser) -> None:
    """An unknown model id is a 404 page."""
    browser.sign_in("finance").page("/models/rm_0123456789abcdef/frontier", status=404)


def test_above_the_caps_a_cut_loses_nothing(world: dict[str, Any], browser: Browser) -> None:
    """A budget far above what the channels' caps can spend leaves the next amount unspent,
    and a cut that stays above the caps loses nothing."""
    page = browser.sign_in("finance").page(f"/models/{world['model']}/frontier"
                                           "?period=week&budget=10M")
    caps = 1.5 * float(world["draws"].max_weekly_spend.sum())
    assert f"Above {usd(caps)} a week every channel is at its cap" in text_of(page)
    assert text_of(re.search(r'<p id="next-words">(.*?)</p>', page, re.S).group(1)) == \
        "The channels are at their caps: the next $100,000 a week would stay unspent."
    assert text_of(re.search(r'<p id="cut-words">(.*?)</p>', page, re.S).group(1)).startswith(
        "Cutting the budget by 20% would lose nothing")

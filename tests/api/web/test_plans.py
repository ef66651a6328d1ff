"""The plan builder, the plan page and forecasts of a plan, in the browser.

The model is the hand-made posterior of :func:`tests.api.web.conftest.add_fitted_model`
(nothing samples): four channels, two with hostile names, the ``search`` channel
of the media fixture being ``tv $\\bad$ & co``. Its current weekly spend and its
largest week are read from the fixture's data in the test, and every amount
the pages show is computed again here from the plan's JSON.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from api.tables import AuditEvent, Plan
from api.web.plan_form import ChannelRow, plan_request
from optimizer.headline import MESSAGES
from optimizer.requests import PlanRequest
from tests.api.test_pages import HOSTILE, MATHTEXT, MEDIA_CHANNELS, Tables
from tests.api.web.conftest import FIXTURES, Browser, add_fitted_model, text_of, upload_fixtures

pytestmark = pytest.mark.filterwarnings("ignore:no font for some channel names")
#: Weeks in a month, by the definition the pages state: a twelfth of 52 weeks.
MONTH = 52 / 12
SEARCH = MATHTEXT


# -- helpers ----------------------------------------------------------------------------------


def data_by_hand() -> tuple[dict[str, float], dict[str, float]]:
    """Each channel's spend today (mean of the last 4 weeks) and its largest week, from the
    fixture's spend file, as the model's data holds them."""
    spend = pd.read_csv(FIXTURES / "media_spend.csv")
    spend = spend[spend["channel"].isin(list(MEDIA_CHANNELS))]
    spend["channel"] = spend["channel"].map(MEDIA_CHANNELS)
    weekly = spend.pivot_table(index="date", columns="channel", values="spend", aggfunc="sum")
    weekly = weekly.sort_index().fillna(0.0)
    return weekly.tail(4).mean().to_dict(), weekly.max().to_dict()


def fitted(browser: Browser) -> str:
    """A fitted model in the workspace."""
    app = browser.client.application
    return add_fitted_model(app, upload_fixtures(app, ("spend", "outcomes")))


def channel_index(page: str, name: str) -> int:
    """The index of a channel's row in the builder (its ``min_<i>`` field)."""
    row = re.search(r'<th scope="row">' + re.escape(escape(name)) + r'</th>.*?name="min_(\d+)"',
                    page, re.S)
    assert row is not None, name
    return int(row.group(1))


def plans_of(browser: Browser) -> list[Plan]:
    """Every plan row of the workspace."""
    with browser.services.sessions() as session:
        return list(session.scalars(select(Plan).order_by(Plan.created_at)))


def made(browser: Browser, response: Any) -> Plan:
    """The plan a builder's POST made, after checking it redirected to its page."""
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    plan_id = response.headers["Location"].rsplit("/", 1)[1]
    with browser.services.sessions() as session:
        row = session.get(Plan, plan_id)
        session.expunge(row)
    return row


def error_of(page: str, field: str) -> str:
    """The text shown beside a field of a refused form."""
    found = re.search(rf'id="{field}-error"[^>]*>(.*?)</p>', page, re.S)
    assert found is not None, f"no message beside {field}"
    return text_of(found.group(1))


def money_text(value: float) -> str:
    """An amount as the English pages show it in dollars."""
    return f"-${-value:,.0f}" if value < -0.5 else f"${value:,.0f}"


# -- the builder ------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("buyer", 200), ("auditor", 403),
                                              ("finance", 403)])
def test_the_builder_is_for_roles_that_make_plans(browser: Browser, role: str,
                                                  status: int) -> None:
    """Owners and buyers get the builder with every channel; auditors and finance get 403."""
    model_id = fitted(browser)
    page = browser.sign_in(role).page(f"/plans/new?model={model_id}", status=status)
    if status == 403:
        assert "Your role does not allow this" in text_of(page)
        return
    today, _ = data_by_hand()
    tables = Tables(page)
    rows = tables.rows("builder-channels")
    for channel, weekly in today.items():
        assert rows[channel][0] == f"${weekly * MONTH:,.0f}"
    assert f"Today's allocation spends ${sum(today.values()) * MONTH:,.0f} a month" in \
        text_of(page)
    assert '<svg role="img" aria-label="Response curves by channel"' in page
    assert 'for="budget"' in page and 'for="min_0"' in page and 'for="lock_3"' in page


def test_the_builder_turns_a_buyers_words_into_the_request(web_app: Any) -> None:
    """"1.2M per month, search at least 200k, no channel changes more than 30%" is a month's
    budget of 1,200,000 over 52/12 weeks, a weekly minimum of 200,000 / (52/12) and 0.3."""
    channels = [ChannelRow(0, "feeds", 30_000.0, 60_000.0), ChannelRow(1, SEARCH, 70_000.0,
                                                                         90_000.0)]
    with web_app.test_request_context():
        request, errors = plan_request({"period": "month", "budget": "1.2M", "min_1": "200k",
                                        "max_change": "30%", "objective": "conversions"},
                                       channels, "USD")
    assert not errors.by_field and request is not None
    expected = PlanRequest.build(budget=1_200_000.0, period="month", max_change=0.3,
                                 bounds={SEARCH: {"min": 200_000 * 12 / 52, "max": None}})
    assert request == expected
    assert request.horizon_weeks == pytest.approx(4 + 1 / 3, rel=1e-15)
    assert request.bounds is not None and \
        request.bounds[SEARCH].min == pytest.approx(46_153.846153846, rel=1e-12)
    for written in ("1,200,000", "120万", "$1.2M", "１２０万", "1.2 million"):
        with web_app.test_request_context():
            again, _ = plan_request({"period": "month", "budget": written, "min_1": "200,000",
                                     "max_change": "30"}, channels, "USD")
        assert again == expected, written
    with web_app.test_request_context():
        quarter, _ = plan_request({"period": "quarter", "budget": "3.6M", "max_1": "1.3M",
                                   "lock_0": "1"}, channels, "USD")
    assert quarter is not None and quarter.horizon_weeks == 13 and quarter.locked == ("feeds",)
    assert quarter.bounds is not None and quarter.bounds[SEARCH].max == pytest.approx(100_000.0)


def test_a_plan_is_made_and_its_page_says_what_it_does(browser: Browser) -> None:
    """A month's plan is made from the form, audited, and its page's summary, table and
    limits are the plan's JSON in money per month."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    page = browser.page(f"/plans/new?model={model_id}")
    search = channel_index(page, SEARCH)
    row = made(browser, browser.post("/plans/new", {
        "model": model_id, "period": "month", "budget": "450k", "objective": "conversions",
        f"min_{search}": "200k", "max_change": "30%"}))
    assert row.kind == "plan" and row.state == "succeeded"
    assert row.parameters["budget"] == 450_000.0 and row.parameters["period"] == "month"
    assert row.parameters["max_change"] == 0.3
    assert row.parameters["bounds"][SEARCH]["min"] == pytest.approx(200_000 / MONTH)
    result = row.result
    assert result["budget"]["period"] == "month" and result["horizon_weeks"] == \
        pytest.approx(MONTH)
    with browser.services.sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "plan.create")).one()
        assert (event.resource_id, event.fingerprint) == (row.id, row.fingerprint)
        assert event.parameters == {"model": model_id, **row.parameters}

    text = text_of(browser.page(f"/plans/{row.id}"))
    channels = {c["channel"]: c for c in result["channels"]}
    cuts = {n: c["current_spend"] - c["spend"] for n, c in channels.items()
            if c["spend"] < c["current_spend"] - 450}
    raises = {n: c["spend"] - c["current_spend"] for n, c in channels.items()
              if c["spend"] > c["current_spend"] + 450}
    gain = result["total"]["kpi_gain"]
    moved = sum(max(c["current_spend"] - c["spend"], 0.0) for c in channels.values())
    assert cuts and raises, (cuts, raises)
    names = sorted(raises, key=lambda n: -raises[n])
    destinations = names[0] if len(names) == 1 else \
        ", ".join(names[:-1]) + " and " + names[-1]
    extra = sum(c["spend"] for c in channels.values()) - \
        sum(c["current_spend"] for c in channels.values())
    sentence = (f"Move ${moved:,.0f} from {' and '.join(sorted(cuts, key=lambda n: -cuts[n]))} "
                f"to {destinations}, and spend ${extra:,.0f} more in all: "
                f"+{gain['mean']:,.0f} conversions a month ({gain['p05']:,.0f}–"
                f"{gain['p95']:,.0f}), {100 * result['prob_beats_current']:.0f}% likely to "
                "beat today's allocation.")
    assert sentence in text
    table = Tables(browser.page(f"/plans/{row.id}")).rows("plan-channels")
    for name, c in channels.items():
        assert table[name][:2] == [money_text(c["current_spend"]), money_text(c["spend"])]
        low = c["min_weekly"] * MONTH
        high = c["max_weekly"] * MONTH
        assert table[name][5] == f"{money_text(low)} – {money_text(high)}"
    assert "The budget of $450,000 is spent in full, as you asked." in text
    facts = Tables(browser.page(f"/plans/{row.id}")).rows("plan-facts")
    assert facts["A month's budget"] == ["$450,000"]
    assert facts["Chance of beating today in conversions"] == [
        f"{100 * result['prob_beats_current']:.0f}%"]
    assert facts["Gain in conversions against today"] == [
        f"{gain['mean']:,.0f} ({gain['p05']:,.0f}–{gain['p95']:,.0f})"]


def test_refused_forms_show_each_message_beside_its_field(browser: Browser) -> None:
    """Unreadable amounts, a minimum above the budget and a budget the limits cannot spend
    come back (422) with the typed values and the message beside the field; nothing is
    written."""
    model_id = fitted(browser)
    browser.sign_in("owner")
    page = browser.page(f"/plans/new?model={model_id}")
    search = channel_index(page, SEARCH)
    response = browser.post("/plans/new", {
        "model": model_id, "period": "month", "budget": "1,20,000", f"max_{search}": "1.2MK",
        "max_change": "lots"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "budget") == \
        "The thousands separator groups three digits, as in 1,200,000."
    assert error_of(page, f"max_{search}") == "Give one unit (k, M, bn, 万, 亿), not two."
    assert error_of(page, "max_change") == "Enter a percentage, such as 30 or 30%."
    assert 'value="1,20,000"' in page and 'aria-describedby="budget-hint budget-error"' in page

    response = browser.post("/plans/new", {"model": model_id, "period": "month",
                                           "budget": "100k", f"min_{search}": "200k"})
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), f"min_{search}") == \
        "This minimum is above the budget of $100,000."

    display = channel_index(page, "display")
    response = browser.post("/plans/new", {"model": model_id, "period": "month",
                                           "budget": "450k", f"min_{display}": "100k",
                                           f"lock_{display}": "1"})
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), f"min_{display}").startswith(
        "channel display: locked at its current ")

    # The buyer's words: 1.2M a month, search at least 200k, no channel more than 30% off.
    today, _ = data_by_hand()
    ceiling = 1.3 * sum(today.values()) * MONTH
    response = browser.post("/plans/new", {"model": model_id, "period": "month",
                                           "budget": "1.2M", f"min_{search}": "200k",
                                           "max_change": "30"})
    assert response.status_code == 422
    message = error_of(response.get_data(as_text=True), "budget")
    assert message.startswith("channel maximums add up to ")
    shown = float(re.search(r"add up to ([\d,]+)", message).group(1).replace(",", ""))
    assert shown == pytest.approx(ceiling, abs=1.0)
    assert "over the 4.33-week horizon, below the budget of 1.2M" in message
    assert plans_of(browser) == []
    with browser.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "plan.create")) == 0


def test_a_maximum_that_binds_is_reported_with_its_reason(browser: Browser) -> None:
    """A channel capped below what the plan wants is reported at its maximum, the one you
    set, with its next unit's return above the budget's."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    page = browser.page(f"/plans/new?model={model_id}")
    display = channel_index(page, "display")
    row = made(browser, browser.post("/plans/new", {
        "model": model_id, "period": "quarter", "budget": "1.4M", f"max_{display}": "10k"}))
    entry = next(c for c in row.result["channels"] if c["channel"] == "display")
    assert entry["spend"] == pytest.approx(10_000.0, rel=1e-6)
    text = text_of(browser.page(f"/plans/{row.id}"))
    price = row.result["shadow_price"]["value"]
    marginal = entry["marginal_kpi"]["mean"]
    assert marginal > price
    assert (f"display is at its maximum: the maximum you set, $10,000 a quarter. Another "
            f"$1,000 there would bring {1000 * marginal:,.1f} conversions, more than the "
            f"{1000 * price:,.1f} conversions the budget's last $1,000 brings, so it would take "
            "more.") in text
    assert Tables(browser.page(f"/plans/{row.id}")).rows("plan-channels")["display"][6] == \
        "at its maximum"


def test_money_left_unspent_and_spend_beyond_the_data_are_named(browser: Browser) -> None:
    """A profit plan with a budget larger than it can use says how much stays unspent and
    why, and flags the channels it takes above their largest week."""
    model_id = fitted(browser)
    _, largest = data_by_hand()
    browser.sign_in("buyer")
    row = made(browser, browser.post("/plans/new", {
        "model": model_id, "period": "month", "budget": "5M", "objective": "profit"}))
    result = row.result
    left = 5_000_000 - result["total"]["spend"]
    assert left > 1_000_000
    text = text_of(browser.page(f"/plans/{row.id}"))
    assert f"${left:,.0f} of the budget is left unspent" in text
    facts = Tables(browser.page(f"/plans/{row.id}")).rows("plan-facts")
    profit = result["total"]["profit_gain"]
    assert facts["Gain in profit against today"] == [
        f"{money_text(profit['mean'])} ({money_text(profit['p05'])}–{money_text(profit['p95'])})"]
    assert facts["Chance of beating today in profit"] == [
        f"{100 * result['prob_beats']['profit']:.0f}%"]
    assert f"+{money_text(profit['mean'])} profit a month" in text
    over = [c for c in result["channels"]
            if c["weekly_spend"] > largest[c["channel"]] * (1 + 1e-6)]
    assert over  # the profit plan takes the markup channel above its largest week
    for c in over:
        assert (f"{c['channel']}: ${c['weekly_spend']:,.0f} a week, above the most its data has "
                f"seen in a week (${largest[c['channel']]:,.0f})") in text
    flagged = [n for n, cells in Tables(browser.page(f"/plans/{row.id}"))
               .rows("plan-channels").items() if "beyond its data" in cells[-1]]
    assert sorted(flagged) == sorted(c["channel"] for c in over)


def test_finance_opens_a_plan_and_forecasts_it_but_cannot_build_one(browser: Browser) -> None:
    """Finance reads a plan and makes its ROMI forecast (ROMI, revenue and profit with
    intervals against today), and gets 403 from the builder."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    plan = made(browser, browser.post("/plans/new", {"model": model_id, "period": "month",
                                                     "budget": "450k"}))
    browser.sign_in("finance")
    page = browser.page(f"/plans/{plan.id}")
    assert 'action="/forecasts/new"' in page and "/plans/new" not in page
    browser.page("/plans/new", status=403)
    assert browser.post("/plans/new", {"model": model_id, "budget": "1M"}).status_code == 403
    assert "Make the forecast" in browser.page(f"/forecasts/new?plan={plan.id}")
    forecast = made(browser, browser.post("/forecasts/new", {"plan": plan.id,
                                                             "period": "quarter"}))
    assert forecast.kind == "forecast" and forecast.parameters["period"] == "quarter"
    weekly = {c["channel"]: c["weekly_spend"] for c in plan.result["channels"]}
    assert forecast.parameters["allocation"] == pytest.approx(weekly)
    body, against = forecast.result["forecast"], forecast.result["against_current"]
    assert body["horizon_weeks"] == 13 and body["total"]["spend"] == \
        pytest.approx(13 * sum(weekly.values()))
    rows = Tables(browser.page(f"/plans/{forecast.id}")).rows("forecast-totals")
    revenue, spend = body["total"]["revenue"], body["total"]["spend"]
    assert rows["Revenue"][0] == (f"${revenue['mean']:,.0f} (${revenue['p05']:,.0f}–"
                                  f"${revenue['p95']:,.0f})")
    assert rows["Profit (revenue minus spend)"][0] == (
        f"{money_text(revenue['mean'] - spend)} ({money_text(revenue['p05'] - spend)}–"
        f"{money_text(revenue['p95'] - spend)})")
    romi = body["total"]["romi"]
    assert rows["ROMI"][0] == f"{100 * romi['mean']:.0f}% ({100 * romi['p05']:.0f}%–" \
                              f"{100 * romi['p95']:.0f}%)"
    assert rows["Revenue"][2] == f"{100 * against['prob_proposed_beats_current']['revenue']:.0f}%"
    with browser.services.sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "forecast.create")).one()
        assert event.role == "finance" and event.resource_id == forecast.id


def test_hostile_channel_names_are_text(browser: Browser) -> None:
    """Markup and ``$`` signs in channel names are escaped on the builder and the plan page."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    builder = browser.page(f"/plans/new?model={model_id}")
    row = made(browser, browser.post("/plans/new", {"model": model_id, "period": "week",
                                                    "budget": "100k"}))
    for page in (builder, browser.page(f"/plans/{row.id}")):
        assert HOSTILE not in page and escape(HOSTILE) in page
        assert escape(MATHTEXT) in page


def test_the_pages_in_chinese(browser: Browser) -> None:
    """With Accept-Language zh-CN the builder, the summary and the limits are in Chinese."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    zh = {"headers": {"Accept-Language": "zh-CN"}}
    builder = text_of(browser.page(f"/plans/new?model={model_id}", **zh))
    assert "每月预算" in builder and "各渠道的限制（每月）" in builder and "制定方案" in builder
    row = made(browser, browser.post("/plans/new", {"model": model_id, "period": "month",
                                                    "budget": "450k", "max_change": "30"}))
    html = browser.page(f"/plans/{row.id}", **zh)
    text = text_of(html)
    chart_text = " ".join(re.findall(r"<text\b[^>]*>([^<]*)</text>", html))
    assert "每月花费" in chart_text and "当前" in chart_text and "proposed" not in chart_text
    gain = row.result["total"]["kpi_gain"]
    assert (f"每月转化 +{gain['mean']:,.0f}（{gain['p05']:,.0f}–{gain['p95']:,.0f}），有 "
            f"{100 * row.result['prob_beats_current']:.0f}% 的可能优于当前分配。") in text
    assert "哪些限制起作用，为什么" in text and "预算 US$450,000 按您的要求全部花完。" in text
    refused = browser.post("/plans/new", {"model": model_id, "period": "month",
                                          "budget": "-5"}, **zh)
    assert error_of(refused.get_data(as_text=True), "budget") == "金额不能为负数。"


def test_the_summary_sentence_has_its_chinese() -> None:
    """Every message of the summary sentence (optimizer.headline) is in the catalogue,
    with the same fields."""
    from api.web.catalog import CHINESE

    fields = re.compile(r"\{(\w+)\}")
    for message in MESSAGES:
        assert message in CHINESE, message
        assert sorted(fields.findall(message)) == sorted(fields.findall(CHINESE[message]))


def test_plan_pages_are_refused_to_other_workspaces_and_unknown_ids(browser: Browser) -> None:
    """An unknown plan id is a 404 page; the CSV and the self-contained page download."""
    model_id = fitted(browser)
    browser.sign_in("auditor")
    browser.page("/plans/pl_" + "0" * 32, status=404)
    browser.sign_in("buyer")
    row = made(browser, browser.post("/plans/new", {"model": model_id, "period": "month",
                                                    "budget": "450k"}))
    browser.sign_in("auditor")
    assert "Make the forecast" not in browser.page(f"/plans/{row.id}")
    csv = browser.get(f"/plans/{row.id}/plan.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[0].startswith("channel,")
    page = browser.get(f"/plans/{row.id}/page.html")
    assert page.status_code == 200 and "attachment" in page.headers["Content-Disposition"]
    assert "<script" not in page.get_data(as_text=True).replace(escape(HOSTILE), "")


def test_the_json_api_takes_a_period_too(browser: Browser) -> None:
    """``POST /v1/plans`` with ``period: month`` plans 52/12 weeks and says it is a month's
    budget; the browser's plan of the same request has the same fingerprint."""
    from api.access import issue_key

    model_id = fitted(browser)
    with browser.services.sessions.begin() as session:
        _, key = issue_key(session, "buyer", browser.workspace_id, "script")
    response = browser.client.post("/v1/plans", json={"model": model_id, "budget": 450_000.0,
                                                      "period": "month"},
                                   headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.json
    result = response.json["result"]
    assert result["budget"]["period"] == "month"
    assert result["horizon_weeks"] == pytest.approx(MONTH)
    assert response.json["parameters"]["horizon_weeks"] == pytest.approx(MONTH)
    browser.sign_in("buyer")
    row = made(browser, browser.post("/plans/new", {"model": model_id, "period": "month",
                                                    "budget": "450,000"}))
    assert row.fingerprint == response.json["fingerprint"]
    refused = browser.client.post("/v1/plans", json={"model": model_id, "budget": 1.0,
                                                     "period": "month", "per_week": True},
                                  headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 422 and "a per-week plan counts whole weeks" in \
        refused.json["detail"]


def test_a_large_plan_runs_as_a_job_and_its_page_follows_it(browser: Browser,
                                                            monkeypatch: Any) -> None:
    """A plan whose convex program is too large for the request is queued; its page reloads
    itself until the worker has solved it, then shows the plan."""
    from api import plans

    monkeypatch.setattr(plans, "INLINE_PLAN_TERMS", 0)
    model_id = fitted(browser)
    browser.sign_in("buyer")
    row = made(browser, browser.post("/plans/new", {"model": model_id, "period": "month",
                                                    "budget": "450k", "objective": "cvar"}))
    assert row.state == "queued" and row.job_id is not None
    waiting = browser.page(f"/plans/{row.id}")
    assert '<meta http-equiv="refresh"' in waiting and f'data-job="{row.job_id}"' in waiting
    assert "being solved in the background" in text_of(waiting)
    assert browser.services.worker().run_one()
    done = plans_of(browser)[0]
    assert done.state == "succeeded" and done.result["objective"] == "cvar"
    page = browser.page(f"/plans/{row.id}")
    assert 'http-equiv="refresh"' not in page and 'id="plan-summary"' in page


def test_the_builder_without_a_fitted_model_says_what_to_do(browser: Browser) -> None:
    """With no fitted model the builder says a plan needs one (and offers no form)."""
    page = browser.sign_in("buyer").page("/plans/new")
    assert "A plan needs a fitted response model of this workspace." in text_of(page)
    assert 'name="budget"' not in page


def test_the_builder_keeps_the_model_asked_for_however_old(browser: Browser) -> None:
    """A model older than the newest 50 is still the one the builder shows and plans on."""
    from datetime import timedelta

    from api.tables import ResponseFit

    old = fitted(browser)
    app = browser.client.application
    with browser.services.sessions.begin() as session:
        row = session.get(ResponseFit, old)
        assert row is not None
        row.created_at = row.created_at - timedelta(days=365)
        artifact = row.artifact
    for _ in range(51):
        with browser.services.sessions.begin() as session:
            session.add(ResponseFit(workspace_id=app.config["WORKSPACE_ID"], datasets={},
                                    parameters={}, state="succeeded", diagnostics=None,
                                    artifact=artifact, fingerprint="f" * 64, version="0.1.0",
                                    created_by="fixture"))
    browser.sign_in("buyer")
    page = browser.page(f"/plans/new?model={old}&period=month")
    assert f'<input type="hidden" name="model" value="{old}">' in page
    response = browser.post("/plans/new", {"model": old, "period": "month", "budget": "450k"})
    assert response.status_code == 303

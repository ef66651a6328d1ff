"""Whole journeys through the workspace in Chromium, as the people it is for take them.

Each test drives the pages as a person would: it follows links, fills inputs
found by their labels and presses buttons, on the real server started with
the demo (``served``). The journeys follow the order of the issue: a media
buyer, an agency analyst, a finance user, then the refusals (a reused or
expired sign-in link, a form without its CSRF token, pages after sign-out).
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from optimizer.response_model import CURRENT_WEEKS
from tests.browser.conftest import JOB_SECONDS, Served, sign_in_with_key, sign_out, words
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures"
#: Milliseconds a page may take to show the result of a job.
JOB_MS = JOB_SECONDS * 1000

pytestmark = pytest.mark.slow


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (imported late: Playwright may be missing, and then skipped)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def scaled_spend(source: Path, factor: float, target: Path) -> Path:
    """``source``'s spend file with every spend multiplied by ``factor``, written to
    ``target``."""
    with open(source, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    with open(target, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["date", "channel", "spend"])
        writer.writeheader()
        writer.writerows({**r, "spend": f"{float(r['spend']) * factor:.2f}"} for r in rows)
    return target


def monthly_today(spend_file: Path) -> dict[str, Any]:
    """Today's spend a month: each channel's mean over the file's last ``CURRENT_WEEKS``
    weeks (a missing row spends 0), times 52/12 weeks, and its total."""
    with open(spend_file, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    weeks = sorted({r["date"] for r in rows})[-CURRENT_WEEKS:]
    channels = {r["channel"]: 0.0 for r in rows}
    for r in rows:
        if r["date"] in weeks:
            channels[r["channel"]] += float(r["spend"]) / CURRENT_WEEKS * 52 / 12
    return {"channels": channels, "total": sum(channels.values())}


def upload(page: Any, kind: str, path: Path, name: str) -> str:
    """Upload ``path`` with the upload page's form of ``kind``; the new dataset's id."""
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Upload").click()
    form = page.get_by_role("region", name=kind, exact=True)
    form.get_by_label("File (CSV or Parquet)").set_input_files(path)
    form.get_by_label("Name").fill(name)
    form.get_by_role("button", name=f"Upload {kind}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return address(page)[0].rsplit("/", 1)[1]


def start_small_fit(page: Any, spend: str, outcomes: str) -> str:
    """From a dataset's page, start a fit of few draws on ``spend`` and ``outcomes`` and no
    lift tests; the new model's id."""
    page.get_by_role("link", name="Fit a response model of spend to outcomes with this "
                     "data.").click()
    page.get_by_label("Spend (date, channel, spend)").select_option(spend)
    page.get_by_label("Outcomes (date, conversions, revenue)").select_option(outcomes)
    page.get_by_label("Lift tests (optional)").select_option("")
    for label, value in (("Draws per chain", "100"), ("Tuning steps per chain", "100"),
                         ("Chains", "1")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Start the fit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Response model")
    return address(page)[0].rsplit("/", 1)[1]


def make_plan(page: Any, budget: str, minimums: dict[str, str], change: str) -> str:
    """Fill in the plan builder and make the plan; the new plan's id."""
    page.get_by_label("Budget for a month").fill(budget)
    for channel, amount in minimums.items():
        page.get_by_label(f"Minimum for {channel}", exact=True).fill(amount)
    page.get_by_label("Largest change of a channel against today (%)").fill(change)
    unconverged = page.get_by_label("Plan even though the model's sampler did not converge")
    unconverged.check()
    page.get_by_role("button", name="Make the plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Budget plan")
    return address(page)[0].rsplit("/", 1)[1]


def compared_spend(page: Any, ids: list[str]) -> dict[str, str]:
    """Tick ``ids`` on the scenarios page and compare them; the spend shown for each."""
    page.get_by_role("navigation", name="Workspace").get_by_role("link",
                                                                  name="Scenarios").click()
    for plan_id in ids:
        page.get_by_role("checkbox", name=plan_id).check()
    page.get_by_role("button", name="Compare").click()
    side_by_side = page.locator("#scenarios")
    expect(side_by_side).to_be_visible()
    heads = side_by_side.locator("thead th").all_inner_texts()
    assert heads[0] == "Measure" and sorted(heads[1:]) == sorted(ids), heads
    spend_row = side_by_side.locator("tr").filter(
        has=page.get_by_role("rowheader", name="Spend", exact=True))
    return dict(zip(heads[1:], spend_row.locator("td").all_inner_texts(), strict=True))


def amount(text: str) -> float:
    """The number in a cell of money such as ``$1,200,000`` or ``+$20,000 (+2%)``."""
    found = re.search(r"([-+−]?)\$([\d,]+(?:\.\d+)?)", text)
    assert found, text
    sign = -1.0 if found.group(1) in ("-", "−") else 1.0
    return sign * float(found.group(2).replace(",", ""))


def plan_table(page: Any) -> dict[str, dict[str, float]]:
    """``channel -> {"today", "proposed"}`` of the plan page's channel table, and its total."""
    found = {}
    for line in page.locator("#plan-channels tbody tr, #plan-channels tfoot tr").all():
        cells = line.locator("td").all_inner_texts()
        found[line.locator("th").inner_text().strip()] = {"today": amount(cells[0]),
                                                          "proposed": amount(cells[1])}
    return found


def read_paths(path: Path) -> dict[str, Any]:
    """Journeys, conversions, value and channels of a paths file, added up here."""
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return {"journeys": sum(float(r["conversions"]) + float(r["nulls"]) for r in rows),
            "conversions": sum(float(r["conversions"]) for r in rows),
            "value": sum(float(r["value"]) for r in rows),
            "channels": {c.strip() for r in rows for c in r["path"].split(">")}}


def address(page: Any) -> tuple[str, dict[str, list[str]]]:
    """The path and the query of the page's address."""
    parts = urlsplit(page.url)
    return parts.path, parse_qs(parts.query)


def test_a_buyer_plans_next_month_from_the_printed_link(served: Served, contexts: Any,
                                                        tmp_path: Path) -> None:
    """From the link printed at first start, a buyer uploads spend and outcomes, fits a small
    model, builds "1.2M next month, search at least 200k, no channel changes more than 30%",
    reads its summary, compares it with a second plan and signs out."""
    # The buyer spends 1.6 times the fixture's: today's allocation then comes to about 1.07M
    # a month, so that 1.2M lies within 30% of it (the fixture's 670k would not).
    spend_file = scaled_spend(FIXTURES / "media_spend.csv", 1.6, tmp_path / "our_spend.csv")
    today = monthly_today(spend_file)
    page = contexts().new_page()
    page.goto(served.link)
    assert address(page) == ("/", {})
    expect(page.get_by_role("heading", level=1)).to_have_text("demo")
    again = contexts().new_page()
    assert again.goto(served.link).status == 401  # the printed link works once

    spend = upload(page, "Spend", spend_file, "our spend")
    outcomes = upload(page, "Outcomes", FIXTURES / "media_outcomes.csv", "our outcomes")
    model = start_small_fit(page, spend, outcomes)
    build = page.get_by_role("link", name="Build a plan")
    expect(build).to_be_visible(timeout=JOB_MS)  # the page reloads itself when the fit ends
    build.click()

    expect(page.get_by_label("Period", exact=True)).to_have_value("month")
    expect(page.locator("#budget-hint")).to_have_text(
        f"Today's allocation spends ${today['total']:,.0f} a month.")
    first = make_plan(page, "1.2M", {"search": "200k"}, "30")
    summary = page.locator("#plan-summary").inner_text()
    added = 1_200_000 - today["total"]  # spent beyond today's allocation
    assert any(abs(amount(f"${a}") - added) <= 1 for a in re.findall(r"\$([\d,]+)", summary)), \
        summary
    assert re.search(r" a month \(.+\), \d+% likely to beat today's allocation\.$", summary), \
        summary
    channels = plan_table(page)
    assert channels.pop("Total")["proposed"] == 1_200_000
    assert channels["search"]["proposed"] >= 200_000
    assert set(channels) == set(today["channels"])
    for name, row in channels.items():
        assert row["today"] == pytest.approx(today["channels"][name], abs=1.0), name
        assert abs(row["proposed"] - row["today"]) <= 0.3 * row["today"] + 1.0, name

    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Plans").click()
    page.get_by_label("Response model", exact=True).select_option(model)
    page.get_by_role("button", name="Show").click()
    second = make_plan(page, "1,000,000", {"search": "200k"}, "30")
    assert plan_table(page)["Total"]["proposed"] == 1_000_000

    assert compared_spend(page, [first, second]) == {first: "$1,200,000",
                                                      second: "$1,000,000"}
    expect(page.locator("#current-means")).to_contain_text("“Current” is")
    sign_out(page)
    page.goto(f"/plans/{first}")
    assert address(page) == ("/signin", {"next": [f"/plans/{first}"]})


def test_an_agency_analyst_compares_three_models_and_downloads_the_comparison(
        served: Served, contexts: Any) -> None:
    """An analyst signed in with a key uploads journeys, compares Markov, Shapley and linear
    with intervals, and downloads the comparison: each model shares out exactly the file's
    conversions and value over the file's channels."""
    journeys = read_paths(FIXTURES / "sample_paths.csv")
    page = contexts().new_page()
    sign_in_with_key(page, served.owner_key)
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Upload").click()
    form = page.get_by_role("region", name="Journeys (paths)")
    form.get_by_label("File (CSV or Parquet)").set_input_files(FIXTURES / "sample_paths.csv")
    form.get_by_label("Name").fill("agency journeys")
    form.get_by_role("button", name="Upload Journeys (paths)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("agency journeys")
    expect(page.locator("#summary")).to_contain_text(
        f"{journeys['journeys']:,.0f} journeys, of which {journeys['conversions']:,.0f} "
        f"converted, worth ${journeys['value']:,.0f}.")

    page.get_by_role("link", name="Compare attribution models on these journeys.").click()
    expect(page.get_by_label("Journeys (paths dataset)")).to_have_value(
        re.compile(r"^ds_"))  # the dataset just uploaded is chosen
    models = page.get_by_role("group", name="Models")
    for name in ("First touch", "Last touch", "Position based", "Time decay"):
        models.get_by_role("checkbox", name=name, exact=True).uncheck()
    for name in ("Markov chain", "Shapley value", "Linear"):
        models.get_by_role("checkbox", name=name, exact=True).check()
    page.get_by_label("Intervals: bootstrap replicates").fill("20")
    page.get_by_label("Random seed").fill("7")
    page.get_by_role("button", name="Compare the models").click()
    table = page.locator("#comparison-conversions")
    expect(table).to_be_visible(timeout=JOB_MS)
    expect(page.locator("#sentences li")).to_have_count(3)
    total = f"{journeys['conversions']:,.1f}"  # 2,044.0: every model shares out them all
    cells = table.locator("tr.total td").all_inner_texts()
    assert sum(cell.startswith(total) for cell in cells) == 3, cells

    with page.expect_download() as download:
        page.get_by_role("link", name="The comparison as CSV").click()
    assert download.value.suggested_filename.endswith("-comparison.csv")
    with open(download.value.path(), encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert {r["channel"] for r in rows} == journeys["channels"]
    for model in ("markov", "shapley", "linear"):
        for measure, expected in (("conversions", journeys["conversions"]), ("share", 1.0),
                                  ("value", journeys["value"])):
            column = [float(r[f"{model}_{measure}"]) for r in rows]
            assert sum(column) == pytest.approx(expected, rel=1e-9), (model, measure)
            low = [float(r[f"{model}_{measure}_low"]) for r in rows]
            high = [float(r[f"{model}_{measure}_high"]) for r in rows]
            assert all(a <= b for a, b in zip(low, high, strict=True)), (model, measure)


def test_a_finance_user_forecasts_a_plan_in_chinese_and_may_not_make_one(
        served: Served, contexts: Any) -> None:
    """A finance user, signed in from a link an owner made on the keys page, reads the pages
    in Chinese: opens a buyer's plan from the home page, forecasts its allocation over the
    month (spending the plan's 600,000) and is refused the plan builder."""
    plan = served.demo_plan()["id"]
    owner = contexts().new_page()
    sign_in_with_key(owner, served.owner_key)
    owner.get_by_role("link", name="Keys and links").click()
    making = owner.get_by_role("region", name="Sign-in link")
    making.get_by_label("Role").select_option("finance")
    making.get_by_role("button", name="Make a sign-in link").click()
    link = owner.locator("#new-link").inner_text()

    say = words("zh")
    page = contexts(locale="zh-CN").new_page()
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".role")).to_have_text(say("finance"))
    nav = page.get_by_role("navigation", name=say("Workspace"))
    expect(nav.get_by_role("link")).to_have_text([say("Home"), say("Scenarios")])
    page.get_by_role("region", name=say("Budget plans")).get_by_role(
        "link", name=re.compile(r"US\$600,000")).first.click()  # newest first
    assert address(page) == (f"/plans/{plan}", {})
    expect(page.get_by_role("heading", level=1)).to_have_text(
        say("Budget plan {id}").format(id=plan))
    expect(page.locator("#plan-summary")).to_have_text(re.compile(r"[\u4e00-\u9fff]"))

    forecasting = page.get_by_role("region", name=say("Forecast this plan"))
    expect(forecasting.get_by_label(say("Over"))).to_have_value("month")
    forecasting.get_by_role("button", name=say("Make the forecast")).click()
    page.wait_for_url(lambda url: urlsplit(url).path != f"/plans/{plan}")
    forecast = address(page)[0].rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text(
        say("ROMI forecast {id}").format(id=forecast))
    spend_row = page.locator("#forecast-totals tr").filter(
        has=page.get_by_role("rowheader", name=say("Spend"), exact=True))
    expect(spend_row.locator("td").first).to_have_text(re.compile(r"600,000$"))
    made = served.api("GET", f"/plans/{forecast}")
    roles = {key["id"]: key["role"] for key in served.api("GET", "/keys")["keys"]}
    assert made["kind"] == "forecast" and roles[made["created_by"]] == "finance"
    assert made["result"]["forecast"]["total"]["spend"] == pytest.approx(600_000, abs=1)

    answer = page.goto("/plans/new")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("main")).to_contain_text(say(
        "Your role does not allow this. An owner of the workspace can give you a key with "
        "another role."))


def test_a_reused_or_expired_sign_in_link_is_refused(served: Served, contexts: Any) -> None:
    """A link made on the keys page signs one browser in and leaves the address bar; used
    again, or expired, it is refused with a message and the workspace stays closed."""
    owner = contexts().new_page()
    sign_in_with_key(owner, served.owner_key)
    owner.get_by_role("link", name="Keys and links").click()
    making = owner.get_by_role("region", name="Sign-in link")
    making.get_by_label("Role").select_option("buyer")
    making.get_by_role("button", name="Make a sign-in link").click()
    link = owner.locator("#new-link").inner_text()
    assert link.startswith(served.base + "/signin?token="), link

    first = contexts().new_page()
    first.goto(link)
    assert address(first) == ("/", {})
    expect(first.get_by_role("heading", level=1)).to_have_text("demo")
    expect(first.locator(".role")).to_have_text("buyer")

    other = contexts().new_page()
    answer = other.goto(link)
    assert answer is not None and answer.status == 401
    expect(other.get_by_role("alert")).to_contain_text("used already, has expired or is unknown")
    expect(other.get_by_label("API key")).to_be_visible()

    expired = served.signin_link("buyer", minutes=0.01)  # 0.6 s
    time.sleep(1.0)
    answer = other.goto(expired)
    assert answer is not None and answer.status == 401
    expect(other.get_by_role("alert")).to_contain_text("has expired")
    other.goto("/")
    assert address(other) == ("/signin", {"next": ["/"]})


def test_a_form_without_its_csrf_token_is_refused(served: Served, contexts: Any) -> None:
    """A form sent without its session's token, or with a wrong one, is refused with 403 and
    changes nothing; so is the sign-in form without its own."""
    page = contexts().new_page()
    sign_in_with_key(page, served.owner_key)
    page.get_by_role("link", name="Keys and links").click()
    section = page.get_by_role("region", name="New API key")
    for label, change in (("sent without a token", "e => e.remove()"),
                          ("sent with a wrong token", "e => { e.value = 'forged'; }")):
        section.get_by_label("Label (who or what uses it)").fill(label)
        page.evaluate(f"""() => {{ const change = {change};
            change(document.querySelector('#role').form.querySelector('[name=csrf_token]')); }}""")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            section.get_by_role("button", name="Make a key").click()
        assert posted.value.status == 403, label
        expect(page.get_by_role("alert")).to_contain_text("without its security token")
        page.go_back()
    labels = [k["label"] for k in served.api("GET", "/keys")["keys"]]
    assert not {"sent without a token", "sent with a wrong token"} & set(labels), labels

    anonymous = contexts().new_page()
    anonymous.goto("/signin")
    anonymous.get_by_label("API key").fill(served.owner_key)
    anonymous.evaluate("() => document.querySelector('[name=csrf_token]').remove()")
    with anonymous.expect_response(lambda r: r.request.method == "POST") as posted:
        anonymous.get_by_role("button", name="Sign in").click()
    assert posted.value.status == 403
    anonymous.goto("/")
    assert address(anonymous)[0] == "/signin"


def test_after_sign_out_the_pages_are_closed(served: Served, contexts: Any) -> None:
    """After sign-out, going back, reloading and even the old session cookie land on the
    sign-in page: the session ended on the server, not just in the browser."""
    context = contexts()
    page = context.new_page()
    sign_in_with_key(page, served.owner_key)
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    cookie = next(c for c in context.cookies() if c["name"] == "spendwise_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    sign_out(page)
    assert "spendwise_session" not in {c["name"] for c in context.cookies()}
    page.go_back()
    assert address(page) == ("/signin", {"next": ["/audit"]})
    expect(page.get_by_label("API key")).to_be_visible()
    page.reload()
    assert address(page) == ("/signin", {"next": ["/audit"]})
    context.add_cookies([cookie])
    page.goto("/audit")
    assert address(page) == ("/signin", {"next": ["/audit"]})
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

"""The fit form and the model page: starting a fit, following it and reading what it says.

The fitted model is the hand-made posterior of :func:`tests.api.web.conftest.add_fitted_model`
(nothing samples). Its contributions and marginal returns are computed again here
from the saved draws and data with the model's documented formulas (normalised
geometric adstock, exponential curve, trend and yearly Fourier baseline), not with
the engine's code.
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pytest
from flask import url_for
from sqlalchemy import func, select, update

from api.access import issue_key
from api.datasets import store_upload
from api.tables import AuditEvent, Job, Plan, ResponseFit, Workspace
from optimizer.requests import FitRequest
from tests.api.test_pages import HOSTILE, MATHTEXT, Tables, engine_outputs
from tests.api.web.conftest import Browser, add_fitted_model, text_of, upload_fixtures

pytestmark = pytest.mark.filterwarnings("ignore:no font for some channel names")
#: Value per conversion of the fixture model (``engine_outputs``).
VALUE = 90.0


# -- helpers ----------------------------------------------------------------------------------


def fitted(browser: Browser, lift: bytes | None = None) -> str:
    """A fitted model of the workspace (spend and outcomes uploaded; lift tests if given)."""
    app = browser.client.application
    ids = upload_fixtures(app, ("spend", "outcomes"))
    model_id = add_fitted_model(app, ids)
    if lift is not None:
        with browser.services.sessions.begin() as session:
            space = session.get(Workspace, browser.workspace_id)
            row = store_upload(session, browser.services.store, space, "lift_tests",
                               "lift.csv", lift, "text/csv", "fixture")
            model = session.get(ResponseFit, model_id)
            model.datasets = {**model.datasets, "lift_tests": row.id}
    return model_id


def cells(text: str) -> Tables:
    """The tables of a page by id."""
    return Tables(text)


def value(cell: str) -> str:
    """A cell's value without the 90% range shown below it."""
    return (cell.split() or [""])[0]


def amount(text: str) -> float:
    """A number as a page shows it (``$1,234.50``, ``19,773``, ``6.2%``)."""
    return float(re.sub(r"[^0-9.\-]", "", text))


def saved_model() -> tuple[Any, dict[str, Any]]:
    """The fixture model's saved inference data and metadata, read from its file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.nc"
        path.write_bytes(engine_outputs()["model"])
        with az.rc_context({"data.load": "eager"}):
            idata = az.from_netcdf(str(path))
    return idata, json.loads(idata.constant_data.attrs["spendwise"])


def by_hand() -> dict[str, Any]:
    """Baseline, channel and fitted KPI totals over the fit weeks per draw, and the
    response at the current spend, from the saved draws and data."""
    idata, meta = saved_model()
    data, post = idata.constant_data, idata.posterior
    draw = {k: np.asarray(post[k].values, float).reshape(-1, *post[k].shape[2:])
            for k in ("intercept", "trend", "season", "beta", "lam", "alpha")}
    spend, kpi = np.asarray(data["spend"].values, float), np.asarray(data["kpi"].values, float)
    dates = pd.DatetimeIndex(data["week"].values)
    n, lags = meta["n_fit"], meta["settings"]["max_lag"]
    order = meta["settings"]["fourier_order"]
    ybar = kpi[:n].mean()
    m = np.array([col[col > 0].mean() for col in spend[:n].T])
    x = spend / m
    padded = np.vstack([np.repeat(x[:lags].mean(0, keepdims=True), lags - 1, 0), x])
    w = draw["alpha"][..., None] ** np.arange(lags)
    w /= w.sum(-1, keepdims=True)
    a = sum(w[:, None, :, lag] * padded[None, lags - 1 - lag: lags - 1 - lag + len(x)]
            for lag in range(lags))
    media = draw["beta"][:, None, :] * (1 - np.exp(-a / draw["lam"][:, None, :]))
    t = np.arange(len(x))
    phase = 2 * np.pi * (dates - pd.Timestamp("1970-01-01")).days.to_numpy() / 365.25
    k = np.arange(1, order + 1)
    season = np.hstack([np.sin(phase[:, None] * k), np.cos(phase[:, None] * k)])
    base = draw["intercept"][:, None] + draw["trend"][:, None] * ((t - (n - 1) / 2) / n) \
        + draw["season"] @ season.T
    beta, lam = draw["beta"] * ybar, draw["lam"] * m
    return {"baseline": base[:, :n].sum(1) * ybar, "media": media[:, :n].sum(1) * ybar,
            "fitted": (base + media.sum(-1))[:, :n].sum(1) * ybar, "current": spend[-4:].mean(0),
            "curve": lambda spend_: beta * (1 - np.exp(-np.asarray(spend_) / lam)),
            "channels": [str(c) for c in data["channel"].values]}


# -- the fit form ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "buyer"])
def test_fit_form_offers_datasets_and_the_request_defaults(browser: Browser, role: str) -> None:
    """The form lists the datasets of each kind and is prefilled with FitRequest's defaults."""
    ids = upload_fixtures(browser.client.application, ("spend", "outcomes", "lift_tests"))
    browser.sign_in(role)
    page = browser.page("/models/new")
    defaults = FitRequest()
    for name in ("max_lag", "fourier_order", "draws", "tune", "chains", "seed",
                 "holdout_weeks", "prior_width"):
        assert re.search(rf'name="{name}" size="10" value="{getattr(defaults, name)}"', page)
    assert re.search(rf'<option value="{ids["spend"]}" selected>media_spend.csv', page)
    assert re.search(rf'<option value="{ids["lift_tests"]}">media_lift_tests.csv', page)
    assert f'<option value="{defaults.curve}" selected>' in page
    assert 'href="/models/new"' in browser.page("/")  # the header's link


def test_fit_form_starts_the_fit_the_json_api_starts(browser: Browser) -> None:
    """A posted form queues the same fit as POST /v1/models, audits it and opens its page."""
    app = browser.client.application
    ids = upload_fixtures(app, ("spend", "outcomes"))
    browser.sign_in("buyer")
    form = {"spend": ids["spend"], "outcomes": ids["outcomes"], "controls": "",
            "lift_tests": "", "kpi": "revenue", "draws": "1,500", "tune": "300",
            "holdout_weeks": "8", "value_per_conversion": ""}
    response = browser.post("/models/new", form)
    assert response.status_code == 303
    model_id = response.headers["Location"].rsplit("/", 1)[1]
    with browser.services.sessions.begin() as session:
        row = session.get(ResponseFit, model_id)
        _, key = issue_key(session, "buyer", browser.workspace_id, "api")
        event = session.scalars(select(AuditEvent).where(AuditEvent.resource_id == model_id)).one()
        assert (event.action, event.key_id) == ("model.create", browser.key_id)
        assert session.get(Job, row.job_id).state == "queued"
        web = (row.parameters, row.fingerprint, row.datasets)
    expected = FitRequest.build(kpi="revenue", draws=1500, tune=300, holdout_weeks=8)
    assert web[0] == expected.canonical()
    body = {"spend": ids["spend"], "outcomes": ids["outcomes"],
            "settings": {"kpi": "revenue", "draws": 1500, "tune": 300, "holdout_weeks": 8}}
    api = browser.client.post("/v1/models", json=body, headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 202
    assert (api.json["parameters"], api.json["fingerprint"], api.json["datasets"]) == web
    page = browser.page(f"/models/{model_id}")
    assert "Waiting for a worker to start the fit." in text_of(page)
    assert '<meta http-equiv="refresh"' in page  # reloads itself without JavaScript


def test_refused_form_is_shown_again_with_each_message_beside_its_field(
        browser: Browser) -> None:
    """Bad settings and datasets come back (422) with the typed values, nothing stored."""
    ids = upload_fixtures(browser.client.application, ("spend", "outcomes"))
    browser.sign_in("buyer")
    base = {"spend": ids["spend"], "outcomes": ids["outcomes"]}
    bad = browser.post("/models/new", {**base, "draws": "many", "chains": "0"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert re.search(r'id="draws-error"[^>]*>Input should be a valid integer', page)
    assert re.search(r'id="chains-error"[^>]*>Input should be greater than or equal to 1', page)
    assert 'value="many"' in page and 'aria-describedby="draws-hint draws-error"' in page
    missing = browser.post("/models/new", {**base, "spend": ""})
    assert missing.status_code == 422
    assert re.search(r'id="spend-error"[^>]*>spend: a spend dataset is required',
                     missing.get_data(as_text=True))
    swapped = browser.post("/models/new", {**base, "spend": ids["outcomes"]})
    assert re.search(r'id="spend-error"[^>]*>spend: dataset \S+ holds outcomes, not spend',
                     swapped.get_data(as_text=True))
    # 104 weeks of data less 100 held out leave too few fit weeks: a data error, shown on top
    short = browser.post("/models/new", {**base, "holdout_weeks": "100"})
    assert short.status_code == 422
    assert '<div class="notice bad" role="alert"><p>4 fit weeks (after 100 held out) are ' \
        'fewer than' in short.get_data(as_text=True)
    with browser.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ResponseFit)) == 0


def test_dataset_names_are_escaped_in_the_form(browser: Browser) -> None:
    """A dataset named with markup is shown as text."""
    with browser.services.sessions.begin() as session:
        space = session.get(Workspace, browser.workspace_id)
        data = (Path(__file__).parents[3] / "fixtures" / "media_spend.csv").read_bytes()
        store_upload(session, browser.services.store, space, "spend", HOSTILE, data,
                     "text/csv", "fixture")
    browser.sign_in("owner")
    page = browser.page("/models/new")
    assert HOSTILE not in page and escape(HOSTILE) in page


# -- roles -------------------------------------------------------------------------------------


def test_finance_reads_models_but_gets_no_fit_form(browser: Browser) -> None:
    """Finance may read a model's page (without plan links) but not start a fit."""
    model_id = fitted(browser)
    browser.sign_in("finance")
    assert browser.get("/models/new").status_code == 403
    assert browser.post("/models/new", {"spend": "x"}).status_code == 403
    page = browser.page(f"/models/{model_id}")
    assert "What drove the conversions" in page and "Build a plan" not in page
    assert 'href="/models/new"' not in browser.page("/")


def test_auditor_may_not_read_models(browser: Browser) -> None:
    """The auditor role gets 403 on the model page and on the form."""
    model_id = fitted(browser)
    browser.sign_in("auditor")
    assert browser.get(f"/models/{model_id}").status_code == 403
    assert browser.get("/models/new").status_code == 403


def test_unknown_model_is_not_found(browser: Browser) -> None:
    """A model id of no model, or not an id at all, is a 404 page."""
    browser.sign_in("buyer")
    assert browser.get("/models/rm_0123456789abcdef0123456789abcdef").status_code == 404
    assert browser.get("/models/<b>").status_code == 404


# -- while it runs, and when it failed ---------------------------------------------------------


def test_running_fit_shows_draws_done_and_time_left(browser: Browser,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A running fit shows its draws of the total and the time left, and reloads itself."""
    ids = upload_fixtures(browser.client.application, ("spend", "outcomes"))
    browser.sign_in("buyer")
    response = browser.post("/models/new", {"spend": ids["spend"], "outcomes": ids["outcomes"]})
    model_id = response.headers["Location"].rsplit("/", 1)[1]
    moment = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    monkeypatch.setattr("api.jobs.now", lambda: moment)
    with browser.services.sessions.begin() as session:
        row = session.get(ResponseFit, model_id)
        row.state = "running"
        # 1,200 of 6,000 draws (a fifth) in 10 s: 40 s to go at that pace
        session.execute(update(Job).where(Job.id == row.job_id).values(
            state="running", progress=0.2, progress_done=1200, progress_total=6000,
            progress_note="sampling", started_at=moment - timedelta(seconds=10)))
    page = browser.page(f"/models/{model_id}")
    assert "1,200 of 6,000 draws, about 40 s left" in text_of(page)
    assert "Now: sampling" in text_of(page) and '<meta http-equiv="refresh"' in page
    with browser.services.sessions.begin() as session:
        # a quarter in 60 s: 180 s, said in minutes
        session.execute(update(Job).values(progress=0.25, progress_done=1500,
                                           started_at=moment - timedelta(seconds=60)))
    assert "1,500 of 6,000 draws, about 3 min left" in text_of(browser.page(f"/models/{model_id}"))
    chinese = browser.page(f"/models/{model_id}", headers={"Accept-Language": "zh-CN"})
    assert "已完成 1,500 / 6,000 次抽样，约剩 3 分钟" in text_of(chinese)


def test_failed_fit_says_why_and_what_to_do(browser: Browser) -> None:
    """A failed fit shows the job's error and how to go on."""
    ids = upload_fixtures(browser.client.application, ("spend", "outcomes"))
    browser.sign_in("buyer")
    response = browser.post("/models/new", {"spend": ids["spend"], "outcomes": ids["outcomes"]})
    model_id = response.headers["Location"].rsplit("/", 1)[1]
    with browser.services.sessions.begin() as session:
        row = session.get(ResponseFit, model_id)
        row.state = "failed"
        session.execute(update(Job).where(Job.id == row.job_id).values(
            state="failed", error="lift_tests: unknown channels <tv>"))
    page = browser.page(f"/models/{model_id}")
    assert "lift_tests: unknown channels &lt;tv&gt;" in page
    assert "then start a new fit" in text_of(page) and "refresh" not in page
    assert f'/models/new?spend={ids["spend"]}&amp;outcomes={ids["outcomes"]}' in page


# -- what a fitted model says ------------------------------------------------------------------


def test_contributions_add_up_to_the_fitted_total(browser: Browser) -> None:
    """Baseline and channels, computed by hand from the draws, match the page and add up."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    table = cells(browser.page(f"/models/{model_id}")).rows("contributions")
    rows = {name: [value(cell) for cell in row] for name, row in table.items()}
    hand = by_hand()
    fitted_total = hand["fitted"].mean()
    parts = [hand["baseline"].mean(), *hand["media"].mean(0)]
    assert sum(parts) == pytest.approx(fitted_total, rel=1e-12)
    assert rows["Fitted total"][0] == f"{fitted_total:,.0f}"
    assert rows["Baseline"][0] == f"{parts[0]:,.0f}"
    for name, total in zip(hand["channels"], parts[1:], strict=True):
        assert rows[name][0] == f"{total:,.0f}"
        share = (hand["media"][:, hand["channels"].index(name)] / hand["fitted"]).mean()
        assert rows[name][1] == f"{100 * share:.1f}%"
    shown = [amount(rows[name][0]) for name in ("Baseline", *hand["channels"])]
    assert abs(sum(shown) - amount(rows["Fitted total"][0])) <= 0.5 * len(shown)


def test_marginal_return_is_the_slope_of_the_curve_at_current_spend(browser: Browser) -> None:
    """Marginal ROMI is a central difference of the response curve at the current spend."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    page = browser.page(f"/models/{model_id}")
    rows = cells(page).rows("returns")
    hand = by_hand()
    x, curve = hand["current"], hand["curve"]
    slope = ((curve(x + 1.0) - curve(x - 1.0)) / 2.0).mean(0)
    gain = (curve(x + 1000.0) - curve(x)).mean(0)
    for i, name in enumerate(hand["channels"]):
        spend, now, more, romi = (value(cell) for cell in rows[name])
        assert spend == f"${x[i]:,.0f}" and now == f"{curve(x).mean(0)[i]:,.1f}"
        assert more == f"{gain[i]:,.1f}"
        assert abs(amount(romi) - VALUE * slope[i]) <= 0.005 + 1e-9
    best = hand["channels"][int(np.argmax(gain))]
    summary = re.search(r'<p class="summary" id="summary">(.*?)</p>', page, re.S).group(1)
    assert f"The next $1,000 a week returns most in {escape(best)}: about " \
           f"${VALUE * gain.max():,.0f} more revenue a week" in " ".join(summary.split())


def test_page_shows_checks_charts_and_channels_without_lift_tests(browser: Browser) -> None:
    """Checks in words, two inline charts, and every channel named as untested; names escaped."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    page = browser.page(f"/models/{model_id}")
    assert page.count("<svg") == 2 and "<script>" not in page.split("</head>")[1]
    assert HOSTILE not in page and escape(HOSTILE) in page and escape(MATHTEXT) in page
    assert re.search(r'<li class="notice good" data-check="r_hat">', page)
    untested = re.search(r'<p class="notice warn" id="untested">(.*?)</p>', page).group(1)
    assert untested == "No lift test for: " + ", ".join(
        escape(c) for c in by_hand()["channels"]) + "."
    # the hand-made posterior misses the held-out weeks: 0% inside the 90% interval
    coverage = re.search(r'data-check="holdout_coverage">(.*?)</li>', page, re.S).group(1)
    assert 'class="notice bad"' in page and "Only 0% of the held-out weeks" in coverage
    assert "Add a controls dataset" in coverage


def test_channels_with_lift_tests_are_counted(browser: Browser) -> None:
    """Lift tests of two channels leave the other two named as untested."""
    lift = b"channel,spend_before,spend_after,lift,lift_sd\n" \
           b"display,10000,20000,50,5\ndisplay,12000,6000,-30,4\naffiliate,8000,16000,40,5\n"
    model_id = fitted(browser, lift)
    browser.sign_in("owner")
    page = browser.page(f"/models/{model_id}")
    assert cells(page).rows("lift-tests") == {"Channel": ["Lift tests"], HOSTILE: ["0"],
                                              "affiliate": ["1"], "display": ["2"],
                                              MATHTEXT: ["0"]}
    untested = re.search(r'id="untested">(.*?)</p>', page).group(1)
    assert untested == f"No lift test for: {escape(HOSTILE)}, {escape(MATHTEXT)}."


def test_a_failing_diagnostic_is_highlighted_with_its_fix(browser: Browser) -> None:
    """A stored R-hat of 1.2 is a bad notice naming more tuning (twice the 1,000 steps)."""
    model_id = fitted(browser)
    with browser.services.sessions.begin() as session:
        row = session.get(ResponseFit, model_id)
        row.diagnostics = {**row.diagnostics, "max_r_hat": 1.2, "status": "not_converged"}
    browser.sign_in("buyer")
    page = browser.page(f"/models/{model_id}")
    item = re.search(r'<li class="notice bad" data-check="r_hat">(.*?)</li>', page, re.S)
    assert item is not None
    words = " ".join(text_of(item.group(1)).split())
    assert "The chains disagree (largest R-hat 1.200, above 1.01)" in words
    assert "What to do: Refit with more tuning steps (tune 2,000)." in words
    assert "Refit with more draws per chain (draws 2,000)." in words  # max(2 x 250, default)


def test_next_steps_follow_the_role(browser: Browser) -> None:
    """Buyers may build a plan on the model; finance may forecast its newest plan and read
    the frontier, but not plan."""
    app = browser.client.application
    model_id = fitted(browser)
    with browser.services.sessions.begin() as session:
        for day in (1, 2):  # the newer plan is the one forecast
            session.add(Plan(workspace_id=browser.workspace_id, model_id=model_id, kind="plan",
                             parameters={}, state="succeeded", result=engine_outputs()["plan"],
                             fingerprint="p" * 64, version="0.1.0", created_by="fixture",
                             created_at=datetime(2026, 1, day, tzinfo=UTC)))
        newest = session.scalars(select(Plan.id).order_by(Plan.created_at.desc())).first()
    with app.test_request_context():
        plan = url_for("web_plans.new_plan", model=model_id)
        forecast = url_for("web_plans.new_forecast", plan=newest)
        frontier = url_for("web_scenarios.frontier", model_id=model_id)
    browser.sign_in("buyer")
    page = browser.page(f"/models/{model_id}")
    assert f'<a href="{escape(plan)}">Build a plan</a>' in page
    other = Browser(app.test_client(), browser.workspace_id).sign_in("finance")
    page = other.page(f"/models/{model_id}")
    assert "Build a plan" not in page
    assert f'<a href="{escape(forecast)}">Make a forecast of its newest plan</a>' in page
    assert f'<a href="{escape(frontier)}">See the budget frontier</a>' in page


def test_model_page_in_chinese(browser: Browser) -> None:
    """With Accept-Language zh-CN the page and the form are in Chinese."""
    model_id = fitted(browser)
    browser.sign_in("buyer")
    zh = {"Accept-Language": "zh-CN"}
    page = text_of(browser.page(f"/models/{model_id}", headers=zh))
    assert "模型可信吗？" in page and "下一笔钱的回报" in page and "以下渠道没有增量实验" in page
    assert "Can you trust it?" not in page
    assert "开始拟合" in text_of(browser.page("/models/new", headers=zh))
    html = browser.page(f"/models/{model_id}", headers=zh)
    chart_text = " ".join(re.findall(r"<text\b[^>]*>([^<]*)</text>", html))
    assert "每周花费" in chart_text and "中位数" in chart_text and "拟合值" in chart_text
    assert "weekly spend" not in chart_text and "fitted" not in chart_text


def test_the_view_is_drawn_once_per_model(browser: Browser,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A second view of a fitted model neither reloads nor redraws it."""
    from api.web import models

    model_id = fitted(browser)
    browser.sign_in("buyer")
    first = browser.page(f"/models/{model_id}")
    monkeypatch.setattr(models, "draw", lambda row: pytest.fail("drawn again"))
    assert browser.page(f"/models/{model_id}") == first


def test_lift_tests_of_a_stored_fit(browser: Browser) -> None:
    """The service reads the channel of each lift test of a fit from its dataset."""
    from api.fits import lift_tests_of

    model_id = fitted(browser, b"channel,spend_before,spend_after,lift,lift_sd\n"
                               b"display,1,2,3,1\nsearch,1,2,3,1\n")
    with browser.services.sessions() as session:
        row = session.get(ResponseFit, model_id)
        assert lift_tests_of(session, browser.services.store, row) == ["display", "search"]
        row.datasets = {**row.datasets, "lift_tests": "ds_gone"}
        assert lift_tests_of(session, browser.services.store, row) is None
        row.datasets = {k: v for k, v in row.datasets.items() if k != "lift_tests"}
        assert lift_tests_of(session, browser.services.store, row) == []


@pytest.mark.parametrize("dataset_id", ["a\x00b", "x" * 41, "ds_../1", "ds_ü"])
def test_odd_dataset_ids_name_no_dataset_on_either_database(app: Any, dataset_id: str) -> None:
    """An id that no dataset can have is "not in this workspace" before any query runs (a
    NUL would make PostgreSQL fail)."""
    from api.errors import NotFound
    from api.fits import dataset_rows

    with app.extensions["spendwise"].sessions() as session, \
            pytest.raises(NotFound, match="no dataset"):
        dataset_rows(session, "ws_x", {"spend": dataset_id, "outcomes": "ds_y"})

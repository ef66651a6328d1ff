"""HTML pages of reports, response models, plans and forecasts, on SQLite and PostgreSQL.

The rows are written straight to the database from the engines' own outputs: an
attribution report of ``fixtures/sample_paths.csv``, a response model of the
media fixture on a hand-made posterior (nothing samples) and a plan and a
forecast on that model. Two channels carry hostile names: markup, and ``$``
signs that matplotlib would read as mathtext.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import matplotlib
import numpy as np
import pandas as pd
import pytest

from api import html
from api.tables import Plan, Report, ResponseFit
from attribution.bootstrap import bootstrap
from attribution.models import make_model
from attribution.paths import PathTable
from attribution.report import plot_comparison, to_json
from optimizer.allocator import BudgetAllocator
from optimizer.data import MediaData
from optimizer.forecast import compare, forecast
from optimizer.response_model import ResponseModel
from spendwise.charts import CHART_LOCK
from tests.api.cli.test_optimizer import hand_posterior
from tests.conftest import ROOT

HOSTILE = "<script>alert(1)</script>"
MATHTEXT = r"tv $\bad$ & co"
CREATED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
FIXTURES = ROOT / "fixtures"
#: Channels of the media fixture kept for the model (fewer panels, faster pages).
MEDIA_CHANNELS = {"email": HOSTILE, "search": MATHTEXT, "display": "display",
                  "affiliate": "affiliate"}


pytestmark = pytest.mark.filterwarnings("ignore:no font for some channel names")


# -- engine outputs (built once) -------------------------------------------------------------------


def attribution_result() -> list[dict[str, Any]]:
    """Markov and linear credit of the sample paths with bootstrap intervals, hostile names."""
    frame = pd.read_csv(FIXTURES / "sample_paths.csv")
    rename = {"sms": HOSTILE, "email": MATHTEXT}
    frame["path"] = [" | ".join(rename.get(c, c) for c in p.split(" > ")) for p in frame["path"]]
    paths = PathTable.from_frame(frame, separator=" | ")
    results = []
    for name in ("markov", "linear"):
        model = make_model(name, seed=0)
        fitted = model.fit(paths).result
        results.append(fitted.with_intervals(bootstrap(model, paths, replicates=20, seed=0)))
    payload: list[dict[str, Any]] = json.loads(to_json(results))
    payload[0]["created_at"] = CREATED.isoformat()
    del payload[1]["created_at"]  # as the service stores reports
    return payload


@cache
def engine_outputs() -> dict[str, Any]:
    """The engines' outputs the rows hold: report, saved model, diagnostics, plan, forecast."""
    spend = pd.read_csv(FIXTURES / "media_spend.csv")
    spend = spend[spend["channel"].isin(list(MEDIA_CHANNELS))]
    spend["channel"] = spend["channel"].map(MEDIA_CHANNELS)
    data = MediaData.from_frames(spend, pd.read_csv(FIXTURES / "media_outcomes.csv"))
    model = ResponseModel.from_posterior(data, hand_posterior(data.n_channels),
                                         value_per_conversion=90.0, holdout_weeks=8)
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "model.nc")
        saved = (Path(folder) / "model.nc").read_bytes()
    draws = model.response_draws()
    allocation = draws.current * np.linspace(0.8, 1.2, draws.n_channels)
    comparison = compare(draws, "current", allocation, horizon_weeks=4)
    return {
        "report": attribution_result(), "model": saved,
        "diagnostics": model.result_.to_dict(), "current": draws.current,
        "plan": BudgetAllocator(draws).solve(0.9 * 4 * float(draws.current.sum())).to_dict(),
        "forecast": {"forecast": forecast(draws, allocation, horizon_weeks=4).to_dict(),
                     "against_current": comparison.to_dict()},
    }


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    """The engines' outputs (built once per session)."""
    return engine_outputs()


# -- rows and helpers ------------------------------------------------------------------------------


def add_rows(client: Any, keys: dict[str, Any], outputs: dict[str, Any],
             state: str = "succeeded") -> dict[str, str]:
    """Write a report, a model, a plan and a forecast of ``keys``' workspace; their ids."""
    services = client.application.extensions["spendwise"]
    workspace = client.get("/v1/workspaces/current", headers=keys["owner"]).json["id"]
    common = {"workspace_id": workspace, "fingerprint": "f" * 64, "version": "0.1.0",
              "created_by": "k0123456789abcdef", "created_at": CREATED}
    done = state == "succeeded"
    report = Report(dataset_id=None, parameters={"models": ["markov", "linear"], "label": HOSTILE},
                    state=state, result=outputs["report"] if done else None, **common)
    model = ResponseFit(datasets={"spend": "ds_spend", "outcomes": "ds_outcomes"},
                        parameters={"curve": "exponential"}, state=state,
                        diagnostics=outputs["diagnostics"] if done else None,
                        artifact=services.store.put(outputs["model"]) if done else None, **common)
    session = services.sessions()
    session.add_all([report, model])
    session.flush()
    plan = Plan(model_id=model.id, kind="plan", parameters={"budget": 1.0},
                result=outputs["plan"], **common)
    fc = Plan(model_id=model.id, kind="forecast", parameters={"horizon_weeks": 4},
              result=outputs["forecast"], **common)
    alone = Plan(model_id=None, kind="forecast", parameters={"compare_with_current": False},
                 result={"forecast": outputs["forecast"]["forecast"], "against_current": None},
                 **common)
    session.add_all([plan, fc, alone])
    session.commit()
    ids = {"report": report.id, "model": model.id, "plan": plan.id, "forecast": fc.id,
           "alone": alone.id}
    session.close()
    return ids


URLS: dict[str, Callable[[str], str]] = {
    "report": lambda i: f"/v1/reports/{i}/html", "model": lambda i: f"/v1/models/{i}/html",
    "plan": lambda i: f"/v1/plans/{i}/html", "forecast": lambda i: f"/v1/plans/{i}/html",
    "alone": lambda i: f"/v1/plans/{i}/html",
}


class Tables(HTMLParser):
    """The cell texts of every table of a page, row by row, by table id (entities decoded)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            name = dict(attrs).get("id") or f"table-{len(self.tables)}"
            self._table = self.tables.setdefault(name, [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, table: str) -> dict[str, list[str]]:
        """The rows of ``table`` by their first cell."""
        return {row[0]: row[1:] for row in self.tables[table] if row}


def get_page(client: Any, url: str, headers: dict[str, str]) -> tuple[str, Tables]:
    """A page that must be served, twice with the same bytes: its text and its tables."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CSP
    assert client.get(url, headers=headers).data == response.data  # deterministic
    text = response.get_data(as_text=True)
    assert datetime.now(UTC).date().isoformat() not in text  # no time of rendering
    return text, Tables(text)


def band(stats: dict[str, float], digits: int, pct: bool = False) -> str:
    """``mean [p05, p95]`` as the pages print it."""
    show = (lambda v: f"{100 * v:,.{digits}f}%") if pct else (lambda v: f"{v:,.{digits}f}")
    return f"{show(stats['mean'])} [{show(stats['p05'])}, {show(stats['p95'])}]"


def assert_self_contained(text: str) -> None:
    """One inline chart, no script, no fetched resource, hostile names escaped."""
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 1
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    assert meta is not None and unescape(meta.group(1)) == CSP
    lowered = text.lower()
    assert "<script" not in lowered and "http://" not in lowered.replace(
        'xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    assert "https://" not in lowered and "<link" not in lowered and "<img" not in lowered
    assert HOSTILE not in text and escape(HOSTILE) in text
    assert escape(MATHTEXT) in text


# -- tests -----------------------------------------------------------------------------------------


def test_report_page_shows_credit_with_intervals_and_audit_facts(client, acme, outputs):
    """The report page prints each model's credit, share and intervals and the audit facts."""
    ids = add_rows(client, acme, outputs)
    text, tables = get_page(client, URLS["report"](ids["report"]), acme["auditor"])
    assert_self_contained(text)
    for index, model in enumerate(outputs["report"], start=1):
        rows = tables.rows(f"credit-{index}")
        assert set(rows) == {c["channel"] for c in model["channels"]} | {"channel", "total"}
        for c in model["channels"]:
            ci = c["ci"]
            assert rows[c["channel"]] == [
                f"{c['conversions']:,.1f}",
                f"[{ci['conversions'][0]:,.1f}, {ci['conversions'][1]:,.1f}]",
                f"{100 * c['share']:,.1f}%",
                f"[{100 * ci['share'][0]:,.1f}%, {100 * ci['share'][1]:,.1f}%]",
                f"{c['value']:,.2f}", f"[{ci['value'][0]:,.2f}, {ci['value'][1]:,.2f}]"]
        assert rows["total"][0] == f"{model['total_conversions']:,.1f}"
        assert model["fingerprint"] in text
    facts = tables.rows("facts")
    assert facts["id"] == [ids["report"]] and facts["fingerprint"] == ["f" * 64]
    assert facts["version"] == ["0.1.0"] and facts["created at"] == [CREATED.isoformat()]
    parameters = re.search(r'<pre id="parameters">(.*?)</pre>', text, re.DOTALL)
    assert parameters is not None
    assert json.loads(unescape(parameters.group(1))) == {"models": ["markov", "linear"],
                                                         "label": HOSTILE}


def test_model_page_shows_curves_and_diagnostics(client, acme, outputs):
    """The model page draws the curves and prints the diagnostics and the current spend."""
    ids = add_rows(client, acme, outputs)
    text, tables = get_page(client, URLS["model"](ids["model"]), acme["finance"])
    assert_self_contained(text)
    d = outputs["diagnostics"]
    rows = tables.rows("diagnostics")
    assert rows["status"][0] == d["status"] == "converged"
    assert rows["max split r_hat"][0] == f"{d['max_r_hat']:.3f}"
    assert rows["min bulk ESS"][0] == f"{d['min_ess_bulk']:,.0f}"
    assert rows["divergences"][0] == "0" and rows["R²"][0] == f"{d['r2']:.3f}"
    assert rows["MAPE"][0] == f"{100 * d['mape']:.1f}%"
    assert rows["holdout weeks"][0] == "8"
    assert rows["holdout MAPE"][0] == f"{100 * d['holdout_mape']:.1f}%"
    assert rows["holdout 90% interval coverage"][0] == f"{100 * d['holdout_coverage_90']:.1f}%"
    current = tables.rows("at-current")
    for channel, spend in zip(d["channels"], outputs["current"], strict=True):
        assert current[channel][0] == f"{spend:,.0f}"
    # one panel per channel: the curve, its band and the current-spend line
    assert text.count('<g id="axes_') == text.count('PolyCollection_') == len(d["channels"])


def test_plan_page_shows_allocation_romi_and_certificate(client, acme, outputs):
    """The plan page prints current and proposed spend, KPI and ROMI bands and the certificate."""
    ids = add_rows(client, acme, outputs)
    text, tables = get_page(client, URLS["plan"](ids["plan"]), acme["finance"])
    assert_self_contained(text)
    plan = outputs["plan"]
    rows = tables.rows("channels")
    for c in plan["channels"]:
        assert rows[c["channel"]][:6] == [
            f"{c['current_spend']:,.0f}", f"{c['spend']:,.0f}",
            f"{c['change']:,.0f} ({100 * c['change_pct']:,.1f}%)", band(c["kpi"], 1),
            band(c["romi"], 1, True), band(c["marginal_romi"], 1, True)]
    summary = tables.rows("summary")
    assert summary["probability of beating the current allocation"] == [
        f"{100 * plan['prob_beats_current']:.1f}%"]
    assert summary["shadow price of the budget"] == [
        f"{plan['shadow_price']['value']:.4g} {plan['shadow_price']['unit']}"]
    assert summary["expected conversions, proposed"] == [band(plan["total"]["kpi"], 1)]
    certificate = tables.rows("certificate")
    assert certificate["certified optimum"] == ["yes"] and plan["certificate"]["certified"]
    assert certificate["relative gap"] == [f"{plan['certificate']['gap_rel']:.3g}"]


def test_forecast_page_shows_allocation_against_current(client, acme, outputs):
    """A forecast's page prints each channel's bands and the chance of beating the current."""
    ids = add_rows(client, acme, outputs)
    text, tables = get_page(client, URLS["forecast"](ids["forecast"]), acme["buyer"])
    assert_self_contained(text)
    body, against = outputs["forecast"]["forecast"], outputs["forecast"]["against_current"]
    rows = tables.rows("channels")
    for c, now in zip(body["channels"], against["current"]["channels"], strict=True):
        assert rows[c["channel"]] == [f"{now['spend']:,.0f}", f"{c['spend']:,.0f}",
                                      band(c["kpi"], 1), band(c["revenue"], 0),
                                      band(c["romi"], 1, True), band(c["marginal_romi"], 1, True)]
    beats = against["prob_proposed_beats_current"]
    comparison = tables.rows("comparison")
    assert comparison["conversions"] == [band(against["difference"]["kpi"], 1),
                                         f"{100 * beats['kpi']:.1f}%"]


def test_forecast_without_comparison(client, acme, outputs):
    """A forecast stored without the current allocation shows its own numbers only."""
    ids = add_rows(client, acme, outputs)
    text, tables = get_page(client, URLS["alone"](ids["alone"]), acme["finance"])
    assert_self_contained(text)
    assert "comparison" not in tables.tables
    body = outputs["forecast"]["forecast"]
    rows = tables.rows("channels")
    for c in body["channels"]:
        assert rows[c["channel"]][:2] == [f"{c['spend']:,.0f}", band(c["kpi"], 1)]
    assert tables.rows("facts")["model"] == [html.DASH]


def test_forecast_forms():
    """Forecasts are read in each stored form: with its comparison, a comparison, a forecast."""
    body, against = {"channels": []}, {"current": {"channels": []}, "proposed": {"c": 1}}
    assert html.forecast_parts({"forecast": body, "against_current": against}) == (body, against)
    assert html.forecast_parts({"forecast": body, "against_current": None}) == (body, None)
    assert html.forecast_parts(against) == (against["proposed"], against)
    assert html.forecast_parts(body) == (body, None)


def test_roles_and_workspaces(client, acme, rival, outputs):
    """Finance may not read reports nor auditors models; another workspace's rows are 404."""
    ids = add_rows(client, acme, outputs)
    denied = [("report", "finance"), ("model", "auditor")]
    for kind, role in denied:
        response = client.get(URLS[kind](ids[kind]), headers=acme[role])
        assert response.status_code == 403 and role in response.json["detail"]
    assert client.get(URLS["plan"](ids["plan"]), headers=acme["auditor"]).status_code == 200
    for kind, resource_id in ids.items():
        response = client.get(URLS[kind](resource_id), headers=rival["owner"])
        assert response.status_code == 404, kind
        assert response.content_type == "application/problem+json"
        assert client.get(URLS[kind](resource_id)).status_code == 401


@pytest.mark.parametrize("resource_id", ["rp_missing", "x" * 300, "a\tb"])
def test_unknown_ids_are_404(client, acme, resource_id):
    """Unknown, overlong and unprintable ids are 404 problems on every page."""
    for url in (URLS["report"](resource_id), URLS["model"](resource_id),
                URLS["plan"](resource_id)):
        response = client.get(url, headers=acme["owner"])
        assert response.status_code == 404 and response.content_type == "application/problem+json"


def test_unfinished_resources_are_409(client, acme, outputs):
    """A queued, running or failed report or model is a 409 problem naming its state."""
    for state in ("queued", "running", "failed"):
        ids = add_rows(client, acme, outputs, state=state)
        for kind in ("report", "model"):
            response = client.get(URLS[kind](ids[kind]), headers=acme["owner"])
            assert response.status_code == 409, (kind, state)
            assert response.content_type == "application/problem+json"
            assert repr(state) in response.json["detail"]


def test_openapi_declares_the_pages_as_html(client):
    """The three pages are in the OpenAPI document as text/html with their error statuses."""
    paths = client.get("/v1/openapi.json").json["paths"]
    for path in ("/v1/reports/{report_id}/html", "/v1/models/{model_id}/html",
                 "/v1/plans/{plan_id}/html"):
        responses = paths[path]["get"]["responses"]
        assert "text/html" in responses["200"]["content"]
        assert {"401", "403", "404"} <= set(responses)


def test_chart_svg_is_checked_and_escaped():
    """Matplotlib escapes channel names in its SVG; inline_svg drops them and refuses scripts."""
    results = html.attribution_results(attribution_result())
    raw = plot_comparison(results, "svg").decode("utf-8")
    assert HOSTILE not in raw and "&lt;script&gt;" in raw  # matplotlib's comments and text
    inline = str(html.inline_svg(raw.encode("utf-8")))
    assert inline.startswith("<svg") and "<!--" not in inline and "<script" not in inline
    assert f">{escape(HOSTILE, quote=False)}</text>" in inline  # the name, kept as text
    for active in ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                   '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
                   '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://x/y.png"/></svg>',
                   '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
                   '<image x:href="https://x/y.png"/></svg>'):
        with pytest.raises(ValueError, match="active or external"):
            html.inline_svg(active.encode("utf-8"))


@pytest.mark.parametrize("name", ["promo onsale=1", 'a href="x"', "tv <script src='y'"])
def test_names_that_look_like_markup_are_charted_as_text(name):
    """A channel name that reads like an attribute or a tag is only text in the chart."""
    frame = pd.read_csv(FIXTURES / "sample_paths.csv")
    frame["path"] = [p.replace("email", name) for p in frame["path"]]
    paths = PathTable.from_frame(frame, separator=" > ")
    result = make_model("linear").fit(paths).result
    root = ElementTree.fromstring(str(html.inline_svg(plot_comparison([result], "svg"))))
    texts = {"".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")}
    assert name in texts


def test_chart_names_with_dollars_are_drawn_as_written(client, acme, outputs):
    """The charts of the report, model and plan pages draw a name with $ signs as written."""
    ids = add_rows(client, acme, outputs)
    for kind, role in (("report", "auditor"), ("model", "finance"), ("plan", "finance")):
        with CHART_LOCK, matplotlib.rc_context({"svg.fonttype": "none"}):
            text = client.get(URLS[kind](ids[kind]), headers=acme[role]).get_data(as_text=True)
        root = ElementTree.fromstring(text[text.index("<svg"):text.index("</svg>") + 6])
        texts = ["".join(node.itertext()).strip()
                 for node in root.iter("{http://www.w3.org/2000/svg}text")]
        assert MATHTEXT in texts, kind


def test_rebuilt_results_keep_the_report_numbers():
    """Results rebuilt from a JSON report give back its shares and intervals."""
    payload = attribution_result()
    for entry, result in zip(payload, html.attribution_results(payload), strict=True):
        assert result.channels == tuple(c["channel"] for c in entry["channels"])
        np.testing.assert_allclose(result.share, [c["share"] for c in entry["channels"]],
                                   rtol=1e-12)
        assert result.intervals is not None
        assert [iv.share for iv in result.intervals.by_channel] == \
            [tuple(c["ci"]["share"]) for c in entry["channels"]]

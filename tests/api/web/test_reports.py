"""The attribution form, a report's page and its downloads, driven as a browser would."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from html import unescape
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from api import reports
from api.access import issue_key
from api.datasets import store_upload
from api.jobs import FAILED
from api.tables import AuditEvent, Job, Report, Workspace
from attribution.paths import PathTable
from attribution.requests import AttributionRequest
from tests.api.test_pages import Tables
from tests.api.web.conftest import FIXTURES, Browser, text_of, upload_fixtures

MODELS = ("last_touch", "linear", "markov")
#: Channels named with markup and as a spreadsheet formula (paths' separator ">" cannot be
#: part of a name).
HOSTILE = "<svg/onload=alert(1)"
FORMULA = "=HYPERLINK(1)"
#: Half the last digit shown (one decimal for conversions, none for shares and money), and a
#: little for the float error of an exact tie.
HALF_TENTH, HALF_UNIT = 0.05 + 1e-9, 0.5 + 1e-9
HOSTILE_PATHS = (f"path,conversions,nulls,value\n{HOSTILE} > search,30,70,900\n"
                 f"search,20,80,800\n{FORMULA} > {HOSTILE},10,40,300\nsearch > {FORMULA},5,5,50\n")


def form(dataset_id: str, models: tuple[str, ...] = MODELS, **settings: str) -> dict[str, Any]:
    """The attribution form as a browser sends it, with the page's default settings."""
    defaults = AttributionRequest.build().settings
    sent: dict[str, Any] = {
        "dataset": dataset_id, "models": list(models), "order": str(defaults.order),
        "shapley_value": defaults.shapley_value, "min_support": str(defaults.min_support),
        "position_first": str(defaults.position_weights[0]),
        "position_last": str(defaults.position_weights[1]),
        "half_life_days": str(defaults.half_life_days),
        "half_life_touches": str(defaults.half_life_touches),
        "bootstrap": str(defaults.bootstrap), "bootstrap_method": defaults.bootstrap_method,
        "ci_level": str(defaults.ci_level), "seed": str(defaults.seed)}
    sent.update(settings)
    return sent


def upload_paths(browser: Browser, body: bytes, name: str = "journeys") -> str:
    """Store ``body`` as a paths dataset of the workspace, as an owner's upload would."""
    services = browser.services
    with services.sessions.begin() as session:
        space = session.get(Workspace, browser.workspace_id)
        owner, _ = issue_key(session, "owner", space.id, "fixture owner")
        session.flush()
        return store_upload(session, services.store, space, "paths", name, body, "text/csv",
                            owner.id).id


def stored(browser: Browser, report_id: str) -> Report:
    """The report row ``report_id``, detached."""
    with browser.services.sessions() as session:
        row = session.get(Report, report_id)
        assert row is not None
        session.expunge(row)
        return row


def create(browser: Browser, data: dict[str, Any]) -> str:
    """Send the attribution form; the id of the report it redirects to."""
    response = browser.post("/reports/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return str(response.headers["Location"].rsplit("/", 1)[1])


def numbers(cell: str) -> list[float]:
    """The numbers of a table cell as shown: ``1,234.5 [1,200.0 – 1,270.3]`` or ``41.2%``."""
    return [float(n.replace(",", "")) for n in re.findall(r"-?[\d,]+(?:\.\d+)?", cell)]


# -- the form -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "buyer", "auditor"])
def test_the_form_offers_paths_models_and_the_request_defaults(browser: Browser,
                                                               role: str) -> None:
    """The form lists paths datasets, every model and the request's default settings."""
    ids = upload_fixtures(browser.client.application, ("paths", "spend"))
    browser.sign_in(role)
    page = browser.page(f"/reports/new?dataset={ids['paths']}")
    assert f'<option value="{ids["paths"]}" selected>' in page
    assert ids["spend"] not in page  # spend is no paths dataset
    for name in ("first_touch", "last_touch", "linear", "position_based", "time_decay",
                 "markov", "shapley"):
        assert f'id="model-{name}" name="models" value="{name}"' in page
    assert 'value="markov" checked' in page and 'value="linear" checked' not in page
    defaults = AttributionRequest.build().settings
    for name, value in (("seed", defaults.seed), ("ci_level", defaults.ci_level),
                        ("bootstrap", defaults.bootstrap),
                        ("half_life_days", defaults.half_life_days),
                        ("position_first", defaults.position_weights[0])):
        assert f'name="{name}" value="{value}"' in page, name
    assert f'<option value="{defaults.order}" selected>' in page


def test_finance_may_not_attribute(browser: Browser) -> None:
    """Finance gets 403 on the form, on a report and on its downloads."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    owner = Browser(browser.client.application.test_client(), browser.workspace_id)
    owner.sign_in("owner")
    report_id = create(owner, form(ids["paths"], ("linear",)))
    browser.sign_in("finance")
    assert browser.get("/reports/new").status_code == 403
    assert browser.post("/reports/new", form(ids["paths"])).status_code == 403
    for url in (f"/reports/{report_id}", f"/reports/{report_id}/comparison.csv",
                f"/reports/{report_id}/credit.csv"):
        assert browser.get(url).status_code == 403, url
    assert "/reports/new" not in browser.page("/")


def test_an_auditor_attributes_but_does_not_upload(browser: Browser) -> None:
    """An auditor creates a report from the form, audited under its key, but cannot upload."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("auditor")
    assert browser.get("/datasets/upload").status_code == 403
    report_id = create(browser, form(ids["paths"], bootstrap="20", seed="3"))
    row = stored(browser, report_id)
    expected = AttributionRequest.build(models=list(MODELS), settings={"bootstrap": 20,
                                                                       "seed": 3})
    assert row.state == "succeeded" and row.created_by == browser.key_id
    assert row.parameters == {"dataset": ids["paths"], **expected.canonical()}
    paths = PathTable.read(FIXTURES / "sample_paths.csv")
    assert row.result == reports.attribute(paths, expected)  # the JSON API's computation
    with browser.services.sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report.create")).one()
    assert event.resource_id == report_id and event.key_id == browser.key_id
    assert f'href="/reports/{report_id}"' in browser.page("/")  # listed on the home page


def test_a_refused_form_keeps_its_values_and_names_the_fields(browser: Browser) -> None:
    """Bad settings come back (422) with each message beside its field; nothing stored."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("buyer")
    response = browser.post("/reports/new", form(ids["paths"], (), order="9", bootstrap="1",
                                                 seed="4711", position_first="0.7",
                                                 position_last="0.6"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field, words in (("models", "Choose at least one model."),
                         ("order", "must be an integer from 1 to 5 or 'auto', got 9"),
                         ("bootstrap", "must be 0 (no intervals) or from 2 to 1000"),
                         ("position_weights", "must add up to at most 1")):
        shown = re.search(rf'<p class="field-error" id="{field}-error" role="alert">(.*?)</p>',
                          page, re.S)
        assert shown is not None and words in unescape(shown.group(1)), field
    assert 'name="seed" value="4711"' in page and 'aria-invalid="true"' in page
    with browser.services.sessions() as session:
        assert session.scalars(select(Report)).first() is None
    spend = upload_fixtures(browser.client.application, ("spend",))["spend"]
    wrong = browser.post("/reports/new", form(spend))
    assert wrong.status_code == 422 and 'id="dataset-error"' in wrong.get_data(as_text=True)


# -- the report page ------------------------------------------------------------------------------


def test_the_comparison_shows_the_stored_numbers(browser: Browser) -> None:
    """Every cell of the comparison equals the stored model JSON, intervals and totals too."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("buyer")
    report_id = create(browser, form(ids["paths"], bootstrap="20"))
    models = stored(browser, report_id).result
    assert models is not None
    tables = Tables(browser.page(f"/reports/{report_id}"))
    conversions = tables.rows("comparison-conversions")
    values = tables.rows("comparison-value")
    for index, model in enumerate(models):
        for channel in model["channels"]:
            name, ci = channel["channel"], channel["ci"]
            count, share, *interval = numbers(conversions[name][index])
            assert [count, *interval] == pytest.approx([channel["conversions"],
                                                        *ci["conversions"]], abs=HALF_TENTH)
            assert share == pytest.approx(100 * channel["share"], abs=HALF_UNIT)
            assert numbers(values[name][index]) == pytest.approx(
                [channel["value"], *ci["value"]], abs=HALF_UNIT)
        total = sum(c["conversions"] for c in model["channels"])
        assert numbers(conversions["Total"][index]) == pytest.approx([total, 100],
                                                                     abs=HALF_TENTH)
        assert numbers(values["Total"][index]) == pytest.approx(
            [sum(c["value"] for c in model["channels"])], abs=HALF_UNIT)
    assert set(conversions) == {c["channel"] for c in models[0]["channels"]} | {"Channel",
                                                                               "Total"}


def test_sentences_say_what_each_model_credits(browser: Browser) -> None:
    """One sentence per model names its top channel, and the widest disagreement is named."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("owner")
    report_id = create(browser, form(ids["paths"], ("first_touch", "last_touch", "markov")))
    models = stored(browser, report_id).result
    assert models is not None
    text = text_of(browser.page(f"/reports/{report_id}"))
    top = {m["model"]: max(m["channels"], key=lambda c: c["share"]) for m in models}
    last = top["last_touch"]
    assert (f"Last touch gives all credit to the channel that closed the journey: "
            f"{last['channel']} gets {100 * last['share']:.0f}% of conversions.") in text
    assert f"First touch gives all credit to the channel that started the journey: " \
        f"{top['first_touch']['channel']} gets" in text
    assert f"Markov chain credits the conversions that would be lost without a channel: " \
        f"{top['markov']['channel']} gets the most" in text
    shares: dict[str, list[float]] = defaultdict(list)
    for model in models:
        for channel in model["channels"]:
            shares[channel["channel"]].append(channel["share"])
    widest = max(shares, key=lambda c: max(shares[c]) - min(shares[c]))
    assert f"The models disagree most on {widest}: {100 * min(shares[widest]):.0f}% of " \
        "conversions under" in text
    assert "How to read this" in text and text.count("<svg") == 0  # text_of drops the chart
    assert browser.page(f"/reports/{report_id}").count("<svg") == 1


def test_downloads_parse_and_add_up(browser: Browser) -> None:
    """The comparison CSV and the per-journey credit CSV sum to the stored totals."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("auditor")
    report_id = create(browser, form(ids["paths"], bootstrap="10"))
    models = stored(browser, report_id).result
    assert models is not None
    response = browser.get(f"/reports/{report_id}/comparison.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    comparison = pd.read_csv(io.StringIO(response.get_data(as_text=True)))
    for model in models:
        name = model["model"]
        assert comparison[f"{name}_conversions"].sum() == pytest.approx(
            model["total_conversions"], rel=1e-12)
        assert comparison[f"{name}_value"].sum() == pytest.approx(model["total_value"],
                                                                  rel=1e-12)
        assert comparison[f"{name}_share"].sum() == pytest.approx(1.0, rel=1e-12)
        first = model["channels"][0]
        row = comparison[comparison["channel"] == first["channel"]].iloc[0]
        assert [row[f"{name}_conversions_low"], row[f"{name}_conversions_high"]] == \
            pytest.approx(first["ci"]["conversions"], rel=1e-12)
    credit = browser.get(f"/reports/{report_id}/credit.csv")
    assert credit.status_code == 200 and credit.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(credit.get_data(as_text=True))))
    assert list(rows[0]) == ["model", "journey", "channel", "conversions", "value"]
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        sums[(row["model"], row["channel"])] += float(row["conversions"])
    for model in models:
        for channel in model["channels"]:
            assert sums[(model["model"], channel["channel"])] == pytest.approx(
                channel["conversions"], rel=1e-9, abs=1e-9)
        assert sum(v for (m, _c), v in sums.items() if m == model["model"]) == pytest.approx(
            model["total_conversions"], rel=1e-9)


def test_hostile_names_are_escaped_and_formulas_neutralised(browser: Browser) -> None:
    """Markup in channel names is shown as text; a formula is quoted in both CSVs."""
    dataset = upload_paths(browser, HOSTILE_PATHS.encode(), name="<b>bold</b>")
    browser.sign_in("owner")
    report_id = create(browser, form(dataset, ("linear", "last_touch")))
    page = browser.page(f"/reports/{report_id}")
    assert HOSTILE not in page and "&lt;svg/onload=alert(1)" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    for url in (f"/reports/{report_id}/comparison.csv", f"/reports/{report_id}/credit.csv"):
        text = browser.get(url).get_data(as_text=True)
        assert f"'{FORMULA}" in text and f",{FORMULA}" not in text and f"\n{FORMULA}" not in text


def test_a_queued_report_shows_progress_then_its_result(browser: Browser,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A large report is a job: its page refreshes with live progress until it is done."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    monkeypatch.setattr(reports, "INLINE_COST_LIMIT", 0)
    browser.sign_in("buyer")
    report_id = create(browser, form(ids["paths"], ("linear",)))
    row = stored(browser, report_id)
    assert row.state == "queued" and row.job_id is not None
    page = browser.page(f"/reports/{report_id}")
    assert f'data-job="{row.job_id}"' in page and 'http-equiv="refresh"' in page
    assert "comparison-conversions" not in page
    assert browser.services.worker().run_one()
    done = browser.page(f"/reports/{report_id}")
    assert "comparison-conversions" in done and 'http-equiv="refresh"' not in done


def test_a_failed_report_says_why(browser: Browser) -> None:
    """A failed report shows its job's reason and offers to start again."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    with browser.services.sessions.begin() as session:
        job = Job(workspace_id=browser.workspace_id, kind="attribution", target_id="rp_x",
                  state=FAILED, error="row 3: path is empty")
        session.add(job)
        session.flush()
        row = Report(workspace_id=browser.workspace_id, dataset_id=ids["paths"],
                     parameters={"dataset": ids["paths"], "models": ["linear"], "settings": {}},
                     state=FAILED, fingerprint="f" * 64, version="0.1.0", created_by="k",
                     job_id=job.id)
        session.add(row)
        session.flush()
        report_id = row.id
    browser.sign_in("owner")
    text = text_of(browser.page(f"/reports/{report_id}"))
    assert "This report failed: row 3: path is empty" in text
    assert browser.get(f"/reports/{report_id}/comparison.csv").status_code == 409


def test_credit_needs_the_dataset(browser: Browser) -> None:
    """Once the dataset is deleted the report stays, but its per-journey credit is gone."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("owner")
    report_id = create(browser, form(ids["paths"], ("linear",)))
    assert browser.post(f"/datasets/{ids['paths']}/delete").status_code == 303
    page = text_of(browser.page(f"/reports/{report_id}"))
    assert "the dataset of this report was deleted" in page
    assert browser.get(f"/reports/{report_id}/credit.csv").status_code == 409
    assert browser.get(f"/reports/{report_id}/comparison.csv").status_code == 200


def test_reports_of_other_workspaces_are_not_found(browser: Browser) -> None:
    """An unknown id or one of another workspace is a 404 page."""
    browser.sign_in("owner")
    for report_id in ("rp_" + "0" * 32, "x" * 300, "a b"):
        assert browser.get(f"/reports/{report_id}").status_code == 404


def test_the_report_in_chinese(browser: Browser) -> None:
    """With a Chinese browser the form and the report are in Chinese, numbers included."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("owner")
    chinese = {"Accept-Language": "zh-CN"}
    assert "比较归因模型" in text_of(browser.page("/reports/new", headers=chinese))
    report_id = create(browser, form(ids["paths"], ("last_touch",)))
    models = stored(browser, report_id).result
    assert models is not None
    top = max(models[0]["channels"], key=lambda c: c["share"])
    html = browser.page(f"/reports/{report_id}", headers=chinese)
    text = text_of(html)
    chart_text = " ".join(re.findall(r"<text\b[^>]*>([^<]*)</text>", html))
    assert "转化占比（%）" in chart_text and "share of conversions" not in chart_text
    assert f"末次触点把全部功劳归于促成转化的最后一个渠道：{top['channel']} 获得 " \
        f"{100 * top['share']:.0f}% 的转化。" in text
    assert "模型并排对比" in text and "Models side by side" not in text

"""The workspace home: what the workspace holds, its state, who made it and what to do next."""

from __future__ import annotations

import json

from api import jobs
from api.tables import Report
from tests.api.web.conftest import Browser, text_of, upload_fixtures


def _queued_report(browser: Browser, dataset_id: str) -> tuple[str, str]:
    """A queued report with its job; ``(report id, job id)``."""
    with browser.services.sessions.begin() as session:
        row = Report(workspace_id=browser.workspace_id, dataset_id=dataset_id,
                     parameters={"models": ["markov", "linear"]}, state=jobs.QUEUED,
                     result=None, fingerprint="f" * 64, version="0.1.0", created_by="kx")
        session.add(row)
        session.flush()
        row.job_id = jobs.enqueue(session, browser.workspace_id, "attribution", row.id).id
        return row.id, row.job_id


def test_an_empty_workspace_says_to_upload_first(browser: Browser) -> None:
    """With nothing in it, the home page of an owner points to the upload page."""
    browser.sign_in("owner")
    page = text_of(browser.page("/"))
    assert "What to do next" in page and "Upload customer journeys" in page
    assert page.count("None yet.") == 5


def test_rows_show_their_kind_size_creator_and_state(browser: Browser) -> None:
    """Datasets read as name, kind and rows; a queued report shows live progress."""
    ids = upload_fixtures(browser.client.application, ("paths", "spend"))
    _queued_report(browser, ids["paths"])
    browser.sign_in("buyer")
    html = browser.page("/")
    page = text_of(html)
    assert "sample_paths.csv · journey paths · 3,584 rows" in page
    assert "media_spend.csv · spend · 691 rows" in page
    assert "fixture owner (owner)" in page
    assert "markov, linear on sample_paths.csv" in page and "queued" in page
    assert 'data-job="jb_' in html and '<meta http-equiv="refresh" content="5">' in html
    assert "Compare attribution models" not in page  # a report exists already


def test_job_progress_is_json_for_roles_that_read_its_target(browser: Browser) -> None:
    """``/jobs/<id>/progress`` answers the job's JSON, and 404 to roles that may not read it."""
    ids = upload_fixtures(browser.client.application, ("paths",))
    _, job_id = _queued_report(browser, ids["paths"])
    browser.sign_in("auditor")
    answer = browser.get(f"/jobs/{job_id}/progress")
    assert answer.status_code == 200
    body = json.loads(answer.data)
    assert body["state"] == "queued" and body["progress"] == 0.0 and body["kind"] == "attribution"
    finance = Browser(browser.client.application.test_client(), browser.workspace_id)
    finance.sign_in("finance")
    assert finance.get(f"/jobs/{job_id}/progress").status_code == 404
    assert browser.get("/jobs/jb_nope/progress").status_code == 404


def test_each_role_sees_only_what_it_may_read(browser: Browser) -> None:
    """Finance sees no datasets or reports; the auditor sees no models."""
    upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("finance")
    page = text_of(browser.page("/"))
    assert "Datasets" not in page and "Attribution reports" not in page
    assert "Budget plans" in page and "Upload" not in page
    auditor = Browser(browser.client.application.test_client(), browser.workspace_id)
    auditor.sign_in("auditor")
    page = text_of(auditor.page("/"))
    assert "Response models" not in page and "sample_paths.csv" in page


def test_home_in_chinese(browser: Browser) -> None:
    """The home page and its numbers read in Chinese."""
    upload_fixtures(browser.client.application, ("paths",))
    browser.sign_in("owner")
    page = text_of(browser.page("/", headers={"Accept-Language": "zh-CN"}))
    assert "数据集" in page and "转化路径" in page and "3,584 行" in page

"""The audit trail page, and the keys, sign-in links and currency page of owners."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.tables import ApiKey, AuditEvent, Workspace
from tests.api.web.conftest import Browser, text_of


def test_owner_makes_a_sign_in_link_that_works_once(browser: Browser) -> None:
    """A link made on the keys page signs a new browser in with its role, once."""
    browser.sign_in("owner")
    response = browser.post("/links", {"role": "finance"})
    assert response.status_code == 201
    link = re.search(r'<code id="new-link">([^<]+)</code>', response.get_data(as_text=True))
    assert link is not None and "works once, within 15 minutes" in \
        text_of(response.get_data(as_text=True))
    path = link.group(1).removeprefix("http://localhost")
    other = Browser(browser.client.application.test_client(), browser.workspace_id)
    assert other.get(path).status_code == 303
    assert "finance" in text_of(other.page("/"))
    third = Browser(browser.client.application.test_client(), browser.workspace_id)
    assert third.get(path).status_code == 401


def test_owner_makes_and_revokes_a_key(browser: Browser) -> None:
    """A new key is shown once and works on the API; revoking it is recorded."""
    browser.sign_in("owner")
    made = browser.post("/keys", {"role": "buyer", "label": "agency <b>x</b>",
                                  "expires_in_days": "30"})
    html = made.get_data(as_text=True)
    assert made.status_code == 201 and "agency &lt;b&gt;x&lt;/b&gt;" in html
    key = re.search(r'<code id="new-key">(sw_k[0-9a-f]{16}_[^<]+)</code>', html)
    assert key is not None
    auth = {"Authorization": f"Bearer {key.group(1)}"}
    assert browser.get("/v1/workspaces/current", headers=auth).status_code == 200
    key_id = key.group(1).split("_")[1]
    assert key.group(1) not in browser.page("/keys")  # shown once only
    revoked = browser.post(f"/keys/{key_id}/revoke")
    assert revoked.status_code == 200 and "revoked" in revoked.get_data(as_text=True)
    assert browser.get("/v1/workspaces/current", headers=auth).status_code == 401
    refused = browser.post("/keys", {"role": "king", "label": "x"})
    assert refused.status_code == 422 and 'id="role-error"' in refused.get_data(as_text=True)
    days = browser.post("/keys", {"role": "buyer", "expires_in_days": "0"})
    assert days.status_code == 422 and 'id="expires_in_days-error"' in \
        days.get_data(as_text=True)


def test_owner_cannot_revoke_the_key_of_its_own_browser(browser: Browser) -> None:
    """Revoking the key one is signed in with is refused with a reason."""
    browser.sign_in("owner")
    response = browser.post(f"/keys/{browser.key_id}/revoke")
    assert response.status_code == 422 and "cannot revoke the key you are signed in with" in \
        text_of(response.get_data(as_text=True))
    assert browser.post("/keys/k0000000000000000/revoke").status_code == 404


def test_currency_is_set_once_and_shown_everywhere(browser: Browser) -> None:
    """The owner sets CNY; the header and the JSON API show it; a bad code is refused."""
    browser.sign_in("owner")
    assert browser.post("/workspace/currency", {"currency": "CNY"}).status_code == 200
    assert "acme · CNY" in text_of(browser.page("/"))
    with browser.services.sessions() as session:
        assert session.get(Workspace, browser.workspace_id).currency == "CNY"
    bad = browser.post("/workspace/currency", {"currency": "XYZ"})
    assert bad.status_code == 422 and "ISO 4217" in text_of(bad.get_data(as_text=True))


@pytest.mark.parametrize("role", ["buyer", "auditor", "finance"])
def test_only_owners_see_keys(browser: Browser, role: str) -> None:
    """Other roles get 403 on the keys page and its forms, and no link to it."""
    browser.sign_in(role)
    assert "Keys and links" not in browser.page("/")
    assert browser.get("/keys").status_code == 403
    assert browser.post("/links", {"role": "owner"}).status_code == 403
    assert browser.post("/workspace/currency", {"currency": "EUR"}).status_code == 403


def trail(html: str) -> str:
    """The text of the audit table of a page (empty when it has none)."""
    found = re.search(r'<table id="audit">.*?</table>', html, flags=re.S)
    return text_of(found.group()) if found else ""


def test_audit_trail_filters(browser: Browser) -> None:
    """The trail lists sign-ins and sign-outs in words, and each filter narrows it."""
    owner = Browser(browser.client.application.test_client(), browser.workspace_id)
    owner.sign_in("owner")
    assert owner.post("/signout").status_code == 303
    browser.sign_in("auditor")
    everything = trail(browser.page("/audit"))
    assert everything.count("signed in") == 2 and everything.count("signed out") == 1
    assert "(auditor)" in everything and "(owner)" in everything
    outs = trail(browser.page("/audit?action=session.end"))
    assert "signed out" in outs and "signed in" not in outs
    mine = trail(browser.page(f"/audit?key={browser.key_id}"))
    assert "signed in" in mine and "(owner)" not in mine
    assert trail(browser.page("/audit?resource=dataset")) == ""
    assert "No event matches" in text_of(browser.page("/audit?since=2999-01-01"))
    bad = browser.get("/audit?since=yesterday")
    assert bad.status_code == 422 and 'id="since-error"' in bad.get_data(as_text=True)


def test_audit_trail_pages(browser: Browser) -> None:
    """More than a page of events is split, and the next page continues where it stopped."""
    browser.sign_in("owner")
    with browser.services.sessions.begin() as session:
        for _ in range(60):
            session.add(AuditEvent(workspace_id=browser.workspace_id, key_id=browser.key_id,
                                   role="owner", action="report.create",
                                   resource_type="report", parameters={}))
    first = browser.page("/audit?action=report.create")
    assert trail(first).count("ran an attribution report") == 50
    older = re.search(r'href="(/audit\?before=\d+[^"]*)"', first)
    assert older is not None
    second = browser.page(older.group(1).replace("&amp;", "&"))
    assert trail(second).count("ran an attribution report") == 10


def test_finance_cannot_read_the_audit_trail(browser: Browser) -> None:
    """The role table refuses the trail to finance, on the page as on the API."""
    browser.sign_in("finance")
    assert browser.get("/audit").status_code == 403


def test_api_sets_and_shows_the_currency(browser: Browser) -> None:
    """``PATCH /v1/workspaces/current`` sets the currency for owners only."""
    from api.access import issue_key

    with browser.services.sessions.begin() as session:
        _, owner = issue_key(session, "owner", browser.workspace_id, "o")
        _, buyer = issue_key(session, "buyer", browser.workspace_id, "b")
    client: Any = browser.client
    response = client.patch("/v1/workspaces/current", json={"currency": "EUR"},
                            headers={"Authorization": f"Bearer {owner}"})
    assert response.status_code == 200 and response.json["currency"] == "EUR"
    assert client.patch("/v1/workspaces/current", json={"currency": "EUR"},
                        headers={"Authorization": f"Bearer {buyer}"}).status_code == 403
    bad = client.patch("/v1/workspaces/current", json={"currency": "eur"},
                       headers={"Authorization": f"Bearer {owner}"})
    assert bad.status_code == 422 and "currency" in bad.json["detail"]
    with browser.services.sessions() as session:
        assert session.query(ApiKey).count() >= 2


@pytest.mark.parametrize("query", ["before=²", "before=99999999999999999999", "until=9999-12-31",
                                   "since=0001-01-01", "key=%00", "action=x%00y",
                                   "resource=" + "r" * 5000])
def test_hostile_audit_filters_never_fail(browser: Browser, query: str) -> None:
    """Odd digits, dates at the calendar's end and control characters are refused or
    ignored, never a server error."""
    browser.sign_in("owner")
    assert browser.get(f"/audit?{query}").status_code in (200, 400, 422)


@pytest.mark.parametrize("days", ["²", "1e3", "-1", "99999999999999999999", "3.5"])
def test_hostile_key_expiry_is_a_field_error(browser: Browser, days: str) -> None:
    """An expiry that is not a sensible whole number of days is shown beside its field."""
    browser.sign_in("owner")
    response = browser.post("/keys", {"role": "buyer", "expires_in_days": days})
    assert response.status_code == 422
    assert 'id="expires_in_days-error"' in response.get_data(as_text=True)

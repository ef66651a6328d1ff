"""The upload forms, the journeys form and a dataset's page, driven as a browser would."""

from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from api.access import issue_key
from api.datasets import KINDS, prepare, store_upload
from api.tables import AuditEvent, Dataset, Workspace
from api.web.datasets import FORMATS, form_number
from tests.api.test_pages import HOSTILE, Tables
from tests.api.web.conftest import FIXTURES, Browser, text_of, upload_fixtures

BAD_PATHS = "path,conversions,nulls\nsearch,1,2\nemail,x,3\n"
#: A channel named with markup (paths' separator ">" cannot be part of a name).
CHANNEL = "<svg/onload=alert(1)"
#: Fixture files of the kinds that name people.
PEOPLE = {"touches": "sample_touches.csv", "conversions": "sample_conversions.csv"}


def send(browser: Browser, kind: str, body: bytes, filename: str, name: str = "",
         **kwargs: Any) -> Any:
    """Post the upload form of ``kind`` with ``body`` as its file."""
    return browser.post("/datasets/upload", {"kind": kind, "name": name,
                                             "file": (io.BytesIO(body), filename)},
                        content_type="multipart/form-data", **kwargs)


def count(browser: Browser, model: Any = Dataset) -> int:
    """Rows of ``model`` in the database."""
    with browser.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def row_of(browser: Browser, dataset_id: str) -> Dataset | None:
    """The dataset row ``dataset_id``, detached."""
    with browser.services.sessions() as session:
        row = session.get(Dataset, dataset_id)
        if row is not None:
            session.expunge(row)
        return row


def upload_people(browser: Browser, kinds: tuple[str, ...] = tuple(PEOPLE)) -> dict[str, str]:
    """Upload the touches and conversions fixtures as an owner would; ``kind -> id``."""
    services = browser.services
    ids = {}
    with services.sessions.begin() as session:
        space = session.get(Workspace, browser.workspace_id)
        owner, _ = issue_key(session, "owner", space.id, "fixture owner")
        session.flush()
        for kind in kinds:
            row = store_upload(session, services.store, space, kind, PEOPLE[kind],
                               (FIXTURES / PEOPLE[kind]).read_bytes(), "text/csv", owner.id)
            ids[kind] = row.id
    return ids


def example_csv(kind: str) -> bytes:
    """The example rows the upload page shows for ``kind``, as a CSV file."""
    columns, sample = FORMATS[kind]
    lines = [",".join(c for c, _ in columns), *(",".join(r) for r in sample)]
    return ("\n".join(lines) + "\n").encode()


# -- the upload page ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_is_a_file_the_readers_accept(kind: str) -> None:
    """The example rows shown for each kind, saved as CSV, pass that kind's reader."""
    ready = prepare(kind, example_csv(kind), "text/csv", "secret")
    assert len(ready.frame) == len(FORMATS[kind][1])


def test_the_upload_page_shows_each_kind_with_its_columns(browser: Browser) -> None:
    """An owner sees one form per kind, each with its columns and example rows."""
    browser.sign_in("owner")
    page = browser.page("/datasets/upload")
    tables = Tables(page)
    for kind in KINDS:
        columns, sample = FORMATS[kind]
        rows = tables.tables[f"example-{kind}"]
        assert [cell.split(" ")[0] for cell in rows[0]] == [c for c, _ in columns]
        assert [tuple(r) for r in rows[1:]] == list(sample)
        assert f'id="{kind}-file"' in page and f'for="{kind}-file"' in page
        assert f'<input type="hidden" name="kind" value="{kind}">' in page
    assert page.count('enctype="multipart/form-data"') == len(KINDS)
    assert "journeys-touches" not in page  # no touches nor conversions yet


@pytest.mark.parametrize("role", ["buyer", "auditor", "finance"])
def test_only_owners_upload(browser: Browser, role: str) -> None:
    """Other roles get 403 on the page and the form, and nothing is stored."""
    browser.sign_in(role)
    assert browser.get("/datasets/upload").status_code == 403
    response = send(browser, "paths", (FIXTURES / "sample_paths.csv").read_bytes(), "p.csv")
    assert response.status_code == 403 and count(browser) == 0
    assert "/datasets/upload" not in browser.page("/")  # no link to it either


def test_an_upload_is_stored_and_shown_in_words(browser: Browser) -> None:
    """Paths sent through the form become a dataset whose page states its totals."""
    browser.sign_in("owner")
    data = (FIXTURES / "sample_paths.csv").read_bytes()
    response = send(browser, "paths", data, "sample_paths.csv", name="spring journeys")
    assert response.status_code == 303
    dataset_id = response.headers["Location"].rsplit("/", 1)[1]
    row = row_of(browser, dataset_id)
    assert row is not None and row.kind == "paths" and row.name == "spring journeys"
    frame = pd.read_csv(io.BytesIO(data))
    text = text_of(browser.page(response.headers["Location"]))
    journeys = int(frame["conversions"].sum() + frame["nulls"].sum())
    assert f"{journeys:,} journeys, of which {int(frame['conversions'].sum()):,} converted, " \
        f"worth ${frame['value'].sum():,.0f}." in text
    channels = sorted({c.strip() for p in frame["path"] for c in p.split(">")})
    assert f"{len(channels)} channels: {', '.join(channels)}." in text
    assert "Compare attribution models on these journeys." in text
    assert f'href="/reports/new?dataset={dataset_id}"' in browser.page(f"/datasets/{dataset_id}")
    assert f'href="/datasets/{dataset_id}"' in browser.page("/")  # listed on the home page
    with browser.services.sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "dataset.upload")).one()
        assert event.resource_id == dataset_id and event.key_id == browser.key_id


def test_the_name_defaults_to_the_file_name(browser: Browser) -> None:
    """An empty name takes the file's name."""
    browser.sign_in("owner")
    response = send(browser, "spend", (FIXTURES / "media_spend.csv").read_bytes(), "spend.csv")
    row = row_of(browser, response.headers["Location"].rsplit("/", 1)[1])
    assert row is not None and row.name == "spend.csv"


def test_a_refused_file_names_row_and_column_beside_the_field(browser: Browser) -> None:
    """A bad cell is a 422 with the reader's message beside the file field; nothing stored."""
    browser.sign_in("owner")
    response = send(browser, "paths", BAD_PATHS.encode(), "bad.csv", name="typed name")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = re.search(r'<p class="field-error" id="paths-file-error" role="alert">(.*?)</p>',
                        page)
    assert message is not None and "row 2: conversions is not a number" in message.group(1)
    assert 'aria-describedby="paths-file-error"' in page
    assert 'id="paths-name" name="name" maxlength="200" value="typed name"' in page
    assert "spend-file-error" not in page  # only the refused form shows it
    assert count(browser) == 0 and count(browser, AuditEvent) == 1  # the sign-in only


@pytest.mark.parametrize(("filename", "body", "message"), [
    ("", b"", "Choose a CSV or Parquet file."),
    ("paths.xlsx", b"PK\x03\x04", "The file must end in .csv or .parquet."),
    ("empty.csv", b"", "the upload is empty"),
])
def test_missing_or_foreign_files_are_refused(browser: Browser, filename: str, body: bytes,
                                             message: str) -> None:
    """No file, another format or an empty file is a message beside the field."""
    browser.sign_in("owner")
    response = send(browser, "touches", body, filename)
    assert response.status_code == 422
    assert message in text_of(response.get_data(as_text=True))
    assert 'id="touches-file-error"' in response.get_data(as_text=True)
    assert count(browser) == 0


def test_a_name_with_control_characters_is_refused(browser: Browser) -> None:
    """The name obeys the API's rule: printable text only."""
    browser.sign_in("owner")
    response = send(browser, "paths", (FIXTURES / "sample_paths.csv").read_bytes(), "p.csv",
                    name="a\x07b")
    assert response.status_code == 422 and 'id="paths-name-error"' in \
        response.get_data(as_text=True)
    assert count(browser) == 0


def test_touches_stay_in_memory_and_are_pseudonymised(browser: Browser,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The form's file never reaches a temporary file, and no raw user id is stored."""
    import werkzeug.formparser

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", refuse)
    browser.sign_in("owner")
    data = (FIXTURES / "sample_touches.csv").read_bytes()
    response = send(browser, "touches", data, "touches.csv")
    assert response.status_code == 303
    row = row_of(browser, response.headers["Location"].rsplit("/", 1)[1])
    assert row is not None
    stored = pd.read_parquet(io.BytesIO(browser.services.store.get(row.artifact)))
    raw = set(pd.read_csv(FIXTURES / "sample_touches.csv")["user_id"])
    assert not raw & set(stored["user_id"]) and len(set(stored["user_id"])) == len(raw)


def test_forms_without_their_token_store_nothing(browser: Browser) -> None:
    """An upload posted without the session's CSRF token is refused."""
    browser.sign_in("owner")
    response = browser.post("/datasets/upload", {"kind": "paths", "file": (
        io.BytesIO(b"path,conversions,nulls\na,1,1\n"), "p.csv")}, csrf=False,
        content_type="multipart/form-data")
    assert response.status_code == 403 and count(browser) == 0


# -- journeys -------------------------------------------------------------------------------------


def test_journeys_are_built_from_the_form(browser: Browser) -> None:
    """With touches and conversions, the journeys form builds a paths dataset from them."""
    ids = upload_people(browser)
    browser.sign_in("owner")
    page = browser.page("/datasets/upload")
    assert 'id="journeys-touches"' in page and 'value="30.0"' in page  # the request's default
    refused = browser.post("/datasets/journeys", {
        "touches": ids["touches"], "conversions": ids["conversions"], "lookback_days": "0",
        "separator": " > ", "name": "spring"})
    assert refused.status_code == 422
    assert 'id="journeys-lookback_days-error"' in refused.get_data(as_text=True)
    wrong = browser.post("/datasets/journeys", {
        "touches": ids["conversions"], "conversions": ids["conversions"], "lookback_days": "30",
        "separator": " > ", "name": "spring"})
    assert wrong.status_code == 422
    assert "expected a touches dataset" in wrong.get_data(as_text=True)
    unknown = browser.post("/datasets/journeys", {
        "touches": "ds_" + "0" * 32, "conversions": ids["conversions"], "lookback_days": "30",
        "separator": " > ", "name": "spring"})
    assert unknown.status_code == 422 and re.search(
        r'id="journeys-touches-error" role="alert">Choose a dataset of this workspace.',
        unknown.get_data(as_text=True))
    assert count(browser) == 2
    response = browser.post("/datasets/journeys", {
        "touches": ids["touches"], "conversions": ids["conversions"], "lookback_days": "30",
        "separator": " > ", "name": "spring"})
    assert response.status_code == 303
    row = row_of(browser, response.headers["Location"].rsplit("/", 1)[1])
    assert row is not None and row.kind == "paths" and row.derived_from == \
        [ids["touches"], ids["conversions"]]
    conversions = len(pd.read_csv(FIXTURES / "sample_conversions.csv"))
    builder = row.summary["journey_builder"]
    text = text_of(browser.page(f"/datasets/{row.id}"))
    converted = conversions - builder["conversions_without_touches"]
    assert f"of which {converted:,} converted" in text
    assert f"{builder['conversions_without_touches']:,} conversions had no touch" in text


def test_touches_need_their_conversions_for_the_journeys_form(browser: Browser) -> None:
    """Touches alone offer no journeys form; their page points to building journeys."""
    ids = upload_people(browser, ("touches",))
    browser.sign_in("owner")
    assert 'id="journeys-touches"' not in browser.page("/datasets/upload")
    assert "Build journeys from touches and conversions." in \
        text_of(browser.page(f"/datasets/{ids['touches']}"))


# -- a dataset's page -----------------------------------------------------------------------------


def test_spend_page_states_totals_and_channels(browser: Browser) -> None:
    """The spend page gives the period, the total and each channel's spend and share."""
    ids = upload_fixtures(browser.client.application, ("spend",))
    browser.sign_in("buyer")
    page = browser.page(f"/datasets/{ids['spend']}")
    spend = pd.read_csv(FIXTURES / "media_spend.csv")
    dates = sorted(set(spend["date"]))
    text = text_of(page)
    assert f"Weekly data from Jan 1, 2024 to Dec 22, 2025: {len(dates)} periods." in text
    assert f"Spend in total: ${spend['spend'].sum():,.0f}." in text
    rows = Tables(page).rows("spend-by-channel")
    by_channel = spend.groupby("channel")["spend"].sum()
    for channel, amount in by_channel.items():
        assert isinstance(channel, str)
        assert rows[channel][0] == f"${amount:,.0f}"
        assert rows[channel][1] == f"{amount / by_channel.sum():.0%}"
    assert "Delete this dataset" not in page  # buyers read, owners delete


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("buyer", 200), ("auditor", 200),
                                              ("finance", 403)])
def test_dataset_page_roles(browser: Browser, role: str, status: int) -> None:
    """Owners, buyers and auditors read datasets; finance does not."""
    ids = upload_fixtures(browser.client.application, ("outcomes",))
    browser.sign_in(role)
    browser.page(f"/datasets/{ids['outcomes']}", status=status)
    browser.page("/datasets/ds_" + "0" * 32, status=404 if status == 200 else 403)


def test_delete_warns_of_derived_datasets_and_removes_them(browser: Browser) -> None:
    """The delete button warns of the journeys built from touches and deletes them too."""
    ids = upload_people(browser)
    browser.sign_in("owner")
    built = browser.post("/datasets/journeys", {
        "touches": ids["touches"], "conversions": ids["conversions"], "lookback_days": "30",
        "separator": " > ", "name": "built journeys"})
    paths_id = built.headers["Location"].rsplit("/", 1)[1]
    page = browser.page(f"/datasets/{ids['touches']}")
    assert "also deletes every dataset built from it (1): built journeys" in text_of(page)
    buyer = Browser(browser.client.application.test_client(), browser.workspace_id)
    buyer.sign_in("buyer")
    assert buyer.post(f"/datasets/{ids['touches']}/delete").status_code == 403
    assert browser.post(f"/datasets/{ids['touches']}/delete", csrf=False).status_code == 403
    assert count(browser) == 3
    response = browser.post(f"/datasets/{ids['touches']}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert row_of(browser, ids["touches"]) is None and row_of(browser, paths_id) is None
    assert row_of(browser, ids["conversions"]) is not None
    with browser.services.sessions() as session:
        deleted = set(session.scalars(select(AuditEvent.resource_id).where(
            AuditEvent.action == "dataset.delete")))
    assert deleted == {ids["touches"], paths_id}


def test_hostile_names_are_escaped(browser: Browser) -> None:
    """A dataset and a channel named with markup are shown as text."""
    browser.sign_in("owner")
    body = f"path,conversions,nulls\n{CHANNEL} > search,3,4\nsearch,1,9\n".encode()
    response = send(browser, "paths", body, "p.csv", name=HOSTILE)
    page = browser.page(response.headers["Location"])
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert CHANNEL not in page and "&lt;svg/onload=alert(1)" in page


def test_pages_in_chinese(browser: Browser) -> None:
    """With a Chinese browser the upload page and a dataset's page are in Chinese."""
    ids = upload_fixtures(browser.client.application, ("outcomes",))
    browser.sign_in("owner")
    chinese = {"Accept-Language": "zh-CN"}
    upload = text_of(browser.page("/datasets/upload", headers=chinese))
    assert "上传数据" in upload and "文件（CSV 或 Parquet）" in upload
    outcomes = pd.read_csv(FIXTURES / "media_outcomes.csv")
    page = text_of(browser.page(f"/datasets/{ids['outcomes']}", headers=chinese))
    assert f"转化合计：{outcomes['conversions'].sum():,.0f}。" in page
    assert "下一步" in page and "What it holds" not in page


def test_form_numbers() -> None:
    """Numbers typed in a form become ints or floats; other text is kept for the request."""
    assert form_number("1,000") == 1000 and form_number(" 0.95 ") == 0.95
    assert form_number("") is None and form_number("lots") == "lots"

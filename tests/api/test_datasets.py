"""Datasets over HTTP, on SQLite and PostgreSQL: uploads of every kind, fingerprints,
bad input, pseudonymised user ids, journeys, cascading deletes, roles and workspaces."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from api.app import PROBLEM_JSON
from api.tables import AuditEvent, Dataset, Report, Workspace

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FILES = {"paths": "sample_paths.csv", "touches": "sample_touches.csv",
         "conversions": "sample_conversions.csv", "spend": "media_spend.csv",
         "outcomes": "media_outcomes.csv", "controls": "media_controls.csv",
         "lift_tests": "media_lift_tests.csv"}
#: Columns holding dates, to type them in the Parquet versions of the fixtures.
DATE_COLUMNS = {"touches": ["timestamp"], "conversions": ["timestamp"], "spend": ["date"],
                "outcomes": ["date"], "controls": ["date"]}
PARQUET = "application/vnd.apache.parquet"


def rows_of(kind: str) -> list[dict[str, str]]:
    """The fixture of ``kind`` as text rows."""
    with open(FIXTURES / FILES[kind], encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    """Rows written back as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def upload(client: Any, headers: dict[str, str], kind: str, data: bytes,
           media_type: str = "text/csv", name: str = "test data") -> Any:
    """POST a dataset."""
    return client.post("/v1/datasets", query_string={"kind": kind, "name": name}, data=data,
                       headers={**headers, "Content-Type": media_type})


def uploaded(client: Any, headers: dict[str, str], kind: str, data: bytes | None = None,
             media_type: str = "text/csv") -> dict[str, Any]:
    """Upload (the fixture of ``kind`` by default) and return the created dataset."""
    response = upload(client, headers, kind,
                      (FIXTURES / FILES[kind]).read_bytes() if data is None else data, media_type)
    assert response.status_code == 201, response.json
    found: dict[str, Any] = response.json
    return found


def services(client: Any) -> Any:
    """The app's services (sessions, store)."""
    return client.application.extensions["spendwise"]


def stored_frame(client: Any, dataset: dict[str, Any]) -> pd.DataFrame:
    """The Parquet a dataset stored, read back."""
    return pd.read_parquet(io.BytesIO(services(client).store.get(dataset["artifact"])))


def key_id(headers: dict[str, str]) -> str:
    """The public id of the key in ``headers``."""
    return headers["Authorization"].split("_")[1]


def snapshot(client: Any) -> tuple[set[str], int, int]:
    """Stored artifacts, dataset rows and audit events: what a failed request must not change."""
    with services(client).sessions() as session:
        return (services(client).store.digests(),
                session.scalar(select(func.count()).select_from(Dataset)) or 0,
                session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def secret_of(client: Any, name: str) -> str:
    """The pseudonym secret of workspace ``name``."""
    with services(client).sessions() as session:
        found: str = session.scalars(select(Workspace.pseudonym_secret)
                                     .where(Workspace.name == name)).one()
        return found


def hmac_hex(secret: str, user_id: str) -> str:
    """The expected pseudonym, computed independently of the service."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def dates(rows: list[dict[str, str]], column: str) -> dict[str, str]:
    """First and last value of an ISO date/time column, as the summary writes them."""
    values = sorted(row[column].replace(" ", "T") for row in rows)
    return {"first": values[0], "last": values[-1]}


def expected_paths(rows: list[dict[str, str]]) -> dict[str, Any]:
    conversions = sum(float(r["conversions"]) for r in rows)
    nulls = sum(float(r["nulls"]) for r in rows)
    return {"rows": sum(float(r["conversions"]) + float(r["nulls"]) > 0 for r in rows),
            "summary": {"channels": sorted({c.strip() for r in rows
                                            for c in r["path"].split(">")}),
                        "conversions": conversions, "nulls": nulls,
                        "journeys": conversions + nulls,
                        "value": sum(float(r["value"]) for r in rows)}}


def expected_touches(rows: list[dict[str, str]]) -> dict[str, Any]:
    return {"rows": len(rows), "summary": {
        "users": len({r["user_id"] for r in rows}), "date_range": dates(rows, "timestamp"),
        "channels": sorted({r["channel"] for r in rows})}}


def expected_conversions(rows: list[dict[str, str]]) -> dict[str, Any]:
    return {"rows": len(rows), "summary": {
        "users": len({r["user_id"] for r in rows}), "date_range": dates(rows, "timestamp"),
        "conversions": len(rows), "value": sum(float(r["value"]) for r in rows)}}


def expected_spend(rows: list[dict[str, str]]) -> dict[str, Any]:
    channels = sorted({r["channel"] for r in rows})
    return {"rows": len(rows), "summary": {
        "channels": channels, "frequency": "W", "periods": len({r["date"] for r in rows}),
        "date_range": dates(rows, "date"), "spend": sum(float(r["spend"]) for r in rows),
        "spend_by_channel": {c: sum(float(r["spend"]) for r in rows if r["channel"] == c)
                             for c in channels}}}


def expected_outcomes(rows: list[dict[str, str]]) -> dict[str, Any]:
    return {"rows": len(rows), "summary": {
        "frequency": "W", "periods": len(rows), "date_range": dates(rows, "date"),
        "conversions": sum(float(r["conversions"]) for r in rows),
        "revenue": sum(float(r["revenue"]) for r in rows)}}


def expected_controls(rows: list[dict[str, str]]) -> dict[str, Any]:
    return {"rows": len(rows), "summary": {
        "controls": ["holiday", "promotion"], "frequency": "W", "periods": len(rows),
        "date_range": dates(rows, "date")}}


def expected_lift_tests(rows: list[dict[str, str]]) -> dict[str, Any]:
    return {"rows": len(rows), "summary": {"channels": sorted({r["channel"] for r in rows}),
                                           "tests": len(rows)}}


EXPECTED: dict[str, Callable[[list[dict[str, str]]], dict[str, Any]]] = {
    "paths": expected_paths, "touches": expected_touches, "conversions": expected_conversions,
    "spend": expected_spend, "outcomes": expected_outcomes, "controls": expected_controls,
    "lift_tests": expected_lift_tests}


def close(actual: Any, expected: Any) -> bool:
    """Equal, floats to a relative 1e-9, recursively."""
    if isinstance(expected, dict):
        return set(actual) >= set(expected) and all(close(actual[k], v)
                                                      for k, v in expected.items())
    if isinstance(expected, float):
        return actual == pytest.approx(expected, rel=1e-9)
    return bool(actual == expected)


# -- uploads -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FILES))
def test_each_kind_uploads_with_its_metadata(client, acme, kind):
    """Each fixture uploads with the rows, channels, dates and totals counted by hand, and a
    shuffled Parquet file of the same data gets the same fingerprint and artifact."""
    rows = rows_of(kind)
    dataset = uploaded(client, acme["owner"], kind)
    expected = EXPECTED[kind](rows)
    assert dataset["kind"] == kind and dataset["name"] == "test data"
    assert dataset["rows"] == expected["rows"]
    assert close(dataset["summary"], expected["summary"]), dataset["summary"]
    assert dataset["created_by"] == key_id(acme["owner"]) and dataset["derived_from"] == []
    data = services(client).store.get(dataset["artifact"])
    assert dataset["size_bytes"] == len(data) and len(dataset["fingerprint"]) == 64
    frame = stored_frame(client, dataset)
    assert list(frame.columns) == dataset["columns"] and len(frame) == dataset["rows"]
    again = client.get(f"/v1/datasets/{dataset['id']}", headers=acme["auditor"])
    assert again.status_code == 200 and again.json == dataset
    events = client.get("/v1/audit", query_string={"action": "dataset.upload"},
                        headers=acme["owner"]).json["events"]
    assert [(e["resource_id"], e["fingerprint"], e["parameters"]) for e in events] == [
        (dataset["id"], dataset["fingerprint"],
         {"kind": kind, "name": "test data", "rows": expected["rows"]})]
    typed = pd.read_csv(FIXTURES / FILES[kind], parse_dates=DATE_COLUMNS.get(kind, []))
    typed = typed.sample(frac=1.0, random_state=3)[list(reversed(typed.columns))]
    buffer = io.BytesIO()
    typed.to_parquet(buffer, index=False)
    for media_type in (PARQUET, "application/octet-stream"):
        twin = uploaded(client, acme["owner"], kind, buffer.getvalue(), media_type)
        assert (twin["fingerprint"], twin["artifact"], twin["summary"]) == (
            dataset["fingerprint"], dataset["artifact"], dataset["summary"])
    assert services(client).store.digests() == {dataset["artifact"]}


def test_list_is_newest_first_and_filters_by_kind(client, acme):
    """The list shows the workspace's datasets newest first; ``kind`` filters it."""
    ids = [uploaded(client, acme["owner"], kind)["id"]
           for kind in ("lift_tests", "outcomes", "lift_tests")]
    listed = client.get("/v1/datasets", headers=acme["buyer"]).json["datasets"]
    assert [d["id"] for d in listed] == ids[::-1]
    only = client.get("/v1/datasets", query_string={"kind": "lift_tests"},
                      headers=acme["buyer"]).json["datasets"]
    assert [d["id"] for d in only] == [ids[2], ids[0]]


SPEND_HEAD = "date,channel,spend\n"
BAD_UPLOADS = {
    "malformed csv": ("spend", SPEND_HEAD + '2024-01-01,search,"12\n2024-01-08,search,5\n',
                      "text/csv", 422, "spend.csv cannot be read"),
    "missing column": ("spend", "date,channel\n2024-01-01,search\n", "text/csv", 422,
                       "missing column 'spend'"),
    "wrong type": ("spend", SPEND_HEAD + "2024-01-01,search,12\n2024-01-08,search,lots\n",
                   "text/csv", 422, "spend row 2: spend is not a number ('lots')"),
    "negative spend": ("spend", SPEND_HEAD + "2024-01-01,search,-5\n2024-01-08,search,5\n",
                       "text/csv", 422, "spend row 1: spend is negative ('-5')"),
    "duplicate dates": ("outcomes", "date,conversions\n2024-01-01,1\n2024-01-08,2\n"
                        "2024-01-08,3\n", "text/csv", 422,
                        "outcomes row 3: duplicate date 2024-01-08, first in row 2"),
    "duplicate spend": ("spend", SPEND_HEAD + "2024-01-01,search,1\n2024-01-01,search,2\n"
                        "2024-01-08,search,5\n", "text/csv", 422,
                        "duplicate (date, channel) (2024-01-01, search)"),
    "lift test": ("lift_tests", "channel,spend_before,spend_after,lift,lift_sd\n"
                  "search,100,200,5,0\n", "text/csv", 422, "lift_tests row 1: lift_sd"),
    "bad path": ("paths", "path,conversions,nulls\nsearch > > email,1,0\n", "text/csv", 422,
                 "row 1: path 'search > > email' has an empty channel name at position 2"),
    "bad timestamp": ("touches", "user_id,timestamp,channel\nu1,2024-01-01,search\n"
                      "u2,yesterday,email\n", "text/csv", 422,
                      "touches.csv: row 2: timestamp is not an ISO date/time"),
    "negative value": ("conversions", "user_id,timestamp,value\nu1,2024-01-01,-3\n",
                       "text/csv", 422, "conversions.csv: row 1: value is negative"),
    "not parquet": ("spend", "date,channel,spend\n", PARQUET, 422,
                    "spend.parquet cannot be read"),
    "unknown kind": ("budgets", SPEND_HEAD, "text/csv", 422, "kind"),
    "empty body": ("spend", "", "text/csv", 422, "body"),
    "json body": ("spend", '{"date": 1}', "application/json", 415, "Content-Type"),
}


def test_bad_uploads_are_problems_naming_the_field_and_store_nothing(client, acme):
    """Each bad upload is a 4xx problem naming what is wrong; nothing is stored or audited."""
    uploaded(client, acme["owner"], "lift_tests")
    before = snapshot(client)
    for case, (kind, body, media_type, status, words) in BAD_UPLOADS.items():
        response = upload(client, acme["owner"], kind, body.encode(), media_type)
        assert (response.status_code, response.content_type) == (status, PROBLEM_JSON), case
        detail = response.json["detail"]
        assert words in detail and "spendwise-upload" not in detail, (case, detail)
        assert snapshot(client) == before, case


def test_body_over_the_limit_is_413_and_stores_nothing(client, acme):
    """A body over ``max_upload_bytes`` is refused with 413 before it is read."""
    limit = services(client).settings.max_upload_bytes
    before = snapshot(client)
    response = upload(client, acme["owner"], "spend", b"x" * (limit + 1))
    assert response.status_code == 413 and f"{limit:,}" in response.json["detail"]
    assert snapshot(client) == before


def test_bad_name_and_extra_query_fields_are_422(client, acme):
    """A name with control characters, or an unknown query field, is refused by field."""
    data = (FIXTURES / FILES["lift_tests"]).read_bytes()
    response = upload(client, acme["owner"], "lift_tests", data, name="bad\x00name")
    # api.limits refuses control characters in any query parameter first, with 400.
    assert response.status_code in (400, 422) and ["query", "name"] in [
        e["loc"] for e in response.json["errors"]]
    extra = client.post("/v1/datasets?kind=lift_tests&name=a&colour=red", data=data,
                        headers={**acme["owner"], "Content-Type": "text/csv"})
    assert extra.status_code == 422 and "colour" in extra.json["detail"]


# -- pseudonyms ----------------------------------------------------------------------------


def test_user_ids_are_stored_only_as_hmac_pseudonyms(client, acme, caplog):
    """Raw ids are in no stored byte, row, event, response or log; pseudonyms are the HMAC."""
    caplog.set_level(logging.DEBUG)
    rows = rows_of("touches")[:300]
    raw_ids = sorted({r["user_id"] for r in rows})
    response = upload(client, acme["owner"], "touches", csv_bytes(rows))
    assert response.status_code == 201
    dataset = response.json
    secret = secret_of(client, "acme")
    stored = services(client).store.get(dataset["artifact"])
    frame = stored_frame(client, dataset)
    assert sorted(set(frame["user_id"])) == sorted(hmac_hex(secret, u) for u in raw_ids)
    with services(client).sessions() as session:
        dump = json.dumps([{c.name: getattr(row, c.name) for c in table.__table__.columns}
                           for table in (Dataset, AuditEvent)
                           for row in session.scalars(select(table))], default=str)
    listed = client.get("/v1/datasets", headers=acme["owner"]).get_data(as_text=True)
    texts = [stored.decode("latin-1"), dump, response.get_data(as_text=True), listed,
             caplog.text]
    for user_id in raw_ids:
        assert not any(user_id in text for text in texts), user_id


def test_same_id_same_pseudonym_within_a_workspace_not_across(client, acme, rival):
    """Touches and conversions of one workspace share pseudonyms; another workspace's differ."""
    conversions = rows_of("conversions")[:20]
    users = {r["user_id"] for r in conversions}
    touches = [r for r in rows_of("touches") if r["user_id"] in users]
    ours = stored_frame(client, uploaded(client, acme["owner"], "touches", csv_bytes(touches)))
    also = stored_frame(client, uploaded(client, acme["owner"], "conversions",
                                         csv_bytes(conversions)))
    theirs = stored_frame(client, uploaded(client, rival["owner"], "touches",
                                           csv_bytes(touches)))
    assert set(ours["user_id"]) == set(also["user_id"]) == {
        hmac_hex(secret_of(client, "acme"), u) for u in users}
    assert set(theirs["user_id"]) == {hmac_hex(secret_of(client, "rival"), u) for u in users}
    assert not set(theirs["user_id"]) & set(ours["user_id"])


def test_errors_of_touch_files_do_not_echo_user_ids(client, acme):
    """A bad line or a missing header is reported without the raw user id in it."""
    good = "".join(f"u{i},2024-01-01 00:{i % 60:02d}:00,search\n" for i in range(3000))
    bodies = {"user_id,timestamp,channel\n" + good + "alice.secret,2024-01-02,search,x\n":
              "row 3001 has 4 fields; the header has 3",
              "alice.secret,2024-01-02,search\n": "missing column 'user_id'"}
    for body, words in bodies.items():
        response = upload(client, acme["owner"], "touches", body.encode())
        assert response.status_code == 422
        assert "alice.secret" not in response.get_data(as_text=True)
        assert "touches.csv" in response.json["detail"] and words in response.json["detail"]


# -- journeys and deletes ------------------------------------------------------------------


def build(client: Any, headers: dict[str, str], touches: str, conversions: str,
          **extra: Any) -> Any:
    """POST /v1/datasets/journeys."""
    return client.post("/v1/datasets/journeys", headers=headers,
                       json={"touches": touches, "conversions": conversions,
                             "name": "journeys", **extra})


def test_journeys_are_built_from_two_uploads(client, acme):
    """Touches and conversions uploaded apart meet in the 2,023 journeys of the fixture."""
    touches = uploaded(client, acme["owner"], "touches")
    conversions = uploaded(client, acme["owner"], "conversions")
    response = build(client, acme["owner"], touches["id"], conversions["id"])
    assert response.status_code == 201, response.json
    paths = response.json
    assert paths["kind"] == "paths" and paths["rows"] == 417
    assert paths["derived_from"] == [touches["id"], conversions["id"]]
    summary = paths["summary"]
    assert summary["journeys"] == 2023 and summary["conversions"] == 89
    assert summary["value"] == pytest.approx(conversions["summary"]["value"], rel=1e-12)
    assert summary["journey_builder"]["lookback_days"] == 30
    assert summary["journey_builder"]["conversions_without_touches"] == 0
    frame = stored_frame(client, paths)
    assert frame["conversions"].sum() == 89 and frame["nulls"].sum() == 2023 - 89
    event = client.get("/v1/audit", query_string={"action": "dataset.journeys"},
                       headers=acme["owner"]).json["events"][0]
    assert event["fingerprint"] == paths["fingerprint"] and event["parameters"] == {
        "kind": "paths", "name": "journeys", "rows": 417, "touches": touches["id"],
        "conversions": conversions["id"], "lookback_days": 30, "separator": " > "}


def test_journeys_with_another_separator_hold_the_same_paths(client, acme):
    """A separator given to the journey builder is the one the stored paths are read with."""
    touches = uploaded(client, acme["owner"], "touches")
    conversions = uploaded(client, acme["owner"], "conversions")
    plain = build(client, acme["owner"], touches["id"], conversions["id"]).json
    piped = build(client, acme["owner"], touches["id"], conversions["id"], separator="|").json
    assert piped["rows"] == plain["rows"] == 417
    assert piped["summary"]["channels"] == plain["summary"]["channels"]
    assert piped["summary"]["separator"] == "|"
    assert piped["summary"]["journeys"] == plain["summary"]["journeys"] == 2023


def test_journeys_refuse_wrong_kinds_and_unknown_datasets(client, acme, rival):
    """A dataset of the wrong kind is 422 naming the field; another workspace's is 404."""
    touches = uploaded(client, acme["owner"], "touches")
    conversions = uploaded(client, acme["owner"], "conversions")
    before = snapshot(client)
    wrong = build(client, acme["owner"], conversions["id"], conversions["id"])
    assert wrong.status_code == 422 and wrong.json["errors"][0]["loc"] == ["json", "touches"]
    assert build(client, rival["owner"], touches["id"], conversions["id"]).status_code == 404
    assert build(client, acme["owner"], "ds_" + "0" * 32, conversions["id"]).status_code == 404
    assert build(client, acme["owner"], touches["id"], conversions["id"],
                 lookback_days=0).status_code == 422
    far = build(client, acme["owner"], touches["id"], conversions["id"], lookback_days=1)
    assert far.status_code == 201  # short windows drop conversions but still build
    assert far.json["summary"]["journey_builder"]["conversions_without_touches"] > 0
    assert snapshot(client)[1] == before[1] + 1


def test_delete_removes_derived_datasets_and_unshared_artifacts(client, acme):
    """Deleting touches deletes the paths built from them; shared artifacts stay."""
    touches = uploaded(client, acme["owner"], "touches")
    twin = uploaded(client, acme["owner"], "touches")
    conversions = uploaded(client, acme["owner"], "conversions")
    paths = build(client, acme["owner"], touches["id"], conversions["id"]).json
    again = build(client, acme["owner"], paths["id"], conversions["id"])
    assert again.status_code == 422  # a paths dataset is no touches dataset
    store = services(client).store
    with services(client).sessions.begin() as session:
        report = Report(workspace_id=session.get(Dataset, paths["id"]).workspace_id,
                        dataset_id=paths["id"], parameters={}, state="succeeded",
                        result={"credit": 1}, fingerprint="f" * 64, version="x",
                        created_by="ktest")
        session.add(report)
        session.flush()
        report_id = report.id
    response = client.delete(f"/v1/datasets/{touches['id']}", headers=acme["owner"])
    assert response.status_code == 204 and response.get_data() == b""
    for gone in (touches, paths):
        assert client.get(f"/v1/datasets/{gone['id']}", headers=acme["owner"]).status_code == 404
    assert not store.exists(paths["artifact"]) and store.exists(twin["artifact"])
    assert twin["artifact"] == touches["artifact"]
    listed = client.get("/v1/datasets", headers=acme["owner"]).json["datasets"]
    assert {d["id"] for d in listed} == {twin["id"], conversions["id"]}
    with services(client).sessions() as session:
        kept = session.get(Report, report_id)
        assert kept.dataset_id is None and kept.result == {"credit": 1}
    events = client.get("/v1/audit", query_string={"action": "dataset.delete"},
                        headers=acme["owner"]).json["events"]
    assert {(e["resource_id"], e["fingerprint"]) for e in events} == {
        (touches["id"], touches["fingerprint"]), (paths["id"], paths["fingerprint"])}
    assert client.delete(f"/v1/datasets/{twin['id']}", headers=acme["owner"]).status_code == 204
    assert store.digests() == {conversions["artifact"]}


def test_delete_racing_an_upload_of_the_same_bytes_keeps_the_file(client, acme, monkeypatch):
    """A delete overlapping an upload of identical bytes waits for it and keeps the file."""
    first = uploaded(client, acme["owner"], "spend")
    store = services(client).store
    put, stored, go = store.put, threading.Event(), threading.Event()

    def paused_put(data: bytes) -> str:
        digest = put(data)  # the file is in place; the upload's row is not yet
        stored.set()
        go.wait(30)
        return digest

    monkeypatch.setattr(store, "put", paused_put)
    answers: dict[str, Any] = {}
    data = (FIXTURES / FILES["spend"]).read_bytes()
    uploader = threading.Thread(target=lambda: answers.update(
        upload=upload(client.application.test_client(), acme["owner"], "spend", data)))
    uploader.start()
    assert stored.wait(30)
    deleter = threading.Thread(target=lambda: answers.update(
        delete=client.application.test_client().delete(f"/v1/datasets/{first['id']}",
                                                        headers=acme["owner"])))
    deleter.start()
    deleter.join(0.5)
    waited = deleter.is_alive()
    go.set()
    uploader.join(30)
    deleter.join(30)
    assert waited, "the delete did not wait for the upload of the same bytes"
    assert answers["upload"].status_code == 201 and answers["delete"].status_code == 204
    twin = answers["upload"].json
    assert twin["artifact"] == first["artifact"]
    assert len(stored_frame(client, twin)) == twin["rows"]  # the file is whole
    assert store.digests() == {twin["artifact"]}


# -- roles and workspaces ------------------------------------------------------------------


def test_only_owners_upload_build_and_delete(client, acme, admin):
    """Upload, journeys and delete are the owner's; the others get 403 and change nothing."""
    touches = uploaded(client, acme["owner"], "touches", csv_bytes(rows_of("touches")[:400]))
    conversions = uploaded(client, acme["owner"], "conversions")
    lift_tests = (FIXTURES / FILES["lift_tests"]).read_bytes()
    for role in ("buyer", "auditor", "finance", "admin", "owner"):
        headers = admin if role == "admin" else acme[role]
        before = snapshot(client)
        statuses = [upload(client, headers, "lift_tests", lift_tests).status_code,
                    build(client, headers, touches["id"], conversions["id"]).status_code,
                    client.delete(f"/v1/datasets/{touches['id']}", headers=headers).status_code]
        if role == "owner":
            assert statuses == [201, 201, 204]
        else:
            assert statuses == [403, 403, 403] and snapshot(client) == before, role


def test_who_may_read_datasets(client, acme, admin):
    """Owners, buyers and auditors read datasets; finance and the admin key get 403."""
    dataset = uploaded(client, acme["owner"], "lift_tests")
    for role in ("owner", "buyer", "auditor", "finance", "admin"):
        headers = admin if role == "admin" else acme[role]
        listed = client.get("/v1/datasets", headers=headers)
        one = client.get(f"/v1/datasets/{dataset['id']}", headers=headers)
        if role in ("owner", "buyer", "auditor"):
            assert (listed.status_code, one.status_code) == (200, 200)
            assert [d["id"] for d in listed.json["datasets"]] == [dataset["id"]]
        else:
            assert (listed.status_code, one.status_code) == (403, 403), role
            assert role in one.json["detail"] and one.content_type == PROBLEM_JSON


def test_other_workspaces_datasets_are_404(client, acme, rival):
    """Another workspace's dataset is not found, not forbidden, and never listed."""
    dataset = uploaded(client, acme["owner"], "lift_tests")
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/v1/datasets/{dataset['id']}",
                                           headers=rival["owner"])
        assert response.status_code == 404 and response.content_type == PROBLEM_JSON
    assert client.get("/v1/datasets", headers=rival["owner"]).json["datasets"] == []
    assert client.get(f"/v1/datasets/{dataset['id']}", headers=acme["owner"]).status_code == 200
    for odd in ("nope", "ds_" + "0" * 32):
        assert client.get(f"/v1/datasets/{odd}", headers=acme["owner"]).status_code == 404
    # api.limits refuses a control character in a path parameter first, with 400.
    assert client.get("/v1/datasets/ds_%00", headers=acme["owner"]).status_code in (400, 404)


def test_openapi_documents_the_upload(client):
    """The upload's query parameters and raw bodies are in the OpenAPI document."""
    spec = client.get("/v1/openapi.json").json
    operation = spec["paths"]["/v1/datasets"]["post"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"kind",
                                                                                 "name"}
    assert set(operation["requestBody"]["content"]) == {
        "text/csv", PARQUET, "application/octet-stream"}
    assert {"413", "415", "422"} <= set(operation["responses"])
    assert "/v1/datasets/journeys" in spec["paths"]
    assert "204" in spec["paths"]["/v1/datasets/{dataset_id}"]["delete"]["responses"]


def test_store_upload_serves_the_demo_without_http(client, acme):
    """``store_upload`` validates, pseudonymises and stores, leaving the commit to the caller."""
    from api.datasets import store_upload

    data = (FIXTURES / FILES["conversions"]).read_bytes()
    with services(client).sessions() as session:
        workspace = session.scalars(select(Workspace).where(Workspace.name == "acme")).one()
        row = store_upload(session, services(client).store, workspace, "conversions", "demo",
                           data, "text/csv", "kdemo")
        assert row.rows == 89 and row.created_by == "kdemo"
        session.rollback()
    assert client.get("/v1/datasets", headers=acme["owner"]).json["datasets"] == []


@pytest.mark.parametrize("odd", ["nope", "x" * 300, "ds-1", "ds_" + "g" * 32, "ds_\u0000",
                                 "ds_" + "0" * 32])
def test_journeys_answer_404_for_any_id_of_no_dataset_here(client, acme, odd):
    """An id in the body that names no dataset of the workspace is 404, as in a URL."""
    conversions = uploaded(client, acme["owner"], "conversions")
    response = build(client, acme["owner"], odd, conversions["id"])
    # A control character is refused as such (422 on the field), as names and labels are.
    status = 422 if "\u0000" in odd else 404
    assert (response.status_code, response.content_type) == (status, PROBLEM_JSON)
    assert len(response.json["detail"]) < 120

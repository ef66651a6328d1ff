"""Attribution reports over HTTP, on SQLite and PostgreSQL: golden numbers, inline
and job runs, CSV, roles, workspaces, bad input and failures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api import fingerprints, reports
from api.cli import main as spendwise
from api.store import ArtifactStore
from api.tables import AuditEvent, Dataset, Job, Report
from attribution.errors import InputError
from attribution.paths import PathTable
from spendwise import __version__

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GOLDEN = FIXTURES / "golden"
SAMPLE = FIXTURES / "sample_paths.csv"
#: Tolerance of the golden comparisons (the hand-derived numbers are exact fractions).
TOLERANCE = 1e-9


def workspace_id(client: Any, headers: dict[str, str]) -> str:
    """The id of the workspace of ``headers``' key."""
    found: str = client.get("/v1/workspaces/current", headers=headers).json["id"]
    return found


def add_paths(client: Any, headers: dict[str, str], source: Path | PathTable,
              kind: str = "paths") -> str:
    """Store a paths table as a dataset of ``headers``' workspace, like an upload would."""
    table = source if isinstance(source, PathTable) else PathTable.read(source)
    services = client.application.extensions["spendwise"]
    data = reports.dump_paths(table)
    with services.sessions.begin() as session:
        row = Dataset(workspace_id=workspace_id(client, headers), kind=kind,
                      name=getattr(source, "name", "table"), rows=table.n_rows,
                      columns=list(table.to_frame().columns),
                      summary={"channels": list(table.channels), "separator": table.separator,
                               "conversions": table.total_conversions},
                      fingerprint=table.fingerprint.removeprefix("sha256:"),
                      artifact=services.store.put(data), size_bytes=len(data),
                      created_by="ktest")
        session.add(row)
        session.flush()
        return row.id


def run_job(client: Any) -> bool:
    """Run one queued job synchronously, as a worker would."""
    services = client.application.extensions["spendwise"]
    return services.worker().run_one()


def count(client: Any, table: Any, *where: Any) -> int:
    """Rows of ``table`` matching ``where``."""
    with client.application.extensions["spendwise"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)))


def cli_report(tmp_path: Path, source: Path, fmt: str, *options: str) -> str:
    """What ``spendwise attribute`` writes for ``source`` in ``fmt``."""
    target = tmp_path / f"cli.{fmt}"
    assert spendwise(["attribute", str(source), "--format", fmt, "-o", str(target),
                      *options]) == 0
    return target.read_text(encoding="utf-8")


def without_created_at(payload: Any) -> list[dict[str, Any]]:
    """The CLI's JSON models as a list, without their creation times."""
    models = payload if isinstance(payload, list) else [payload]
    return [{k: v for k, v in m.items() if k != "created_at"} for m in models]


@pytest.fixture
def golden(client, acme):
    """The golden three-path dataset in ``acme``."""
    return add_paths(client, acme["owner"], GOLDEN / "markov_3path.csv")


@pytest.fixture
def sample(client, acme):
    """The sample paths (3,584 distinct paths, six channels) in ``acme``."""
    return add_paths(client, acme["owner"], SAMPLE)


# -- results -----------------------------------------------------------------------------


def test_golden_markov_report_over_http(client, acme, golden):
    """A Markov report on the three-path fixture returns the hand-derived numbers."""
    expected = json.loads((GOLDEN / "markov_3path.json").read_text())
    created = client.post("/v1/reports", json={"dataset": golden, "models": ["markov"]},
                          headers=acme["buyer"])
    assert created.status_code == 201, created.json
    report = client.get(f"/v1/reports/{created.json['id']}", headers=acme["auditor"]).json
    assert report["state"] == "succeeded" and report["job_id"] is None
    assert report["version"] == __version__ and report["dataset"] == golden
    [markov] = report["models"]
    assert markov["model"] == "markov" and markov["params"]["order"] == expected["order"]
    for channel in markov["channels"]:
        name = channel["channel"]
        assert channel["conversions"] == pytest.approx(expected["conversions"][name],
                                                       abs=TOLERANCE)
        assert channel["value"] == pytest.approx(expected["value"][name], abs=TOLERANCE)
    for key in ("removal_effects", "value_removal_effects"):
        assert markov["details"][key] == pytest.approx(expected[key], abs=TOLERANCE)
    assert markov["details"]["conversion_probability"] == pytest.approx(0.4, abs=TOLERANCE)
    assert markov["total_conversions"] == pytest.approx(4) and markov["total_value"] == 190
    table = PathTable.read(GOLDEN / "markov_3path.csv")
    assert markov["fingerprint"] == table.fingerprint
    assert report["fingerprint"] == reports.fingerprint(
        table.fingerprint.removeprefix("sha256:"), report["parameters"])


def test_models_are_the_cli_json_and_csv(client, acme, sample, tmp_path):
    """Models and CSV equal `spendwise attribute --format json/csv` on the same file."""
    settings = {"order": 2, "shapley_value": "ordered", "position_weights": [0.3, 0.5],
                "bootstrap": 5, "bootstrap_method": "multinomial", "ci_level": 0.9, "seed": 11}
    models = ["markov", "shapley", "position_based", "time_decay"]
    created = client.post("/v1/reports", json={"dataset": sample, "models": models,
                                               "settings": settings}, headers=acme["owner"])
    assert created.status_code == 201, created.json
    options = ["--order", "2", "--shapley-value", "ordered", "--position-weights", "0.3,0.5",
               "--bootstrap", "5", "--bootstrap-method", "multinomial", "--ci-level", "0.9",
               "--seed", "11", *[a for m in models for a in ("--model", m)]]
    cli = without_created_at(json.loads(cli_report(tmp_path, SAMPLE, "json", *options)))
    assert created.json["models"] == cli
    assert all("ci" in c for m in created.json["models"] for c in m["channels"])
    text = client.get(f"/v1/reports/{created.json['id']}/csv", headers=acme["owner"])
    assert text.get_data(as_text=True) == cli_report(tmp_path, SAMPLE, "csv", *options)


def test_parameters_are_filled_in_and_fingerprinted(client, acme, golden):
    """Stored parameters carry every setting; equal inputs give equal fingerprints."""
    first = client.post("/v1/reports", json={"dataset": golden}, headers=acme["owner"]).json
    assert first["parameters"]["models"] == ["markov"]
    assert first["parameters"]["settings"] == {
        "order": 1, "keep_repeats": False, "shapley_value": "simplified", "min_support": 1.0,
        "position_weights": [0.4, 0.4], "half_life_days": 7.0, "half_life_touches": 1.0,
        "bootstrap": 0, "bootstrap_method": "poisson", "ci_level": 0.95, "seed": 0}
    same = client.post("/v1/reports", json={"dataset": golden, "models": ["markov"],
                                            "settings": {"order": 1, "seed": 0}},
                       headers=acme["buyer"]).json
    other = client.post("/v1/reports", json={"dataset": golden, "settings": {"seed": 1}},
                        headers=acme["buyer"]).json
    assert first["fingerprint"] == same["fingerprint"] != other["fingerprint"]
    assert first["id"] != same["id"] and len(first["fingerprint"]) == 64


def test_seeded_reports_are_byte_identical(client, acme, sample):
    """Two bootstrapped reports with the same dataset and parameters give the same bytes."""
    body = {"dataset": sample, "models": ["markov", "shapley", "linear"],
            "settings": {"order": "auto", "bootstrap": 8, "seed": 5}}
    ids = [client.post("/v1/reports", json=body, headers=acme["owner"]).json["id"]
           for _ in range(2)]
    texts = [json.dumps(client.get(f"/v1/reports/{i}", headers=acme["owner"]).json["models"],
                        sort_keys=True) for i in ids]
    assert texts[0] == texts[1] and '"ci"' in texts[0] and '"order_scores"' in texts[0]
    with client.application.extensions["spendwise"].sessions() as session:
        stored = [fingerprints.canonical_json(session.get(Report, i).result) for i in ids]
    assert stored[0] == stored[1]


# -- jobs --------------------------------------------------------------------------------


def test_inline_and_job_give_the_same_models(client, acme, sample, monkeypatch):
    """A report run as a job has the states queued then succeeded and the inline models."""
    body = {"dataset": sample, "models": ["markov", "shapley", "linear"],
            "settings": {"bootstrap": 6, "seed": 7}}
    monkeypatch.setattr(reports, "INLINE_COST_LIMIT", 10**12)
    inline = client.post("/v1/reports", json=body, headers=acme["owner"])
    assert inline.status_code == 201 and inline.json["job_id"] is None
    monkeypatch.setattr(reports, "INLINE_COST_LIMIT", 0)
    queued = client.post("/v1/reports", json=body, headers=acme["buyer"])
    assert queued.status_code == 202 and queued.json["state"] == "queued"
    assert queued.json["models"] is None and queued.json["fingerprint"] == inline.json[
        "fingerprint"]
    report_id, job_id = queued.json["id"], queued.json["job_id"]
    job = client.get(f"/v1/jobs/{job_id}", headers=acme["auditor"]).json
    assert (job["kind"], job["target_id"], job["state"]) == ("attribution", report_id, "queued")
    early = client.get(f"/v1/reports/{report_id}/csv", headers=acme["owner"])
    assert early.status_code == 409 and "queued" in early.json["detail"]
    assert run_job(client) and not run_job(client)
    job = client.get(f"/v1/jobs/{job_id}", headers=acme["auditor"]).json
    assert job["state"] == "succeeded" and job["progress"] == 1.0 and job["error"] is None
    done = client.get(f"/v1/reports/{report_id}", headers=acme["owner"]).json
    assert done["state"] == "succeeded" and done["job_id"] == job_id
    assert json.dumps(done["models"], sort_keys=True) == json.dumps(inline.json["models"],
                                                                    sort_keys=True)
    csvs = [client.get(f"/v1/reports/{i}/csv", headers=acme["owner"]).get_data()
            for i in (inline.json["id"], report_id)]
    assert csvs[0] == csvs[1]


def test_report_is_running_while_its_job_computes(client, acme, golden, monkeypatch):
    """While the handler fits the models the report is ``running``."""
    seen: list[str] = []
    compute = reports.attribute
    sessions = client.application.extensions["spendwise"].sessions

    def watched(paths: PathTable, parameters: dict[str, Any], **kw: Any) -> Any:
        with sessions() as session:
            seen.append(session.scalars(select(Report.state)).one())
        return compute(paths, parameters, **kw)

    monkeypatch.setattr(reports, "INLINE_COST_LIMIT", 0)
    monkeypatch.setattr(reports, "attribute", watched)
    created = client.post("/v1/reports", json={"dataset": golden}, headers=acme["owner"])
    assert created.status_code == 202 and run_job(client)
    assert seen == ["running"]
    assert client.get(f"/v1/reports/{created.json['id']}",
                      headers=acme["owner"]).json["state"] == "succeeded"


def test_cost_estimate_decides_inline_or_job():
    """The cost is rows x (1 + replicates) x model weights, compared with the limit."""
    parameters = {"models": ["markov", "linear"], "settings": {"order": "auto", "bootstrap": 9}}
    assert reports.estimate_cost(100, parameters) == 100 * 10 * (5 + 4 + 1)
    assert reports.runs_inline(100, parameters)
    assert not reports.runs_inline(reports.INLINE_COST_LIMIT, parameters)


def test_job_with_a_user_error_fails_and_the_report_says_why(client, acme, golden,
                                                             monkeypatch):
    """A job whose handler raises a user error fails at once; the report shows the reason."""
    monkeypatch.setattr(reports, "INLINE_COST_LIMIT", 0)
    created = client.post("/v1/reports", json={"dataset": golden}, headers=acme["owner"]).json

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise InputError("row 3: path is empty")

    monkeypatch.setattr(reports, "attribute", broken)
    assert run_job(client)
    job = client.get(f"/v1/jobs/{created['job_id']}", headers=acme["owner"]).json
    assert job["state"] == "failed" and job["attempts"] == 1
    assert job["error"] == "row 3: path is empty"
    report = client.get(f"/v1/reports/{created['id']}", headers=acme["owner"]).json
    assert report["state"] == "failed" and report["error"] == "row 3: path is empty"
    assert report["models"] is None
    csv_response = client.get(f"/v1/reports/{created['id']}/csv", headers=acme["owner"])
    assert csv_response.status_code == 409 and "failed" in csv_response.json["detail"]


def test_job_fails_when_its_dataset_was_deleted(client, acme, golden, monkeypatch):
    """A report whose dataset is deleted before its job runs fails naming the dataset."""
    monkeypatch.setattr(reports, "INLINE_COST_LIMIT", 0)
    created = client.post("/v1/reports", json={"dataset": golden}, headers=acme["owner"]).json
    with client.application.extensions["spendwise"].sessions.begin() as session:
        session.delete(session.get(Dataset, golden))
    assert run_job(client)
    report = client.get(f"/v1/reports/{created['id']}", headers=acme["owner"]).json
    assert report["state"] == "failed" and report["dataset"] is None
    assert report["error"].startswith("dataset: the dataset of report")


# -- CSV ---------------------------------------------------------------------------------


def test_csv_is_text_csv_with_formulas_neutralised(client, acme, tmp_path):
    """Channel names a spreadsheet would run (``=cmd``, ``+1``, ``@sum``) are quoted."""
    source = tmp_path / "formulas.csv"
    source.write_text("path,conversions,nulls,value\n=cmd > +1,3,1,30\n+1,2,2,10\n"
                      "@sum > =cmd,1,4,5\n", encoding="utf-8")
    dataset = add_paths(client, acme["owner"], source)
    created = client.post("/v1/reports", json={"dataset": dataset,
                                               "models": ["linear", "last_touch"]},
                          headers=acme["owner"]).json
    response = client.get(f"/v1/reports/{created['id']}/csv", headers=acme["auditor"])
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert f'filename="{created["id"]}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["channel"] for r in rows} == {"'=cmd", "'+1", "'@sum"}
    assert [r["model"] for r in rows] == ["linear"] * 3 + ["last_touch"] * 3
    linear = {r["channel"]: float(r["conversions"]) for r in rows if r["model"] == "linear"}
    assert linear == pytest.approx({"'=cmd": 2.0, "'+1": 3.5, "'@sum": 0.5})
    assert response.get_data(as_text=True) == cli_report(tmp_path, source, "csv", "--model",
                                                         "linear", "--model", "last_touch")


# -- list, roles and workspaces ----------------------------------------------------------


def test_list_is_newest_first_without_models(client, acme, golden):
    """The list shows the workspace's reports newest first and pages with limit/offset."""
    ids = [client.post("/v1/reports", json={"dataset": golden, "settings": {"seed": s}},
                       headers=acme["owner"]).json["id"] for s in range(3)]
    listed = client.get("/v1/reports", headers=acme["buyer"]).json["reports"]
    assert [r["id"] for r in listed] == ids[::-1]
    assert all("models" not in r and r["state"] == "succeeded" for r in listed)
    page = client.get("/v1/reports", query_string={"limit": 1, "offset": 1},
                      headers=acme["buyer"]).json["reports"]
    assert [r["id"] for r in page] == [ids[1]]


def test_owners_buyers_and_auditors_create_and_read_reports(client, acme, golden):
    """Owners, buyers and auditors create and read reports; each creation is audited."""
    for role in ("owner", "buyer", "auditor"):
        created = client.post("/v1/reports", json={"dataset": golden}, headers=acme[role])
        assert created.status_code == 201, role
        for path in (f"/v1/reports/{created.json['id']}", f"/v1/reports/{created.json['id']}/csv",
                     "/v1/reports"):
            assert client.get(path, headers=acme[role]).status_code == 200, (role, path)
        event = client.get("/v1/audit", query_string={"action": "report.create"},
                           headers=acme["owner"]).json["events"][0]
        assert event["resource_id"] == created.json["id"] and event["role"] == role
        assert event["key_id"] == created.json["created_by"]
        assert event["fingerprint"] == created.json["fingerprint"]
        assert event["parameters"] == created.json["parameters"]


def test_finance_may_neither_create_nor_read_reports(client, acme, golden):
    """The finance role gets 403 on every report endpoint and writes nothing."""
    report_id = client.post("/v1/reports", json={"dataset": golden},
                            headers=acme["owner"]).json["id"]
    finance = acme["finance"]
    responses = [client.post("/v1/reports", json={"dataset": golden}, headers=finance),
                 client.get("/v1/reports", headers=finance),
                 client.get(f"/v1/reports/{report_id}", headers=finance),
                 client.get(f"/v1/reports/{report_id}/csv", headers=finance)]
    assert [r.status_code for r in responses] == [403] * 4
    assert "finance" in responses[0].json["detail"]
    assert count(client, Report) == 1


def test_other_workspaces_see_nothing(client, acme, rival, golden):
    """Another workspace's report and dataset are 404, and its list is empty."""
    report_id = client.post("/v1/reports", json={"dataset": golden},
                            headers=acme["owner"]).json["id"]
    for path in (f"/v1/reports/{report_id}", f"/v1/reports/{report_id}/csv",
                 "/v1/reports/rp_missing", "/v1/reports/rp%20missing"):
        response = client.get(path, headers=rival["owner"])
        assert response.status_code == 404, path
        assert response.content_type == "application/problem+json"
    taken = client.post("/v1/reports", json={"dataset": golden}, headers=rival["owner"])
    assert taken.status_code == 404 and golden in taken.json["detail"]
    assert client.get("/v1/reports", headers=rival["owner"]).json["reports"] == []
    assert count(client, Report) == 1


# -- bad input ---------------------------------------------------------------------------


def nothing_written(client: Any) -> bool:
    """No report, no job and no report audit event exist."""
    return (count(client, Report) == count(client, Job) == 0 and
            count(client, AuditEvent, AuditEvent.action == "report.create") == 0)


#: Bad bodies (changes to a good one), where the error is and words its message must hold.
BAD_BODIES: list[tuple[dict[str, Any], list[str], list[str]]] = [
    ({"models": ["markov", "magic"]}, ["models", "1"], ["'markov'", "'shapley'", "'linear'"]),
    ({"models": []}, ["models"], ["at least 1"]),
    ({"models": ["linear", "linear"]}, ["models"], ["linear"]),
    ({"settings": {"colour": "red"}}, ["settings", "colour"], ["order", "bootstrap", "seed"]),
    ({"settings": {"order": 6}}, ["settings", "order"], ["1 to 5", "'auto'"]),
    ({"settings": {"order": "best"}}, ["settings", "order"], ["1 to 5", "'auto'"]),
    ({"settings": {"order": True}}, ["settings", "order"], ["1 to 5"]),
    ({"settings": {"shapley_value": "fair"}}, ["settings", "shapley_value"],
     ["'simplified'", "'ordered'", "'conversion_rate'"]),
    ({"settings": {"bootstrap": 1}}, ["settings", "bootstrap"], ["0", "2 to 1000"]),
    ({"settings": {"bootstrap": 1001}}, ["settings", "bootstrap"], ["1000"]),
    ({"settings": {"bootstrap": -1}}, ["settings", "bootstrap"], ["0"]),
    ({"settings": {"bootstrap_method": "jackknife"}}, ["settings", "bootstrap_method"],
     ["'poisson'", "'multinomial'"]),
    ({"settings": {"ci_level": 1}}, ["settings", "ci_level"], ["1"]),
    ({"settings": {"seed": -3}}, ["settings", "seed"], ["0"]),
    ({"settings": {"position_weights": [0.7, 0.5]}}, ["settings", "position_weights"],
     ["at most 1"]),
    ({"settings": {"position_weights": [1.5, 0]}}, ["settings", "position_weights", "0"],
     ["1"]),
    ({"settings": {"half_life_days": 0}}, ["settings", "half_life_days"], ["0.001"]),
    ({"settings": {"min_support": -1}}, ["settings", "min_support"], ["0"]),
    ({"extra": 1}, ["extra"], []),
]


def test_bad_input_is_a_field_error_and_writes_nothing(client, acme, golden):
    """Unknown models and settings and out-of-range values are 422s naming field and choices."""
    for change, loc, words in BAD_BODIES:
        response = client.post("/v1/reports", json={"dataset": golden, **change},
                               headers=acme["owner"])
        assert response.status_code == 422, (change, response.json)
        assert response.content_type == "application/problem+json"
        [error] = [e for e in response.json["errors"] if e["loc"][1:] == loc]
        assert all(w in error["msg"] for w in words), (change, error["msg"])
    assert nothing_written(client)


def test_missing_dataset_and_wrong_kind(client, acme):
    """No dataset is a field error, an unknown one 404, one not of kind paths a 422."""
    touches = add_paths(client, acme["owner"], GOLDEN / "markov_3path.csv", kind="touches")
    missing = client.post("/v1/reports", json={"models": ["linear"]}, headers=acme["owner"])
    assert missing.status_code == 422 and missing.json["errors"][0]["loc"] == ["json",
                                                                               "dataset"]
    unknown = client.post("/v1/reports", json={"dataset": "ds_nope"}, headers=acme["owner"])
    assert unknown.status_code == 404
    wrong = client.post("/v1/reports", json={"dataset": touches}, headers=acme["owner"])
    assert wrong.status_code == 422 and wrong.json["errors"][0]["loc"] == ["json", "dataset"]
    assert "touches" in wrong.json["detail"] and "paths" in wrong.json["detail"]
    assert nothing_written(client)


def test_engine_error_in_the_request_writes_nothing(client, acme, golden, monkeypatch):
    """An engine error while computing inline is a 422 and leaves no report, event or job."""
    def broken(*_args: Any, **_kw: Any) -> Any:
        raise InputError("row 1: conversions is negative")

    monkeypatch.setattr(reports, "attribute", broken)
    response = client.post("/v1/reports", json={"dataset": golden}, headers=acme["owner"])
    assert response.status_code == 422 and "negative" in response.json["detail"]
    assert nothing_written(client)


# -- stored format -----------------------------------------------------------------------


def test_paths_round_trip_exactly_through_the_store(tmp_path):
    """A journey-level table with touch times and ids comes back with the same fingerprint."""
    table = PathTable.from_sequences(
        [["a", "b"], ["b"], ["c", "a", "a"]], [1, 0, 2], [0, 1, 1], [10.0, 0.0, 0.1 + 0.2],
        touch_days=[[1 / 3, 0.0], [2.5], [1e-7, 12.25, 0.0]], journey_ids=["j1", "j2", "j3"],
        separator=" | ")
    store = ArtifactStore(tmp_path)
    row = Dataset(id="ds_x", kind="paths", artifact=store.put(reports.dump_paths(table)),
                  summary={})
    back = reports.load_paths(store, row)
    assert back.fingerprint == table.fingerprint and back.separator == " | "
    assert back.channels == table.channels and back.journey_ids == table.journey_ids
    for name in ("touches", "offsets", "conversions", "nulls", "value", "touch_days"):
        assert (getattr(back, name) == getattr(table, name)).all(), name


def test_plain_to_frame_parquet_loads_too(tmp_path):
    """``PathTable.to_frame()`` written by pandas loads, with the summary's separator if any."""
    table = PathTable.read(GOLDEN / "shapley_3channel.csv")
    frame = table.to_frame()
    frame = frame.sort_values(list(frame.columns), kind="stable", ignore_index=True)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    store = ArtifactStore(tmp_path)
    row = Dataset(id="ds_y", kind="paths", artifact=store.put(buffer.getvalue()), summary={})
    assert reports.load_paths(store, row).fingerprint == table.fingerprint
    piped = PathTable.from_sequences([["a b", "c"], ["c"]], [1, 1], [2, 0], separator=" | ")
    buffer = io.BytesIO()
    piped.to_frame().to_parquet(buffer, index=False)
    row = Dataset(id="ds_p", kind="paths", artifact=store.put(buffer.getvalue()),
                  summary={"separator": " | "})
    assert reports.load_paths(store, row).channels == ("a b", "c")
    garbage = Dataset(id="ds_z", kind="paths", artifact=store.put(b"not parquet"), summary={})
    with pytest.raises(InputError, match="cannot be read"):
        reports.load_paths(store, garbage)

"""Response models over HTTP: validation, roles, queued fits and their jobs, on both backends.

Datasets are added directly (Parquet in the artifact store and a ``Dataset``
row), as the datasets endpoints would store them. One test, marked ``slow``,
runs a small fit through the job worker; nothing else samples.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from api.errors import Invalid
from api.fingerprints import fingerprint
from api.fits import create_fit
from api.jobs import FAILED, QUEUED, SUCCEEDED
from api.tables import AuditEvent, Dataset, Job, ResponseFit
from optimizer.data import MediaData
from optimizer.requests import FitRequest
from optimizer.response_model import ResponseModel
from spendwise import __version__
from tests.conftest import ROOT

FIXTURES = ROOT / "fixtures"
FILES = {"spend": "media_spend.csv", "outcomes": "media_outcomes.csv",
         "controls": "media_controls.csv", "lift_tests": "media_lift_tests.csv"}
CHEAP = {"draws": 100, "tune": 100, "chains": 2}


def fixture_frame(kind: str) -> pd.DataFrame:
    """The media fixture table of ``kind``, dates parsed, as a dataset would store it."""
    frame = pd.read_csv(FIXTURES / FILES[kind])
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"])
    return frame


def workspace_of(client: Any, headers: dict[str, str]) -> str:
    """The id of the workspace of a key."""
    return str(client.get("/v1/workspaces/current", headers=headers).json["id"])


def add_dataset(app: Any, workspace_id: str, kind: str, frame: pd.DataFrame) -> str:
    """Store ``frame`` as Parquet and add a ``Dataset`` row of ``kind``; its id."""
    services = app.extensions["spendwise"]
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    digest = services.store.put(data)
    with services.sessions.begin() as session:
        row = Dataset(workspace_id=workspace_id, kind=kind, name=f"{kind}.csv", rows=len(frame),
                      columns=[str(c) for c in frame.columns], summary={},
                      fingerprint=hashlib.sha256(data).hexdigest(), artifact=digest,
                      size_bytes=len(data), created_by="test")
        session.add(row)
        session.flush()
        return row.id


def media_datasets(app: Any, workspace_id: str,
                   kinds: tuple[str, ...] = tuple(FILES)) -> dict[str, str]:
    """The media fixture as datasets of a workspace: ``kind -> id``."""
    return {kind: add_dataset(app, workspace_id, kind, fixture_frame(kind)) for kind in kinds}


def count(app: Any, table: Any, *where: Any) -> int:
    """Rows of ``table`` matching ``where``."""
    with app.extensions["spendwise"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)))


@pytest.fixture
def datasets(app: Any, client: Any, acme: dict[str, Any]) -> dict[str, str]:
    """The four media fixture datasets in workspace acme."""
    return media_datasets(app, workspace_of(client, acme["owner"]))


def test_create_model_queues_a_fit_job(app, client, acme, datasets):
    """POST /v1/models answers 202 with a queued model, its fit job and its audit event."""
    body = {"spend": datasets["spend"], "outcomes": datasets["outcomes"],
            "settings": CHEAP | {"value_per_conversion": 90}}
    response = client.post("/v1/models", json=body, headers=acme["buyer"])
    assert response.status_code == 202, response.json
    model = response.json
    assert model["state"] == "queued" and model["diagnostics"] is None
    assert model["datasets"] == {"spend": datasets["spend"], "outcomes": datasets["outcomes"],
                                 "controls": None, "lift_tests": None}
    assert model["parameters"] == {"kpi": "conversions", "curve": "exponential", "max_lag": 8,
                                   "fourier_order": 2, "draws": 100, "tune": 100, "chains": 2,
                                   "seed": 0, "holdout_weeks": 0, "value_per_conversion": 90.0,
                                   "prior_width": 0.3, "attribution_prior": None}
    data = MediaData.from_files(FIXTURES / FILES["spend"], FIXTURES / FILES["outcomes"])
    assert model["fingerprint"] == fingerprint({"data": data.fingerprint,
                                                "settings": model["parameters"]})
    assert model["version"] == __version__
    job = client.get(f"/v1/jobs/{model['job_id']}", headers=acme["owner"]).json
    assert (job["kind"], job["target_id"], job["state"]) == ("fit", model["id"], QUEUED)
    events = client.get("/v1/audit", query_string={"action": "model.create"},
                        headers=acme["owner"]).json["events"]
    assert [(e["resource_id"], e["fingerprint"]) for e in events] == \
        [(model["id"], model["fingerprint"])]
    assert events[0]["parameters"]["settings"]["draws"] == 100
    assert events[0]["parameters"]["datasets"]["spend"] == datasets["spend"]
    again = client.get(f"/v1/models/{model['id']}", headers=acme["finance"]).json
    assert again["state"] == "queued" and again["job_id"] == model["job_id"]
    assert again["progress"] == 0.0
    listed = client.get("/v1/models", headers=acme["owner"]).json
    assert [m["id"] for m in listed["models"]] == [model["id"]] and listed["next_offset"] is None


def test_service_fills_the_engines_default_settings(app, client, acme, datasets):
    """create_fit without settings records the engine's defaults; unknown settings are 422."""
    services = app.extensions["spendwise"]
    workspace = workspace_of(client, acme["owner"])
    with services.sessions.begin() as session:
        row = create_fit(session, services.store, workspace, "demo", datasets, {})
        defaults = ResponseModel().settings()
        assert row.parameters == FitRequest().canonical()
        assert all(row.parameters[k] == v for k, v in defaults.items() if k in row.parameters)
        assert row.parameters["draws"] == defaults["draws"] and row.state == "queued"
        assert session.get(Job, row.job_id).target_id == row.id
        with pytest.raises(Invalid, match="unknown setting 'sampler'"):
            create_fit(session, services.store, workspace, "demo", datasets,
                       {"sampler": "pymc"})


def test_model_with_controls_and_lift_tests(client, acme, datasets):
    """All four datasets are accepted and named in the model."""
    response = client.post("/v1/models", json=dict(datasets, settings=CHEAP),
                           headers=acme["owner"])
    assert response.status_code == 202, response.json
    assert response.json["datasets"] == datasets


def test_identifiability_warnings_are_reported_at_once(app, client, acme):
    """Almost collinear channels give a warning in the 202 answer, not an error."""
    workspace = workspace_of(client, acme["owner"])
    spend = fixture_frame("spend")
    search = spend[spend["channel"] == "search"].set_index("date")["spend"]
    feeds = spend["channel"] == "feeds"
    spend.loc[feeds, "spend"] = 0.5 * search.loc[spend.loc[feeds, "date"]].to_numpy()
    ids = {"spend": add_dataset(app, workspace, "spend", spend),
           "outcomes": add_dataset(app, workspace, "outcomes", fixture_frame("outcomes"))}
    response = client.post("/v1/models", json=ids, headers=acme["owner"])
    assert response.status_code == 202, response.json
    assert any("'feeds' and 'search' have almost collinear" in w
               for w in response.json["warnings"])


@pytest.mark.parametrize(("given", "loc", "needle"), [
    ({"kpi": "sales"}, ["json", "settings", "kpi"], "'conversions' or 'revenue'"),
    ({"curve": "hill"}, ["json", "settings", "curve"], "'michaelis_menten'"),
    ({"draws": 0}, ["json", "settings", "draws"], "greater than or equal to 1"),
    ({"chains": 9}, ["json", "settings", "chains"], "less than or equal to 8"),
    ({"max_lag": 0}, ["json", "settings", "max_lag"], "greater than or equal to 1"),
    ({"holdout_weeks": -1}, ["json", "settings", "holdout_weeks"], "greater than or equal"),
    ({"value_per_conversion": -1}, ["json", "settings", "value_per_conversion"], "greater"),
    ({"sampler": "pymc"}, ["json", "settings", "sampler"], "not permitted"),
])
def test_bad_settings_are_field_errors(client, acme, datasets, given, loc, needle):
    """Out-of-range or unknown settings are 422 naming the field and the allowed values."""
    body = {"spend": datasets["spend"], "outcomes": datasets["outcomes"], "settings": given}
    response = client.post("/v1/models", json=body, headers=acme["owner"])
    assert response.status_code == 422
    errors = [e for e in response.json["errors"] if e["loc"][:len(loc)] == loc]
    assert errors and needle in errors[0]["msg"], response.json


def test_missing_or_extra_fields_are_field_errors(client, acme, datasets):
    """A body without spend, or with an unknown field, is 422 naming it."""
    response = client.post("/v1/models", json={"outcomes": datasets["outcomes"]},
                           headers=acme["owner"])
    assert response.status_code == 422 and ["json", "spend"] in \
        [e["loc"] for e in response.json["errors"]]
    response = client.post("/v1/models", json={**datasets, "colour": "red"},
                           headers=acme["owner"])
    assert response.status_code == 422 and ["json", "colour"] in \
        [e["loc"] for e in response.json["errors"]]


@pytest.mark.parametrize(("field", "swap", "needle"), [
    ("spend", "missing", "spend: no dataset 'ds_missing' in this workspace"),
    ("spend", "outcomes", "holds outcomes, not spend"),
    ("outcomes", "spend", "holds spend, not outcomes"),
    ("controls", "lift_tests", "holds lift_tests, not controls"),
    ("lift_tests", "missing", "lift_tests: no dataset"),
])
def test_dataset_references_are_checked(app, client, acme, datasets, field, swap, needle):
    """A missing dataset is 404 and one of the wrong kind 422, naming the field; nothing is
    written."""
    body: dict[str, Any] = dict(datasets)
    body[field] = "ds_missing" if swap == "missing" else datasets[swap]
    response = client.post("/v1/models", json=body, headers=acme["owner"])
    assert response.status_code == (404 if swap == "missing" else 422)
    assert needle in response.json["detail"]
    assert response.json["errors"] == [{"loc": ["json", field], "msg": response.json["detail"]}]
    assert count(app, ResponseFit) == count(app, Job) == 0


def test_another_workspaces_dataset_is_not_found(app, client, acme, rival, datasets):
    """Naming a dataset of another workspace is the same 404 as naming a missing one."""
    response = client.post("/v1/models", json={"spend": datasets["spend"],
                                               "outcomes": datasets["outcomes"]},
                           headers=rival["owner"])
    assert response.status_code == 404
    assert response.json["detail"] == f"spend: no dataset {datasets['spend']!r} in this workspace"


@pytest.mark.parametrize(("case", "needle"), [
    ("short", "fewer than the"),
    ("revenue_kpi", "kpi='revenue' but the data have no revenue column"),
    ("value_per_channel", "value_per_conversion: no value for channels"),
    ("holdout", "fit weeks (after 90 held out)"),
])
def test_bad_data_is_422_at_once_and_writes_nothing(app, client, acme, case, needle):
    """Data or settings the engine refuses are 422 in the request; no model, job or event."""
    workspace = workspace_of(client, acme["owner"])
    spend, outcomes = fixture_frame("spend"), fixture_frame("outcomes")
    settings: dict[str, Any] = {}
    if case == "short":
        first = sorted(spend["date"].unique())[:15]
        spend = spend[spend["date"].isin(first)]
        outcomes = outcomes[outcomes["date"].isin(first)]
    elif case == "revenue_kpi":
        outcomes = outcomes.drop(columns=["revenue"])
        settings = {"kpi": "revenue"}
    elif case == "value_per_channel":
        settings = {"value_per_conversion": {"search": 80.0}}
    else:
        settings = {"holdout_weeks": 90}
    ids = {"spend": add_dataset(app, workspace, "spend", spend),
           "outcomes": add_dataset(app, workspace, "outcomes", outcomes)}
    response = client.post("/v1/models", json=ids | {"settings": settings},
                           headers=acme["owner"])
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert needle in response.json["detail"]
    assert count(app, ResponseFit) == count(app, Job) == 0
    assert count(app, AuditEvent, AuditEvent.action == "model.create") == 0


@pytest.mark.parametrize("role", ["auditor", "finance"])
def test_only_owners_and_buyers_create_models(app, client, acme, datasets, role):
    """Auditors and finance may not create models (403); nothing is queued."""
    response = client.post("/v1/models", json=datasets, headers=acme[role])
    assert response.status_code == 403 and role in response.json["detail"]
    assert count(app, Job) == 0


def test_who_reads_models(client, acme, datasets):
    """Owners, buyers and finance read models; auditors may not."""
    created = client.post("/v1/models", json=datasets, headers=acme["owner"]).json
    for role in ("owner", "buyer", "finance"):
        assert client.get(f"/v1/models/{created['id']}", headers=acme[role]).status_code == 200
        assert client.get("/v1/models", headers=acme[role]).status_code == 200
    assert client.get(f"/v1/models/{created['id']}", headers=acme["auditor"]).status_code == 403
    assert client.get("/v1/models", headers=acme["auditor"]).status_code == 403


def test_models_of_another_workspace_are_not_found(client, acme, rival, datasets):
    """Another workspace's model is 404 (not 403) and absent from the list."""
    created = client.post("/v1/models", json=datasets, headers=acme["owner"]).json
    assert client.get(f"/v1/models/{created['id']}", headers=rival["owner"]).status_code == 404
    response = client.get(f"/v1/models/{created['id']}/curves", headers=rival["owner"])
    assert response.status_code == 404
    assert client.get("/v1/models", headers=rival["owner"]).json["models"] == []


def test_curves_before_the_fit_are_409_naming_the_state(client, acme, datasets):
    """Curves of a queued model are 409 naming its state."""
    created = client.post("/v1/models", json=datasets, headers=acme["owner"]).json
    response = client.get(f"/v1/models/{created['id']}/curves", headers=acme["finance"])
    assert response.status_code == 409
    assert f"model {created['id']} is queued" in response.json["detail"]


def test_models_are_listed_newest_first_in_pages(client, acme, datasets):
    """``limit`` and ``next_offset`` page through the models without repeats."""
    ids = [client.post("/v1/models", json=datasets | {"settings": {"seed": seed}},
                       headers=acme["owner"]).json["id"] for seed in range(3)]
    first = client.get("/v1/models", query_string={"limit": 2}, headers=acme["owner"]).json
    rest = client.get("/v1/models", query_string={"limit": 2, "offset": first["next_offset"]},
                      headers=acme["owner"]).json
    seen = [m["id"] for m in first["models"] + rest["models"]]
    assert sorted(seen) == sorted(ids) and rest["next_offset"] is None
    assert [m["parameters"]["seed"] for m in first["models"] + rest["models"]] == [2, 1, 0]


def test_fit_of_a_deleted_dataset_fails_the_model(app, client, acme, datasets):
    """A dataset deleted before the fit runs fails the job at once and the model with it."""
    created = client.post("/v1/models", json=datasets, headers=acme["owner"]).json
    services = app.extensions["spendwise"]
    with services.sessions.begin() as session:
        session.delete(session.get(Dataset, datasets["outcomes"]))
    assert services.worker().run_one()
    model = client.get(f"/v1/models/{created['id']}", headers=acme["owner"]).json
    assert model["state"] == FAILED
    assert f"outcomes: no dataset {datasets['outcomes']!r}" in model["error"]
    job = client.get(f"/v1/jobs/{created['job_id']}", headers=acme["owner"]).json
    assert job["state"] == FAILED and job["attempts"] == 1
    response = client.post("/v1/plans", json={"model": created["id"], "budget": 1000},
                           headers=acme["owner"])
    assert response.status_code == 409 and "is failed" in response.json["detail"]


@pytest.mark.slow
def test_fit_job_samples_then_curves_and_plans(app, client, acme, database):
    """A tiny fit runs in the worker; the model then serves curves and an allowed plan."""
    if database.backend == "postgresql":
        pytest.skip("sampling is backend-independent; run once, on SQLite")
    from tests.optimizer.conftest_model import synthetic_media

    data, _ = synthetic_media(weeks=40, n_channels=2, seed=1)
    workspace = workspace_of(client, acme["owner"])
    spend = pd.DataFrame({"date": data.dates.repeat(data.n_channels),
                          "channel": list(data.channels) * data.n_periods,
                          "spend": data.spend.ravel()})
    outcomes = pd.DataFrame({"date": data.dates, "conversions": data.conversions,
                             "revenue": data.revenue})
    ids = {"spend": add_dataset(app, workspace, "spend", spend),
           "outcomes": add_dataset(app, workspace, "outcomes", outcomes)}
    created = client.post("/v1/models", json=ids | {"settings": CHEAP},
                          headers=acme["buyer"]).json
    services = app.extensions["spendwise"]
    assert services.worker().run_one()
    model = client.get(f"/v1/models/{created['id']}", headers=acme["buyer"]).json
    assert model["state"] == SUCCEEDED, model
    assert model["diagnostics"]["status"] in ("converged", "not_converged")
    assert model["diagnostics"]["draws"] == 100 and model["diagnostics"]["chains"] == 2
    assert model["progress"] == 1.0
    with services.sessions() as session:
        assert services.store.exists(session.get(ResponseFit, created["id"]).artifact)
    curves = client.get(f"/v1/models/{created['id']}/curves", headers=acme["finance"]).json
    assert [c["channel"] for c in curves["channels"]] == ["ch0", "ch1"]
    plan = client.post("/v1/plans", json={"model": created["id"], "budget": 40_000,
                                          "allow_unconverged": True}, headers=acme["buyer"])
    assert plan.status_code == 201, plan.json
    assert sum(c["spend"] for c in plan.json["result"]["channels"]) == \
        pytest.approx(40_000, rel=1e-6)

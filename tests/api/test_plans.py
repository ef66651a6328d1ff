"""Budget plans, ROMI forecasts and curves over HTTP, checked against the engine in process.

Fitted models are built from hand-made posteriors (``ResponseModel.from_posterior``),
saved to the artifact store and inserted as fitted rows; nothing here samples.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest

from api import fingerprints, fits, plans
from api.tables import AuditEvent, Plan, ResponseFit
from optimizer.allocator import BudgetAllocator
from optimizer.data import MediaData
from optimizer.forecast import compare, forecast
from optimizer.posterior import ResponseDraws
from optimizer.response_model import ResponseModel
from optimizer.response_summary import response_curves
from spendwise import __version__
from tests.api.cli.test_optimizer import hand_posterior
from tests.api.test_models import count, fixture_frame, media_datasets, workspace_of
from tests.api.test_reports import run_job

SETTINGS = {"kpi": "conversions", "value_per_conversion": 90.0}
BUDGET = 600_000.0


class Saved(NamedTuple):
    """A fitted model as the store holds it, with what its row records."""

    blob: bytes
    diagnostics: dict[str, Any]
    fingerprint: str
    draws: ResponseDraws


def save(data: MediaData, divergences: int = 0) -> Saved:
    """Fit ``data`` from a hand posterior, save it, and reload it independently of the API."""
    model = ResponseModel.from_posterior(
        data, hand_posterior(data.n_channels, divergences=divergences), **SETTINGS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.nc"
        model.save(path)
        blob = path.read_bytes()
        draws = ResponseModel.load(path).response_draws()
    return Saved(blob, fingerprints.json_ready(model.result_.to_dict()),
                 fingerprints.fingerprint({"data": data.fingerprint, "settings": SETTINGS}), draws)


@pytest.fixture(scope="module")
def saved() -> dict[str, Saved]:
    """The media fixture fitted (well mixed and with divergences), and with a formula channel."""
    data = MediaData.from_frames(fixture_frame("spend"), fixture_frame("outcomes"))
    spend = fixture_frame("spend").replace({"channel": {"sms": "=sms"}})
    formula = MediaData.from_frames(spend, fixture_frame("outcomes"))
    return {"good": save(data), "diverged": save(data, divergences=3), "formula": save(formula)}


def insert_model(app: Any, workspace_id: str, model: Saved | None, datasets: dict[str, str],
                 state: str = "succeeded") -> str:
    """A model row of ``state``; fitted rows point to the saved model in the store."""
    services = app.extensions["spendwise"]
    with services.sessions.begin() as session:
        row = ResponseFit(
            workspace_id=workspace_id, datasets=datasets, parameters=SETTINGS, state=state,
            diagnostics=None if model is None else model.diagnostics,
            artifact=None if model is None else services.store.put(model.blob),
            fingerprint=model.fingerprint if model else "0" * 64, version=__version__,
            created_by="test")
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def models(app: Any, client: Any, acme: dict[str, Any], saved: dict[str, Saved]) -> dict[str, str]:
    """Fitted models of workspace acme, by name, and a ``queued`` one."""
    workspace = workspace_of(client, acme["owner"])
    datasets = media_datasets(app, workspace, ("spend", "outcomes"))
    ids = {name: insert_model(app, workspace, model, datasets) for name, model in saved.items()}
    ids["queued"] = insert_model(app, workspace, None, datasets, state="queued")
    return ids


def post_plan(client: Any, headers: dict[str, str], model: str, **body: Any) -> Any:
    """POST /v1/plans."""
    return client.post("/v1/plans", json={"model": model, **body}, headers=headers)


def spends(result: dict[str, Any]) -> np.ndarray:
    """Spend per channel of a plan's result, in channel order."""
    return np.array([c["spend"] for c in result["channels"]])


def test_plan_spends_the_budget_as_the_allocator_does(client, acme, models, saved):
    """A plan spends the budget and allocates exactly as BudgetAllocator does in process."""
    response = post_plan(client, acme["buyer"], models["good"], budget=BUDGET)
    assert response.status_code == 201, response.json
    plan = response.json
    result = plan["result"]
    assert spends(result).sum() == pytest.approx(BUDGET, rel=1e-9)
    expected = BudgetAllocator(saved["good"].draws).solve(BUDGET)
    np.testing.assert_allclose(spends(result), expected.spend, rtol=1e-9, atol=1e-6)
    assert result["certificate"]["certified"] is True and result["status"] == "optimal"
    assert result["total"]["kpi"]["mean"] == pytest.approx(
        float(expected.forecast.total_kpi.mean()), rel=1e-9)
    assert [c["channel"] for c in result["channels"]] == list(saved["good"].draws.channels)
    assert plan["kind"] == "plan" and plan["model_id"] == models["good"]
    assert plan["version"] == __version__
    assert plan["fingerprint"] == fingerprints.fingerprint({"model": saved["good"].fingerprint,
                                                    "kind": "plan",
                                                    "parameters": plan["parameters"]})
    assert plan["parameters"]["budget"] == BUDGET and plan["parameters"]["objective"] == \
        "conversions"
    assert client.get(f"/v1/plans/{plan['id']}", headers=acme["auditor"]).json == plan
    event = client.get("/v1/audit", query_string={"action": "plan.create"},
                       headers=acme["owner"]).json["events"][0]
    assert (event["resource_id"], event["fingerprint"]) == (plan["id"], plan["fingerprint"])
    assert event["parameters"] == {"model": models["good"], **plan["parameters"]}


@pytest.mark.parametrize(("objective", "body", "solve"), [
    ("revenue", {"budget": BUDGET}, {"budget": BUDGET}),
    ("profit", {"budget": 10_000_000}, {"budget": 10_000_000}),
    ("cvar", {"budget": BUDGET, "alpha": 0.2}, {"budget": BUDGET}),
    ("min_spend", {"target": 2000}, {"target": 2000}),
])
def test_every_objective_plans_as_the_allocator(client, acme, models, saved, objective, body,
                                                solve):
    """Revenue, profit, CVaR and min_spend plans equal the allocator's in process."""
    response = post_plan(client, acme["owner"], models["good"], objective=objective, **body)
    assert response.status_code == 201, response.json
    result = response.json["result"]
    allocator = BudgetAllocator(saved["good"].draws, objective=objective,
                                alpha=body.get("alpha", 0.1))
    expected = allocator.solve(solve.get("budget"), target=solve.get("target"))
    np.testing.assert_allclose(spends(result), expected.spend, rtol=1e-6, atol=1e-3)
    assert result["objective"] == objective and result["certificate"]["certified"]
    if objective == "profit":
        assert spends(result).sum() <= 10_000_000 * (1 + 1e-9)
    if objective == "min_spend":
        assert result["total"]["kpi"]["mean"] == pytest.approx(2000, rel=1e-5)
    else:
        assert result["shadow_price"]["value"] == pytest.approx(expected.shadow_price,
                                                                rel=1e-6, abs=1e-9)


def test_constraints_of_spendwise_plan(client, acme, models, saved):
    """Current spend, bounds, max_change and locks hold, as in the allocator."""
    draws = saved["good"].draws
    current = {c: 10_000.0 for c in draws.channels}
    body = {"budget": 400_000, "current": current, "max_change": 0.5, "locked": ["sms"],
            "bounds": {"search": {"min": 12_000, "max": 14_000}, "email": {"max": 6_000}}}
    response = post_plan(client, acme["owner"], models["good"], **body)
    assert response.status_code == 201, response.json
    by_channel = {c["channel"]: c for c in response.json["result"]["channels"]}
    assert by_channel["sms"]["weekly_spend"] == pytest.approx(10_000)
    assert 12_000 - 1e-6 <= by_channel["search"]["weekly_spend"] <= 14_000 + 1e-6
    assert by_channel["email"]["weekly_spend"] <= 6_000 + 1e-6
    assert all(5_000 - 1e-6 <= c["weekly_spend"] <= 15_000 + 1e-6 for c in by_channel.values())
    assert all(c["current_spend"] == pytest.approx(40_000) for c in by_channel.values())
    expected = BudgetAllocator(replace(draws, current=np.full(draws.n_channels, 10_000.0))) \
        .solve(400_000, bounds={"search": (12_000, 14_000), "email": (None, 6_000)},
               max_change=0.5, locked=["sms"])
    np.testing.assert_allclose(spends(response.json["result"]), expected.spend, rtol=1e-6,
                               atol=1e-3)


def test_large_per_week_plan_is_a_job_that_plans_as_the_allocator(client, acme, models, saved):
    """A per-week plan over the inline size is queued (202), then solved by a worker."""
    draws = saved["good"].draws
    assert draws.beta.size * 2 > plans.INLINE_PLAN_TERMS  # 2 weeks of every draw and channel
    response = post_plan(client, acme["owner"], models["good"], budget=300_000,
                         horizon_weeks=2, per_week=True)
    assert response.status_code == 202, response.json
    queued = response.json
    assert (queued["state"], queued["result"], queued["error"]) == ("queued", None, None)
    job = client.get(f"/v1/jobs/{queued['job_id']}", headers=acme["buyer"]).json
    assert (job["kind"], job["target_id"], job["state"]) == ("plan", queued["id"], "queued")
    assert client.get(f"/v1/plans/{queued['id']}/csv", headers=acme["owner"]).status_code == 409
    assert client.get(f"/v1/plans/{queued['id']}/html", headers=acme["owner"]).status_code == 409

    assert run_job(client)
    plan = client.get(f"/v1/plans/{queued['id']}", headers=acme["auditor"]).json
    assert plan["state"] == "succeeded" and plan["fingerprint"] == queued["fingerprint"]
    result = plan["result"]
    assert result["mode"] == "per_week"
    assert all(len(c["weekly_spend"]) == 2 for c in result["channels"])
    assert spends(result).sum() == pytest.approx(300_000, rel=1e-6)
    expected = BudgetAllocator(draws, mode="per_week", horizon_weeks=2).solve(300_000)
    np.testing.assert_allclose(spends(result), expected.spend, rtol=1e-4, atol=1.0)
    listed = client.get("/v1/plans", headers=acme["finance"]).json["plans"][0]
    assert listed["state"] == "succeeded" and listed["total"] == result["total"]


def test_small_per_week_plan_is_solved_in_the_request(client, acme, models, monkeypatch):
    """Under the inline size a per-week plan is solved at once (201)."""
    monkeypatch.setattr(plans, "INLINE_PLAN_TERMS", 10 ** 6)
    response = post_plan(client, acme["owner"], models["good"], budget=300_000,
                         horizon_weeks=2, per_week=True)
    assert response.status_code == 201, response.json
    assert response.json["state"] == "succeeded" and response.json["job_id"] is None
    assert spends(response.json["result"]).sum() == pytest.approx(300_000, rel=1e-6)


def test_plan_job_the_solver_refuses_fails_with_the_reason(app, client, acme, models):
    """A queued plan that turns out infeasible fails at once, with the engine's reason."""
    response = post_plan(client, acme["owner"], models["good"], budget=300_000,
                         horizon_weeks=2, per_week=True, romi_floor=1000)
    assert response.status_code == 202, response.json
    assert run_job(client)
    plan = client.get(f"/v1/plans/{response.json['id']}", headers=acme["owner"]).json
    assert plan["state"] == "failed" and plan["result"] is None
    assert "ROMI" in plan["error"], plan["error"]
    job = client.get(f"/v1/jobs/{response.json['job_id']}", headers=acme["owner"]).json
    assert (job["state"], job["attempts"], job["error"]) == ("failed", 1, plan["error"])
    listed = client.get("/v1/plans", headers=acme["owner"]).json["plans"][0]
    assert listed["state"] == "failed" and listed["total"] == {}


def test_plan_job_of_a_deleted_model_fails(app, client, acme, models):
    """A queued plan whose model is gone by the time a worker runs it fails, saying so."""
    response = post_plan(client, acme["owner"], models["good"], budget=300_000,
                         horizon_weeks=2, per_week=True)
    assert response.status_code == 202, response.json
    with app.extensions["spendwise"].sessions.begin() as session:
        session.delete(session.get(ResponseFit, models["good"]))
    assert run_job(client)
    plan = client.get(f"/v1/plans/{response.json['id']}", headers=acme["owner"]).json
    assert plan["state"] == "failed" and "deleted" in plan["error"]


@pytest.mark.parametrize(("body", "status", "field", "needle"), [
    ({"bounds": {"tiktok": {"max": 10}}}, 422, "bounds", "unknown channel 'tiktok'"),
    ({"current": {"tiktok": 5}}, 422, "current", "unknown channel 'tiktok'"),
    ({"locked": ["tiktok"]}, 422, "locked", "unknown channel 'tiktok'"),
    ({"max_change": {"tiktok": 0.2}}, 422, "max_change", "unknown channel 'tiktok'"),
    ({"bounds": {"search": {"min": 5000, "max": 1000}}}, 422, None,
     "channel search: minimum 5,000"),
    ({"bounds": {"search": {"min": 120_000}, "feeds": {"min": 40_000}}}, 422, None,
     "above the budget of 600,000"),
    ({"objective": "roas"}, 422, "objective", "'min_spend'"),
    ({"alpha": 0}, 422, "alpha", "greater than 0"),
    ({"horizon_weeks": 0}, 422, "horizon_weeks", "greater than or equal to 1"),
    ({"budget": None}, 422, None, "budget: required for the conversions objective"),
    ({"target": 100}, 422, None, "target: required by min_spend and only used by it"),
    ({"objective": "profit", "budget_mode": "equal"}, 422, None, "budget of profit is a cap"),
    ({"colour": "red"}, 422, "colour", "not permitted"),
])
def test_bad_plans_are_refused_and_write_nothing(app, client, acme, models, body, status, field,
                                                 needle):
    """Unknown channels, conflicts and bad values are 422 naming them; nothing is stored."""
    response = post_plan(client, acme["owner"], models["good"], **({"budget": BUDGET} | body))
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    assert needle in response.json["detail"]
    if field is not None:
        assert ["json", field] in [e["loc"][:2] for e in response.json["errors"]]
    assert count(app, Plan) == 0
    assert count(app, AuditEvent, AuditEvent.action == "plan.create") == 0


def test_infeasible_constraints_say_so(client, acme, models):
    """Infeasible constraints are 422 titled as such, with the engine's message."""
    response = post_plan(client, acme["owner"], models["good"], budget=BUDGET,
                         bounds={"search": {"min": 5000, "max": 1000}})
    assert response.json["title"] == "Infeasible constraints"
    assert response.json["detail"].startswith("channel search: minimum 5,000 (its bound) is "
                                              "above its maximum 1,000")


def test_unknown_and_foreign_models_are_not_found(client, acme, rival, models):
    """A model of no workspace or of another one is 404 on ``model``, as in a URL."""
    for headers, model in ((acme["owner"], "rm_missing"), (rival["owner"], models["good"]),
                           (acme["owner"], "rm/../x")):
        response = post_plan(client, headers, model, budget=BUDGET)
        assert response.status_code == 404
        assert response.json["errors"][0]["loc"] == ["json", "model"]
        assert f"no model {model!r} in this workspace" in response.json["detail"]


def test_unconverged_model_is_refused_unless_allowed(client, acme, models):
    """A model that did not converge plans only with allow_unconverged."""
    refused = post_plan(client, acme["owner"], models["diverged"], budget=BUDGET)
    assert refused.status_code == 409 and "did not converge" in refused.json["detail"]
    allowed = post_plan(client, acme["owner"], models["diverged"], budget=BUDGET,
                        allow_unconverged=True)
    assert allowed.status_code == 201
    assert spends(allowed.json["result"]).sum() == pytest.approx(BUDGET, rel=1e-9)


def test_model_still_fitting_is_409(client, acme, models):
    """Plans, forecasts and curves of a queued model are 409 naming its state."""
    model = models["queued"]
    responses = [post_plan(client, acme["owner"], model, budget=BUDGET),
                 client.post("/v1/forecasts", json={"model": model, "allocation": {}},
                             headers=acme["owner"]),
                 client.get(f"/v1/models/{model}/curves", headers=acme["owner"])]
    for response in responses:
        assert response.status_code == 409
        assert f"model {model} is queued" in response.json["detail"]


def test_forecast_equals_the_engine(client, acme, models, saved):
    """A forecast and its comparison with current are the engine's numbers."""
    draws = saved["good"].draws
    allocation = {"search": 60_000.0, "feeds": 20_000.0, "email": 2_000.0}
    response = client.post("/v1/forecasts", json={"model": models["good"],
                                                  "allocation": allocation,
                                                  "horizon_weeks": 6}, headers=acme["finance"])
    assert response.status_code == 201, response.json
    row = response.json
    weekly = np.array([allocation.get(c, 0.0) for c in draws.channels])
    expected = forecast(draws, weekly, horizon_weeks=6)
    got = row["result"]["forecast"]
    assert got["horizon_weeks"] == 6 and got["mode"] == "steady"
    assert got["total"]["spend"] == pytest.approx(6 * weekly.sum())
    assert got["total"]["kpi"]["mean"] == pytest.approx(float(expected.total_kpi.mean()),
                                                        rel=1e-12)
    for entry, index in zip(got["channels"], range(draws.n_channels), strict=True):
        assert entry["kpi"]["p50"] == pytest.approx(float(np.median(expected.kpi[:, index])))
    comparison = compare(draws, "current", weekly, horizon_weeks=6)
    against = row["result"]["against_current"]
    assert against["prob_proposed_beats_current"] == pytest.approx(comparison.prob_beats)
    assert against["difference"]["kpi"]["mean"] == pytest.approx(
        float(comparison.kpi_gain.mean()), rel=1e-9)
    assert row["kind"] == "forecast" and row["parameters"]["allocation"] == allocation
    event = client.get("/v1/audit", query_string={"action": "forecast.create"},
                       headers=acme["owner"]).json["events"][0]
    assert (event["resource_id"], event["fingerprint"]) == (row["id"], row["fingerprint"])


def test_forecast_without_comparison_and_bad_allocations(client, acme, models):
    """compare_with_current=false leaves the comparison out; unknown channels are 422."""
    response = client.post("/v1/forecasts", json={"model": models["good"],
                                                  "allocation": {"search": 1000},
                                                  "compare_with_current": False},
                           headers=acme["buyer"])
    assert response.status_code == 201 and response.json["result"]["against_current"] is None
    for allocation, needle in (({"tiktok": 5}, "unknown channel 'tiktok'"),
                               ({"search": -1}, "greater than or equal to 0")):
        bad = client.post("/v1/forecasts", json={"model": models["good"],
                                                 "allocation": allocation},
                          headers=acme["buyer"])
        assert bad.status_code == 422 and needle in bad.json["detail"]
        assert bad.json["errors"][0]["loc"][:2] == ["json", "allocation"]


@pytest.mark.parametrize(("role", "plan", "forecast_", "read"), [
    ("owner", 201, 201, 200), ("buyer", 201, 201, 200),
    ("auditor", 403, 403, 200), ("finance", 403, 201, 200),
])
def test_roles(client, acme, models, role, plan, forecast_, read):
    """Owners and buyers plan; finance forecasts; every role reads plans."""
    headers = acme[role]
    assert post_plan(client, headers, models["good"], budget=BUDGET).status_code == plan
    response = client.post("/v1/forecasts", json={"model": models["good"],
                                                  "allocation": {"search": 1000}},
                           headers=headers)
    assert response.status_code == forecast_
    assert client.get("/v1/plans", headers=headers).status_code == read


def test_plans_of_another_workspace_are_not_found(client, acme, rival, models):
    """Another workspace's plan is 404 as JSON and CSV, and not listed."""
    plan = post_plan(client, acme["owner"], models["good"], budget=BUDGET).json
    assert client.get(f"/v1/plans/{plan['id']}", headers=rival["owner"]).status_code == 404
    assert client.get(f"/v1/plans/{plan['id']}/csv", headers=rival["owner"]).status_code == 404
    assert client.get("/v1/plans", headers=rival["owner"]).json["plans"] == []
    assert client.get(f"/v1/models/{models['good']}/curves",
                      headers=rival["owner"]).status_code == 404


def test_plan_and_forecast_csv(client, acme, models):
    """The CSV of a plan or forecast is its channel table, formula-like names neutralised."""
    plan = post_plan(client, acme["owner"], models["formula"], budget=BUDGET).json
    response = client.get(f"/v1/plans/{plan['id']}/csv", headers=acme["finance"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = pd.read_csv(io.StringIO(response.get_data(as_text=True)))
    assert list(table.columns[:4]) == ["channel", "spend", "current_spend", "change"]
    assert "'=sms" in set(table["channel"]) and "=sms" not in set(table["channel"])
    np.testing.assert_allclose(table["spend"], spends(plan["result"]), rtol=1e-15)
    assert "kpi.mean" in table.columns
    fc = client.post("/v1/forecasts", json={"model": models["good"],
                                            "allocation": {"search": 1000}},
                     headers=acme["owner"]).json
    table = pd.read_csv(io.StringIO(client.get(f"/v1/plans/{fc['id']}/csv",
                                               headers=acme["owner"]).get_data(as_text=True)))
    assert table.set_index("channel")["spend"].to_dict()["search"] == pytest.approx(4000)


def test_curves_are_the_engines(client, acme, models, saved):
    """Curves as JSON equal the engine's; as CSV one row per channel and spend point."""
    response = client.get(f"/v1/models/{models['formula']}/curves", headers=acme["finance"])
    assert response.status_code == 200
    expected = response_curves(saved["formula"].draws).to_dict()
    assert response.json["kpi"] == expected["kpi"] == "conversions"
    for got, want in zip(response.json["channels"], expected["channels"], strict=True):
        assert got["channel"] == want["channel"]
        np.testing.assert_allclose(got["kpi"]["p50"], want["kpi"]["p50"], rtol=1e-12)
        np.testing.assert_allclose(got["romi"]["mean"], want["romi"]["mean"], rtol=1e-12)
    csv = client.get(f"/v1/models/{models['formula']}/curves", query_string={"format": "csv"},
                     headers=acme["owner"])
    assert csv.mimetype == "text/csv"
    table = pd.read_csv(io.StringIO(csv.get_data(as_text=True)))
    assert list(table.columns[:3]) == ["channel", "spend", "kpi_mean"]
    assert len(table) == sum(len(c["spend"]) for c in expected["channels"])
    assert table["channel"].iloc[0] == "'=sms"
    assert client.get(f"/v1/models/{models['good']}/curves",
                      headers=acme["auditor"]).status_code == 403


def test_list_filters_and_pages(client, acme, models):
    """Plans and forecasts are listed newest first with totals, filtered by kind and model."""
    first = post_plan(client, acme["owner"], models["good"], budget=BUDGET).json
    second = post_plan(client, acme["owner"], models["good"], budget=BUDGET / 2).json
    fc = client.post("/v1/forecasts", json={"model": models["formula"],
                                            "allocation": {"search": 1000}},
                     headers=acme["owner"]).json
    listed = client.get("/v1/plans", headers=acme["auditor"]).json
    assert {p["id"] for p in listed["plans"]} == {first["id"], second["id"], fc["id"]}
    totals = {p["id"]: p["total"]["spend"] for p in listed["plans"]}
    assert totals[first["id"]] == pytest.approx(BUDGET) and totals[fc["id"]] == \
        pytest.approx(4000)
    only = client.get("/v1/plans", query_string={"kind": "forecast"}, headers=acme["owner"]).json
    assert [p["id"] for p in only["plans"]] == [fc["id"]]
    by_model = client.get("/v1/plans", query_string={"model": models["good"], "limit": 1},
                          headers=acme["owner"]).json
    assert len(by_model["plans"]) == 1 and by_model["next_offset"] == 1


def test_same_request_same_fingerprint(client, acme, models):
    """Identical requests give identical fingerprints and results; another budget does not."""
    a, b = (post_plan(client, acme["owner"], models["good"], budget=BUDGET).json
            for _ in range(2))
    c = post_plan(client, acme["owner"], models["good"], budget=BUDGET + 1).json
    assert a["fingerprint"] == b["fingerprint"] != c["fingerprint"]
    assert a["result"] == b["result"] and a["id"] != b["id"]


def test_fitted_models_are_loaded_once(client, acme, models, monkeypatch):
    """Plans on one model load it from the store once, then from the cache."""
    loads: list[int] = []
    original = fits.load_fitted

    def counting(data: bytes) -> fits.Fitted:
        loads.append(len(data))
        return original(data)

    monkeypatch.setattr(fits, "load_fitted", counting)
    monkeypatch.setattr(fits, "MODELS", fits.ModelCache(size=1))
    for budget in (BUDGET, BUDGET / 2):
        assert post_plan(client, acme["owner"], models["good"], budget=budget).status_code == 201
    assert len(loads) == 1
    client.get(f"/v1/models/{models['formula']}/curves", headers=acme["owner"])
    post_plan(client, acme["owner"], models["good"], budget=BUDGET)
    assert len(loads) == 3  # a cache of one model evicted the first

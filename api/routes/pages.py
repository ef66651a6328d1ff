"""HTML pages of reports, response models and plans.

``GET /v1/reports/{id}/html``, ``GET /v1/models/{id}/html`` and
``GET /v1/plans/{id}/html`` answer with one self-contained page each (inline
SVG charts, no script, no fetched resource; rendered by :mod:`api.html`) under
a Content-Security-Policy that allows nothing but inline styles and ``data:``
images. A report or model that has not succeeded yet is a 409 problem.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from apiflask.schemas import FileSchema
from flask import Response

from api import fits, html, plans
from api.context import auth, db, owned, principal, services
from api.errors import Conflict, NotFound
from api.jobs import SUCCEEDED
from api.tables import Plan, Report, ResponseFit

blueprint = APIBlueprint("pages", __name__, url_prefix="/v1", tag="pages")
PAGE = FileSchema(type="string", format="binary")
#: Longest resource id (``api.tables`` ids are ``<prefix>_<32 hex>``, in 40 characters).
MAX_ID = 40


def page(text: str) -> Response:
    """A ``text/html; charset=utf-8`` response under the pages' CSP."""
    return Response(text, status=200, mimetype="text/html",
                    headers={"Content-Security-Policy": html.CSP})


def finished(model: type[Any], resource_id: str, noun: str, action: str) -> Any:
    """The caller's row ``resource_id`` once it has succeeded, else 404 or 409."""
    principal().require(action)
    if len(resource_id) > MAX_ID or not resource_id.isprintable():
        raise NotFound(f"no {noun} with that id in this workspace")
    row = owned(model, resource_id)
    state = getattr(row, "state", SUCCEEDED)
    if state != SUCCEEDED:
        raise Conflict(f"{noun} {resource_id!r} has not succeeded (state {state!r}); its page "
                       "is available once it has")
    return row


@blueprint.get("/reports/<report_id>/html")
@blueprint.auth_required(auth)
@blueprint.output(PAGE, content_type="text/html",
                  description="the report as a self-contained HTML page")
@blueprint.doc(responses={403: "the role may not read reports",
                          404: "no such report in this workspace",
                          409: "the report is queued, running or failed"})
def report_page(report_id: str) -> Response:
    """An attribution report as a page: credit by channel and model with intervals."""
    row = finished(Report, report_id, "report", "report.read")
    if not row.result:
        raise Conflict(f"report {report_id!r} has no result")
    return page(html.report_page(row.result, title=f"Attribution report {row.id}",
                                 facts=html.report_facts(row), parameters=row.parameters))


@blueprint.get("/models/<model_id>/html")
@blueprint.auth_required(auth)
@blueprint.output(PAGE, content_type="text/html",
                  description="the response model as a self-contained HTML page")
@blueprint.doc(responses={403: "the role may not read models",
                          404: "no such response model in this workspace",
                          409: "the model is queued, running or failed"})
def model_page(model_id: str) -> Response:
    """A response model as a page: its checks in words, the contributions, the response
    curves with bands and the return of the next unit of spend."""
    row = finished(ResponseFit, model_id, "response model", "model.read")
    if row.artifact is None:
        raise Conflict(f"response model {model_id!r} has no saved fit")
    store = services().store
    return page(html.model_page(fits.fitted(store, row).model, title=f"Response model {row.id}",
                                facts=html.model_facts(row), parameters=row.parameters,
                                diagnostics=row.diagnostics, datasets=row.datasets,
                                tested=fits.lift_tests_of(db(), store, row)))


@blueprint.get("/plans/<plan_id>/html")
@blueprint.auth_required(auth)
@blueprint.output(PAGE, content_type="text/html",
                  description="the plan or forecast as a self-contained HTML page")
@blueprint.doc(responses={403: "the role may not read plans",
                          404: "no such plan in this workspace",
                          409: "the plan is queued, running or failed"})
def plan_page(plan_id: str) -> Response:
    """A budget plan or ROMI forecast as a page: current against proposed spend, expected
    KPI and ROMI with intervals, marginal ROMI, shadow price and certificate."""
    row = finished(Plan, plan_id, "plan", "plan.read")
    return page(html.plan_page(row.result, kind=row.kind, title=html.plan_title(row.kind, row.id),
                               facts=html.plan_facts(row), parameters=row.parameters,
                               history=plans.history(db(), services().store, row)))

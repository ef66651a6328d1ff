"""Uploads: one form per kind of dataset, journeys from touches and conversions, a dataset.

``GET /datasets/upload`` shows, for each kind of :data:`api.datasets.KINDS`,
the columns its reader expects with a few example rows, and a form that takes
the file (CSV or Parquet) and a name. ``POST /datasets/upload`` stores it
through :func:`api.datasets.upload`, the code of ``POST /v1/datasets``: the
engines' readers check it and user ids of touches and conversions are
pseudonymised before anything is stored. A refused file is shown beside the
form's file field, naming the row and the column (status 422), and nothing is
stored. ``POST /datasets/journeys`` builds paths from a touches and a
conversions dataset (:func:`api.datasets.build_journeys`, as ``POST
/v1/datasets/journeys``). ``GET /datasets/<id>`` says what a dataset holds and
what it can be used for; ``POST /datasets/<id>/delete`` (owners) deletes it and
every dataset built from it (:func:`api.datasets.delete_dataset`).

Uploaded files stay in memory while the form is read (:func:`_files_in_memory`):
raw user ids never reach a temporary file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import PurePath
from typing import Any

from babel.dates import format_date
from flask import Blueprint, Response, redirect, request, url_for
from pydantic import ValidationError
from sqlalchemy import select

from api import datasets
from api.access import Principal
from api.context import RESOURCE_ID, db, services
from api.datasets import KINDS, MEDIA_TYPES, with_derived
from api.errors import Invalid, NotFound, UnsupportedMediaType
from api.routes.datasets import JourneysIn, UploadQuery
from api.tables import Dataset
from api.web import i18n, pages
from api.web.home import creators
from api.web.i18n import gettext
from attribution.errors import AttributionError
from attribution.journeys import JourneyRequest
from optimizer.errors import OptimizerError
from optimizer.tables import LIFT_COLUMNS
from spendwise.errors import FieldProblem

blueprint = Blueprint("web_datasets", __name__)

#: File name endings and the media type ``POST /v1/datasets`` reads them as.
SUFFIXES = {".csv": "text/csv", ".txt": "text/csv",
            ".parquet": "application/vnd.apache.parquet", ".pq": "application/vnd.apache.parquet"}
assert set(SUFFIXES.values()) <= set(MEDIA_TYPES)
#: Errors of a refused file or request: shown beside the form's field.
REFUSED = (AttributionError, OptimizerError, Invalid, UnsupportedMediaType, NotFound)
#: Form fields of the journeys form, by the request's field.
JOURNEY_FIELDS = {name: f"journeys-{name}" for name in
                  ("touches", "conversions", "lookback_days", "separator", "name")}

#: Per kind: its columns as the readers take them (``(name, required)``) and example rows.
FORMATS: dict[str, tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, ...], ...]]] = {
    "paths": ((("path", True), ("conversions", True), ("nulls", True), ("value", False)),
              (("search > email", "12", "88", "640.50"), ("display", "3", "410", "150.00"),
               ("feeds > search > email", "7", "52", "380.20"))),
    "touches": ((("user_id", True), ("timestamp", True), ("channel", True)),
                (("u0001", "2024-03-01 09:15:00", "search"),
                 ("u0001", "2024-03-04 20:02:11", "email"),
                 ("u0002", "2024-03-02 13:37:27", "short_video"))),
    "conversions": ((("user_id", True), ("timestamp", True), ("value", False)),
                    (("u0001", "2024-03-05 10:00:00", "71.81"),
                     ("u0002", "2024-03-06 16:37:47", "121.44"))),
    "spend": ((("date", True), ("channel", True), ("spend", True)),
              (("2024-01-01", "search", "70006.01"), ("2024-01-01", "email", "2353.35"),
               ("2024-01-08", "search", "68750.00"))),
    "outcomes": ((("date", True), ("conversions", True), ("revenue", False)),
                 (("2024-01-01", "4230.94", "361493.27"), ("2024-01-08", "4207.31", "359869.98"))),
    "controls": ((("date", True), ("promotion", True), ("holiday", False)),
                 (("2024-01-01", "0", "1"), ("2024-01-08", "1", "0"))),
    "lift_tests": (tuple((name, True) for name in LIFT_COLUMNS),
                   (("search", "60000", "30000", "-177.2", "18.9"),
                    ("email", "1500", "3000", "20.4", "2.1"))),
}
assert tuple(FORMATS) == KINDS


# -- looking datasets up --------------------------------------------------------------------


def owned_dataset(who: Principal, dataset_id: str) -> Dataset | None:
    """The dataset ``dataset_id`` of the signed-in workspace, if there is one."""
    if not RESOURCE_ID.fullmatch(dataset_id):
        return None
    row = db().get(Dataset, dataset_id)
    return row if row is not None and row.workspace_id == who.workspace_id else None


def of_kinds(who: Principal, *kinds: str) -> list[Dataset]:
    """The workspace's datasets of ``kinds``, newest first."""
    return list(db().scalars(select(Dataset).where(
        Dataset.workspace_id == who.workspace_id, Dataset.kind.in_(kinds))
        .order_by(Dataset.created_at.desc(), Dataset.id.desc())))


# -- upload ---------------------------------------------------------------------------------


def _upload_page(who: Principal, *, status: int = 200, errors: pages.FormErrors | None = None,
                 refused: str = "", form: Mapping[str, str] | None = None) -> Response:
    people = {kind: of_kinds(who, kind) for kind in ("touches", "conversions")}
    return pages.render("web/datasets/upload.html", status=status,
                        title=i18n.gettext("Upload data"), kinds=KINDS, formats=FORMATS,
                        errors=errors or pages.FormErrors(), refused=refused, form=form or {},
                        people=people, journeys=JourneyRequest.build().canonical())


def media_type_of(filename: str) -> str | None:
    """The media type of an uploaded file by its name's ending, if it is CSV or Parquet."""
    return SUFFIXES.get(PurePath(filename.lower()).suffix)


@blueprint.route("/datasets/upload", methods=["GET", "POST"])
def upload() -> Response:
    """The upload forms; a form sent stores its file as a dataset, then shows the dataset."""
    who = pages.require("dataset.upload")
    if request.method == "GET":
        return _upload_page(who)
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        raise NotFound(i18n.gettext("There is no upload form for this kind of data."))
    file = request.files.get("file")
    filename = (file.filename or "") if file is not None else ""
    name = request.form.get("name", "").strip() or PurePath(filename).name
    form = {f"{kind}-name": request.form.get("name", "")}
    errors = pages.FormErrors()
    media_type = media_type_of(filename)
    if file is None or not filename:
        errors.add(f"{kind}-file", i18n.gettext("Choose a CSV or Parquet file."))
    elif media_type is None:
        errors.add(f"{kind}-file", i18n.gettext("The file must end in .csv or .parquet."))
    try:
        UploadQuery.model_validate({"kind": kind, "name": name})
    except ValidationError as exc:
        errors.add(f"{kind}-name", "; ".join(str(e["msg"]) for e in exc.errors()))
    if errors or file is None or media_type is None:
        return _upload_page(who, status=422, errors=errors, refused=kind, form=form)
    try:
        row = datasets.upload(db(), services().store, who, kind, name, file.read(), media_type)
    except REFUSED as exc:
        errors.add(f"{kind}-file", str(getattr(exc, "detail", exc)))
        return _upload_page(who, status=422, errors=errors, refused=kind, form=form)
    return redirect(url_for("web_datasets.dataset", dataset_id=row.id), code=303)  # type: ignore[return-value]


@blueprint.post("/datasets/journeys")
def journeys() -> Response:
    """Build a paths dataset from a touches and a conversions dataset, then show it."""
    who = pages.require("dataset.upload")
    typed = {name: request.form.get(name, "") for name in JOURNEY_FIELDS}
    form = {JOURNEY_FIELDS[name]: value for name, value in typed.items()}
    values = {**typed, "name": typed["name"].strip(),
              "lookback_days": form_number(typed["lookback_days"])}
    try:
        body = JourneysIn.build(**{k: v for k, v in values.items()
                                   if v not in (None, "") or k == "name"})
        found = {f: owned_dataset(who, getattr(body, f)) for f in ("touches", "conversions")}
        missing = [f for f, row in found.items() if row is None]
        if missing:
            raise Invalid("no such dataset", errors=[
                {"loc": ["form", f], "msg": i18n.gettext("Choose a dataset of this workspace.")}
                for f in missing])
        touches, conversions = found["touches"], found["conversions"]
        assert touches is not None and conversions is not None
        row = datasets.build_journeys(db(), services().store, who, touches, conversions,
                                      JourneyRequest.within(body), body.name)
    except (FieldProblem, *REFUSED) as exc:
        errors = pages.FormErrors.of_error(exc, JOURNEY_FIELDS)
        return _upload_page(who, status=422, errors=errors, refused="journeys", form=form)
    return redirect(url_for("web_datasets.dataset", dataset_id=row.id), code=303)  # type: ignore[return-value]


def form_number(text: str) -> int | float | str | None:
    """A number typed in a form: an int or a float; ``None`` if empty.

    Thousands separators (``1,000``) are allowed. Text that is no number is
    returned as it is, for the request to name the problem.
    """
    plain = text.strip().replace(",", "")
    if not plain:
        return None
    try:
        return int(plain)
    except ValueError:
        pass
    try:
        found = float(plain)
    except ValueError:
        return text.strip()
    return found


# -- one dataset ----------------------------------------------------------------------------


def _day(text: Any) -> str:
    """An ISO date (or date and time) as the language writes a date."""
    try:
        return str(format_date(date.fromisoformat(str(text)[:10]), "medium",
                               locale=i18n.locale()))
    except ValueError:
        return str(text)


def _names(names: Any) -> str:
    return i18n.gettext(", ").join(str(n) for n in names or [])


def summary_sentences(row: Dataset) -> list[str]:
    """What a dataset holds, in a few sentences of the reader's language."""
    s: dict[str, Any] = row.summary if isinstance(row.summary, dict) else {}
    currency = pages.workspace().currency
    span = s.get("date_range") or {}
    first, last = _day(span.get("first", "")), _day(span.get("last", ""))
    found: list[str] = []
    if row.kind == "paths":
        found.append(gettext(
            "{journeys} journeys, of which {conversions} converted, worth {value}.",
            journeys=i18n.number(s.get("journeys")), conversions=i18n.number(s.get("conversions")),
            value=i18n.money(s.get("value"), currency)))
        builder = s.get("journey_builder")
        if isinstance(builder, dict):
            found.append(gettext(
                "Built from touches and conversions with a look-back of {days} days; {dropped} "
                "conversions had no touch in their window.",
                days=i18n.number(builder.get("lookback_days")),
                dropped=i18n.number(builder.get("conversions_without_touches"))))
    elif row.kind == "touches":
        found.append(gettext("Touches of {users} people from {first} to {last}.",
                             users=i18n.number(s.get("users")), first=first, last=last))
    elif row.kind == "conversions":
        found.append(gettext(
            "{conversions} conversions worth {value} by {users} people, from {first} to {last}.",
            conversions=i18n.number(s.get("conversions")),
            value=i18n.money(s.get("value"), currency), users=i18n.number(s.get("users")),
            first=first, last=last))
    elif row.kind in ("spend", "outcomes", "controls"):
        found += _dated_sentences(row.kind, s, first, last, currency)
    elif row.kind == "lift_tests":
        found.append(gettext("{tests} lift tests.", tests=i18n.number(s.get("tests"))))
    if s.get("channels"):
        found.append(gettext("{count} channels: {names}.", count=i18n.number(len(s["channels"])),
                             names=_names(s["channels"])))
    return found


def _dated_sentences(kind: str, s: Mapping[str, Any], first: str, last: str,
                     currency: str) -> list[str]:
    """The period and totals of a spend, outcomes or controls dataset."""
    every = {"W": gettext("Weekly"), "D": gettext("Daily")}.get(str(s.get("frequency")), "")
    found = [gettext("{every} data from {first} to {last}: {periods} periods.", every=every,
                     first=first, last=last, periods=i18n.number(s.get("periods")))]
    if "spend" in s:
        found.append(gettext("Spend in total: {spend}.",
                             spend=i18n.money(s["spend"], currency)))
    if "conversions" in s and kind == "outcomes":
        found.append(gettext("Conversions in total: {conversions}.",
                             conversions=i18n.number(s["conversions"])))
    if "revenue" in s:
        found.append(gettext("Revenue in total: {revenue}.",
                             revenue=i18n.money(s["revenue"], currency)))
    if "controls" in s:
        found.append(gettext("Controls: {names}.", names=_names(s["controls"])))
    return found


def next_uses(row: Dataset) -> list[tuple[str, str]]:
    """What the dataset can be used for next, as the role allows: ``(sentence, url)``."""
    found: list[tuple[str, str]] = []
    if row.kind == "paths" and pages.allowed("report.create"):
        found.append((gettext("Compare attribution models on these journeys."),
                      url_for("web_reports.new_report", dataset=row.id)))
    if row.kind in ("spend", "outcomes", "controls", "lift_tests") and \
            pages.allowed("model.create"):
        found.append((gettext("Fit a response model of spend to outcomes with this data."),
                      url_for("web_models.new_model")))
    if row.kind in ("touches", "conversions") and pages.allowed("dataset.upload"):
        found.append((gettext("Build journeys from touches and conversions."),
                      url_for("web_datasets.upload", _anchor="journeys")))
    return found


@blueprint.get("/datasets/<dataset_id>")
def dataset(dataset_id: str) -> Response:
    """A dataset: its kind, size, columns, summary in words and what to do next."""
    who = pages.require("dataset.read")
    row = owned_dataset(who, dataset_id)
    if row is None:
        raise NotFound(i18n.gettext("No such dataset in this workspace."))
    derived = with_derived(db(), row)[1:]
    by_id = {r.id: r for r in of_kinds(who, *KINDS)}
    spend = (row.summary or {}).get("spend_by_channel") if row.kind == "spend" else None
    return pages.render("web/datasets/dataset.html", title=row.name, row=row,
                        sentences=summary_sentences(row), uses=next_uses(row), derived=derived,
                        sources=[by_id[i] for i in row.derived_from or [] if i in by_id],
                        spend_by_channel=spend if isinstance(spend, dict) else None,
                        creator=creators(row.workspace_id).get(row.created_by, row.created_by))


@blueprint.post("/datasets/<dataset_id>/delete")
def delete(dataset_id: str) -> Response:
    """Delete a dataset and every dataset built from it (owners), then go home."""
    who = pages.require("dataset.delete")
    row = owned_dataset(who, dataset_id)
    if row is None:
        raise NotFound(i18n.gettext("No such dataset in this workspace."))
    datasets.delete_dataset(db(), services().store, who, row)
    return redirect(url_for("web_home.home"), code=303)  # type: ignore[return-value]

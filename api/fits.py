"""Response-model fits of a workspace and the fitted models they leave (no HTTP here).

A fit reads its datasets (Parquet artifacts in the store), validates them with
:meth:`optimizer.data.MediaData.from_frames` and runs as a background job of kind
``fit`` (:func:`run_fit`), which saves the fitted :class:`~optimizer.response_model.ResponseModel`
to the store as one NetCDF file. Plans and forecasts on a fitted model are
:mod:`api.plans`.

A model's fingerprint (:mod:`api.fingerprints`) hashes the data's own
fingerprint and the settings. Fitted models are loaded through :data:`MODELS`,
a small LRU cache keyed by artifact hash (an artifact never changes, so the
cache cannot be stale).
"""

from __future__ import annotations

import io
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import update
from sqlalchemy.orm import Session

from api import artifacts
from api.access import Principal
from api.audit import record
from api.errors import Conflict, Invalid, NotFound
from api.fingerprints import fingerprint, json_ready
from api.jobs import FAILED, QUEUED, SUCCEEDED, JobContext, enqueue
from api.store import ArtifactStore
from api.tables import Dataset, ResponseFit
from optimizer.data import MediaData
from optimizer.errors import RequestError
from optimizer.posterior import ResponseDraws
from optimizer.requests import FitRequest
from optimizer.response_model import ResponseModel
from spendwise import __version__

#: Dataset fields of a fit, each naming the dataset kind it takes.
DATASET_FIELDS = ("spend", "outcomes", "controls", "lift_tests")
REQUIRED = ("spend", "outcomes")
JOB_KIND = "fit"
#: Fitted models kept in memory per process.
CACHE_SIZE = 8


def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"loc": ["json", field], "msg": message}])


# -- fits ---------------------------------------------------------------------------------------


#: What a dataset id can look like (:data:`api.schemas.RESOURCE_ID_PATTERN`); anything else
#: names no dataset, and never reaches a query (PostgreSQL refuses NUL in text).
_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def dataset_rows(session: Session, workspace_id: str,
                 refs: Mapping[str, str | None]) -> dict[str, Dataset]:
    """The datasets named by ``refs`` (``field -> id``), each of the kind its field names."""
    rows: dict[str, Dataset] = {}
    for field in DATASET_FIELDS:
        dataset_id = refs.get(field)
        if dataset_id is None:
            if field in REQUIRED:
                raise _field_error(field, f"{field}: a {field} dataset is required")
            continue
        row = session.get(Dataset, dataset_id) if _ID.fullmatch(dataset_id) else None
        if row is None or row.workspace_id != workspace_id:
            message = f"{field}: no dataset {dataset_id[:40]!r} in this workspace"
            raise NotFound(message, errors=[{"loc": ["json", field], "msg": message}])
        if row.kind != field:
            raise _field_error(field, f"{field}: dataset {dataset_id!r} holds {row.kind}, not "
                                      f"{field}")
        rows[field] = row
    return rows


def media_data(store: ArtifactStore, rows: Mapping[str, Dataset]) -> tuple[MediaData, list[str]]:
    """Validated media data of the datasets, and the identifiability warnings it raised."""
    frames = {field: pd.read_parquet(io.BytesIO(store.get(row.artifact)))
              for field, row in rows.items()}
    data = MediaData.from_frames(frames["spend"], frames["outcomes"], frames.get("controls"),
                                 frames.get("lift_tests"), warn=False)
    return data, list(data.identifiability_notes)


class FitInputs(NamedTuple):
    """What a fit needs, validated: the data, the full settings and the data's warnings."""

    data: MediaData
    request: FitRequest
    notes: list[str]

    @property
    def settings(self) -> dict[str, Any]:
        """The request's canonical JSON: every setting, stored with the fit."""
        return self.request.canonical()


def fit_settings(given: Mapping[str, Any] | FitRequest) -> FitRequest:
    """The fit request of ``given`` settings (422 naming the setting otherwise)."""
    if isinstance(given, FitRequest):
        return given
    try:
        return FitRequest.build(**given)
    except RequestError as exc:
        raise Invalid(str(exc), errors=[{"loc": ["json", "settings", *field.split(".")],
                                         "msg": sentence}
                                        for field, sentence in exc.problems]) from None


def prepare_fit(session: Session, store: ArtifactStore, workspace_id: str,
                refs: Mapping[str, str | None],
                settings: Mapping[str, Any] | FitRequest) -> FitInputs:
    """Check the datasets, the data and the settings against the data, without sampling."""
    request = fit_settings(settings)
    data, notes = media_data(store, dataset_rows(session, workspace_id, refs))
    ResponseModel.for_request(request).prepare(data)
    return FitInputs(data, request, notes)


def add_fit(session: Session, workspace_id: str, created_by: str,
            refs: Mapping[str, str | None], inputs: FitInputs) -> ResponseFit:
    """Add a queued fit of prepared inputs and its job (the caller audits and commits)."""
    row = ResponseFit(workspace_id=workspace_id,
                      datasets={f: refs.get(f) for f in DATASET_FIELDS},
                      parameters=inputs.settings, state=QUEUED,
                      fingerprint=fingerprint({"data": inputs.data.fingerprint,
                                               "settings": inputs.settings}),
                      version=__version__, created_by=created_by)
    session.add(row)
    session.flush()
    row.job_id = enqueue(session, workspace_id, JOB_KIND, row.id).id
    return row


def create_fit(session: Session, store: ArtifactStore, workspace_id: str, created_by: str,
               refs: Mapping[str, str | None],
               settings: Mapping[str, Any] | FitRequest) -> ResponseFit:
    """Validate, then add a queued fit and its job (the caller audits and commits).

    Parameters
    ----------
    session, store
        Where the rows go and where the datasets' Parquet files are.
    workspace_id, created_by
        The owning workspace and the key id recorded as the creator.
    refs
        ``{"spend": id, "outcomes": id, "controls": id|None, "lift_tests": id|None}``.
    settings
        A :class:`~optimizer.requests.FitRequest` or its fields; missing ones take
        the request's defaults.

    Returns
    -------
    ResponseFit
        The new row, flushed but not committed; ``job_id`` names its job.
    """
    inputs = prepare_fit(session, store, workspace_id, refs, settings)
    return add_fit(session, workspace_id, created_by, refs, inputs)


def start_fit(session: Session, store: ArtifactStore, who: Principal,
              refs: Mapping[str, str | None],
              settings: Mapping[str, Any] | FitRequest) -> tuple[ResponseFit, list[str]]:
    """Validate, queue the fit, record its audit event and commit.

    What ``POST /v1/models`` and the browser's fit form both do.

    Returns
    -------
    tuple of ResponseFit and list of str
        The new row (``job_id`` names its job) and the warnings its data raised.
    """
    assert who.workspace_id is not None
    inputs = prepare_fit(session, store, who.workspace_id, refs, settings)
    row = add_fit(session, who.workspace_id, who.key_id, refs, inputs)
    record(session, who, "model.create", "model", row.id, fingerprint=row.fingerprint,
           parameters={"datasets": row.datasets, "settings": row.parameters})
    session.commit()
    return row, inputs.notes


def run_fit(context: JobContext) -> None:
    """Job handler of kind ``fit``: sample, save the model to the store, store the diagnostics.

    Progress is the sampler's: draws done of ``chains x (tune + draws)``.
    """
    with context.sessions() as session:
        row = session.get(ResponseFit, context.target_id)
        if row is None:
            raise Invalid(f"model {context.target_id} no longer exists")
        data, notes = media_data(context.store,
                                 dataset_rows(session, context.workspace_id, row.datasets))
        request = fit_settings(row.parameters)
    context.start(ResponseFit)
    model = ResponseModel.for_request(request).fit(data, progress=context.progress)
    context.note("saving the model")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.nc"
        model.save(path)
        blob = path.read_bytes()
    diagnostics = json_ready(model.result_.to_dict())
    diagnostics["warnings"] = [*notes, *diagnostics.get("warnings", [])]

    def write(session: Session) -> None:
        digest = artifacts.put(session, context.store, blob)
        session.execute(update(ResponseFit).where(ResponseFit.id == context.target_id)
                        .values(artifact=digest, diagnostics=diagnostics, state=SUCCEEDED))

    context.finish(write)


def fit_failed(session: Session, target_id: str, reason: str) -> None:
    """Failure callback of ``fit`` jobs: the model is ``failed`` (the job keeps the reason)."""
    session.execute(update(ResponseFit).where(ResponseFit.id == target_id)
                    .values(state=FAILED))


# -- fitted models ------------------------------------------------------------------------------


class Fitted(NamedTuple):
    """A loaded model and its posterior draws in original units."""

    model: ResponseModel
    draws: ResponseDraws


def load_fitted(data: bytes) -> Fitted:
    """A model saved by :meth:`ResponseModel.save`, from its bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.nc"
        path.write_bytes(data)
        model = ResponseModel.load(path)
    return Fitted(model, model.response_draws())


class ModelCache:
    """The last ``size`` fitted models used, by artifact hash (thread-safe)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, Fitted] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: ArtifactStore, digest: str) -> Fitted:
        """The model of artifact ``digest``, loaded from ``store`` unless cached."""
        with self._lock:
            if digest in self._items:
                self._items.move_to_end(digest)
                return self._items[digest]
        fitted = load_fitted(store.get(digest))  # outside the lock: loading takes a while
        with self._lock:
            self._items[digest] = fitted
            self._items.move_to_end(digest)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return fitted

    def clear(self) -> None:
        """Forget every model."""
        with self._lock:
            self._items.clear()


MODELS = ModelCache()


def require_fitted(row: ResponseFit) -> str:
    """The artifact of a fitted model; :class:`Conflict` naming the state otherwise."""
    if row.state == SUCCEEDED and row.artifact is not None:
        return row.artifact
    why = "its fit failed" if row.state == FAILED else "its fit has not finished"
    raise Conflict(f"model {row.id} is {row.state}: {why} (job {row.job_id}); plans, "
                   "forecasts and curves need a fitted model")


def fitted(store: ArtifactStore, row: ResponseFit) -> Fitted:
    """The loaded model of a fitted row (409 if it is not fitted)."""
    return MODELS.get(store, require_fitted(row))


def model_of(session: Session, workspace_id: str, model_id: str) -> ResponseFit:
    """The model a request body names; 404 on ``model`` if the workspace has none of that
    id (a model of another workspace is reported exactly like a missing one)."""
    row = session.get(ResponseFit, model_id)
    if row is None or row.workspace_id != workspace_id:
        message = f"model: no model {model_id[:40]!r} in this workspace"
        raise NotFound(message, errors=[{"loc": ["json", "model"], "msg": message}])
    return row


def lift_tests_of(session: Session, store: ArtifactStore, row: ResponseFit) -> list[str] | None:
    """The channel of each lift test ``row`` was fitted with: ``[]`` without lift tests,
    ``None`` when its lift-tests dataset is no longer in the workspace."""
    dataset_id = row.datasets.get("lift_tests")
    if dataset_id is None:
        return []
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or dataset.workspace_id != row.workspace_id:
        return None
    frame = pd.read_parquet(io.BytesIO(store.get(dataset.artifact)), columns=["channel"])
    return [str(c) for c in frame["channel"]]


# -- curves -----------------------------------------------------------------------------------


def curves_of(store: ArtifactStore, row: ResponseFit) -> Any:
    """The :class:`~optimizer.response_summary.ResponseCurves` of a fitted model."""
    from optimizer.response_summary import response_curves

    return response_curves(fitted(store, row).draws)

"""Attribution reports: run the models of a report on a stored ``paths`` dataset.

This is the service layer of ``/v1/reports``; it knows the database and the
artifact store but not HTTP. A report's ``parameters`` are its validated
request, ``{"dataset": id, "models": [...], "settings": {...}}`` with every
setting filled in (the defaults of ``spendwise attribute``), so the stored
parameters alone say how to recompute it.

Storage of a paths dataset
--------------------------
The artifact of a ``paths`` dataset is a Parquet file in the layout of
:meth:`attribution.paths.PathTable.to_frame`: columns ``path`` (channel names
joined by the separator), ``conversions``, ``nulls``, ``value`` and, for
journey-level tables, ``journey_id`` and ``touch_days``. :func:`load_paths`
reads it back through the engine's validating reader
(:meth:`PathTable.from_frame`), so a dataset is read exactly like
``spendwise attribute`` reads the same table from a file. The separator is
taken from the Parquet key-value metadata ``spendwise.separator``, else from
the dataset's ``summary["separator"]``, else ``" > "``. :func:`dump_paths`
writes that layout and round-trips exactly: the same channels, touches, counts,
touch times (written in shortest round-trip form, not rounded) and
fingerprint.

Cost and jobs
-------------
A report runs in the request when :func:`estimate_cost` is at most
:data:`INLINE_COST_LIMIT`, otherwise as a background job of kind
``attribution``. The estimate is in path fits::

    cost = rows * (1 + bootstrap replicates) * sum(model weights)

with ``rows`` the dataset's rows (distinct paths, or journeys) and the weights
of :data:`MODEL_COST` (a Markov fit solves one sparse system per channel; a
Markov model of order ``auto`` first scores every order on held-out folds).

Reproducibility
---------------
A report's ``fingerprint`` is the SHA-256 of the dataset's fingerprint and the
canonical JSON of the models and settings (not the dataset id), so the same
data with the same parameters gives the same fingerprint in any workspace.
The models are those of ``spendwise attribute --format json``, each without
its ``created_at`` (the report has its own): with the seed fixed, identical
inputs give identical models JSON.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import update
from sqlalchemy.orm import Session

from api import fingerprints, jobs
from api.access import Principal
from api.audit import record
from api.errors import Invalid
from api.jobs import FAILED, SUCCEEDED, JobContext
from api.store import ArtifactStore
from api.tables import Dataset, Report
from attribution.base import AttributionResult
from attribution.errors import InputError
from attribution.paths import DEFAULT_SEPARATOR, PathTable
from attribution.report import to_json
from attribution.requests import AttributionRequest
from attribution.run import attribute as run_request
from spendwise import __version__
from spendwise.export import to_csv
from spendwise.progress import Progress

JOB_KIND = "attribution"
#: Largest :func:`estimate_cost` computed in the request; larger reports are jobs.
INLINE_COST_LIMIT = 1_000_000
#: Cost of one fit of a model on one path, relative to a rule-based model.
MODEL_COST = {"markov": 5, "shapley": 2}
#: Extra cost of choosing the Markov order on held-out folds.
AUTO_ORDER_COST = 4
#: Parquet key-value metadata holding the path separator.
SEPARATOR_KEY = b"spendwise.separator"
#: Columns of the CSV, in order; the interval columns only when bootstrapped.
CSV_COLUMNS = ("model", "channel", "conversions", "value", "share")
INTERVAL_COLUMNS = ("conversions", "value", "share")


# -- paths datasets -------------------------------------------------------------------


def dump_paths(paths: PathTable) -> bytes:
    """``paths`` as Parquet bytes in the layout that :func:`load_paths` reads back exactly."""
    core = paths.separator.strip() or paths.separator
    clash = [c for c in paths.channels if core in c]
    if clash:
        raise InputError(f"channel {clash[0]!r} contains the separator {core!r}; it could not "
                         "be read back")
    frame = paths.to_frame()
    if paths.touch_days is not None:
        days, bounds = paths.touch_days, paths.offsets
        frame["touch_days"] = [
            paths.separator.join(np.format_float_positional(d, unique=True, trim="-")
                                 for d in days[bounds[r]:bounds[r + 1]])
            for r in range(paths.n_rows)
        ]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), SEPARATOR_KEY: paths.separator.encode()}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def load_paths(store: ArtifactStore, dataset: Dataset) -> PathTable:
    """The :class:`PathTable` of a ``paths`` dataset (see the module docstring).

    Parameters
    ----------
    store
        The artifact store holding ``dataset.artifact``.
    dataset
        A row of kind ``paths``.

    Raises
    ------
    InputError
        The stored table cannot be read or does not validate.
    NotFound
        The artifact is missing from the store.
    """
    data = store.get(dataset.artifact)
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"dataset {dataset.id}: its stored table cannot be read ({exc})") \
            from exc
    stored = (table.schema.metadata or {}).get(SEPARATOR_KEY)
    summary = dataset.summary if isinstance(dataset.summary, dict) else {}
    separator = stored.decode() if stored else str(summary.get("separator") or DEFAULT_SEPARATOR)
    return PathTable.from_frame(table.to_pandas(), separator=separator)


# -- parameters -----------------------------------------------------------------------


def fingerprint(dataset_fingerprint: str,
                request: AttributionRequest | dict[str, Any]) -> str:
    """SHA-256 (hex) of the dataset's fingerprint and the report's models and settings
    (a request, or a report's stored parameters)."""
    if isinstance(request, dict):
        request = request_of(request)
    return fingerprints.fingerprint({"dataset": dataset_fingerprint, **request.canonical()})


def estimate_cost(rows: int, request: AttributionRequest | dict[str, Any]) -> int:
    """Path fits a report needs: ``rows * (1 + replicates) * sum(model weights)``."""
    if isinstance(request, dict):
        request = request_of(request)
    settings = request.settings
    weight = sum(MODEL_COST.get(name, 1) for name in request.models)
    if "markov" in request.models and settings.order == "auto":
        weight += AUTO_ORDER_COST
    return max(int(rows), 0) * (1 + settings.bootstrap) * weight


def runs_inline(rows: int, request: AttributionRequest | dict[str, Any]) -> bool:
    """Whether a report is small enough to compute in the request."""
    return estimate_cost(rows, request) <= INLINE_COST_LIMIT


def request_of(parameters: dict[str, Any]) -> AttributionRequest:
    """The request of a report's stored parameters (its dataset left out)."""
    return AttributionRequest.build(models=parameters["models"],
                                    settings=parameters["settings"])


# -- running --------------------------------------------------------------------------


def attribute(paths: PathTable, request: AttributionRequest,
              progress: Progress | None = None) -> list[dict[str, Any]]:
    """The report's models on ``paths``: the JSON objects of ``--format json``
    (``progress`` as in :func:`attribution.run.attribute`)."""
    return models_json(run_request(paths, request, progress)[1])


def create(session: Session, store: ArtifactStore, who: Principal, dataset: Dataset,
           request: AttributionRequest) -> Report:
    """Create the report of ``request`` on ``dataset``, with its audit event, and commit.

    What ``POST /v1/reports`` and the browser's attribution form both do: a
    report whose cost is within :data:`INLINE_COST_LIMIT` is computed now
    (``succeeded``), a larger one is queued as a job of kind ``attribution``
    (``queued``, with its ``job_id``).

    Raises
    ------
    api.errors.Invalid
        ``dataset`` is not a ``paths`` dataset (``loc`` ``["json", "dataset"]``).
    attribution.errors.AttributionError
        The models refused the data while computing now; nothing is stored.
    """
    if dataset.kind != "paths":
        message = f"{dataset.id} is a {dataset.kind} dataset; a report needs a paths dataset"
        raise Invalid(f"dataset: {message}", errors=[{"loc": ["json", "dataset"],
                                                      "msg": message}])
    parameters = {"dataset": dataset.id, **request.canonical()}
    inline = runs_inline(dataset.rows, request)
    models = attribute(load_paths(store, dataset), request) if inline else None
    row = Report(workspace_id=who.workspace_id, dataset_id=dataset.id, parameters=parameters,
                 state=SUCCEEDED if inline else jobs.QUEUED, result=models,
                 fingerprint=fingerprint(dataset.fingerprint, request),
                 version=__version__, created_by=who.key_id)
    session.add(row)
    session.flush()
    if not inline:
        row.job_id = jobs.enqueue(session, dataset.workspace_id, JOB_KIND, row.id).id
    record(session, who, "report.create", "report", row.id, fingerprint=row.fingerprint,
           parameters=parameters)
    session.commit()
    return row


def without_intervals(request: AttributionRequest) -> AttributionRequest:
    """``request`` with no bootstrap replicates: the same models and point credit."""
    settings = {**request.settings.canonical(), "bootstrap": 0}
    return AttributionRequest.build(models=list(request.models), settings=settings)


def journey_credit(paths: PathTable, request: AttributionRequest) -> pd.DataFrame:
    """Per-journey credit of the report's models, as ``spendwise attribute --credit`` writes it.

    Columns ``model, journey, channel, conversions, value``: one row per
    journey (or path) and channel with credit. The models are fitted again
    through :func:`attribution.run.attribute`, the code path of the report,
    without bootstrap replicates (:func:`without_intervals`): the table holds
    no intervals, and a model's point credit does not depend on them.
    """
    results = run_request(paths, without_intervals(request))[1]
    return pd.concat([r.journey_table() for r in results], ignore_index=True)


def models_json(results: Sequence[AttributionResult]) -> list[dict[str, Any]]:
    """The CLI's JSON of ``results`` as a list, without the per-model ``created_at``."""
    payload = json.loads(to_json(results))
    models = payload if isinstance(payload, list) else [payload]
    for entry in models:
        entry.pop("created_at", None)
    return cast(list[dict[str, Any]], models)


def models_csv(models: Sequence[dict[str, Any]]) -> str:
    """The CLI's ``--format csv`` report of stored models, formula-like cells neutralised.

    One row per model and channel: ``model, channel, conversions, value,
    share`` and, for bootstrapped models, ``<name>_low, <name>_high`` of the
    intervals, as :func:`attribution.report.comparison_table` stacks them.
    """
    rows: list[dict[str, Any]] = []
    for model in models:
        for channel in model["channels"]:
            row: dict[str, Any] = {"model": model["model"]}
            row.update({name: channel[name] for name in CSV_COLUMNS[1:]})
            if "ci" in channel:
                for name in INTERVAL_COLUMNS:
                    row[f"{name}_low"], row[f"{name}_high"] = channel["ci"][name]
            rows.append(row)
    frame = pd.DataFrame(rows, columns=_csv_columns(rows))
    return to_csv(frame)


def _csv_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns = list(CSV_COLUMNS)
    if any("share_low" in row for row in rows):
        columns += [f"{name}_{end}" for name in INTERVAL_COLUMNS for end in ("low", "high")]
    return columns


# -- background job -------------------------------------------------------------------


def run_job(context: JobContext) -> None:
    """Job handler of kind ``attribution``: compute the report ``context.target_id``.

    The report is marked ``running``, its models are fitted outside any
    transaction, and the result is written with the job's end state in one
    transaction (only while the worker holds the job). Progress is
    :func:`attribution.run.attribute`'s: replicates done of models x replicates
    with bootstrap intervals, models done otherwise.
    """
    with context.sessions.begin() as session:
        report = session.get(Report, context.target_id)
        if report is None:
            raise Invalid(f"report {context.target_id} no longer exists")
        dataset = session.get(Dataset, report.dataset_id) if report.dataset_id else None
        if dataset is None:
            raise Invalid(f"dataset: the dataset of report {report.id} was deleted before "
                          "the report was computed")
        request = request_of(report.parameters)
    context.start(Report)
    paths = load_paths(context.store, dataset)
    models = attribute(paths, request, progress=context.progress)

    def write(session: Session) -> None:
        session.execute(update(Report).where(Report.id == context.target_id)
                        .values(state=SUCCEEDED, result=models))

    context.finish(write)


def mark_failed(session: Session, report_id: str, reason: str) -> None:
    """Failure callback of ``attribution`` jobs: the report is ``failed`` (the reason
    stays on its job)."""
    session.execute(update(Report).where(Report.id == report_id).values(state=FAILED))

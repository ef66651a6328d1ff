"""Datasets: read, validate, pseudonymise and store uploads (no HTTP here).

An upload is checked by the engines' own readers, exactly as the command line
reads a file, but from the bytes in memory: no upload is ever written to a
temporary file. The readers are given the upload's name by kind and format
(``spend.csv``, ``touches.parquet``, ...), which the messages name:

===============  ==================================================================
kind             read and checked by
===============  ==================================================================
``paths``        :meth:`attribution.paths.PathTable.read`
``touches``      :func:`attribution.duckdb_io.open_table` and ``load_table``, as the
``conversions``  journey builder of ``spendwise paths`` loads its inputs
``spend``        :func:`optimizer.tables.spend_matrix`
``outcomes``     :func:`optimizer.tables.outcome_columns` on the table's own dates
``controls``     :func:`optimizer.tables.control_frame` on the table's own dates
``lift_tests``   :func:`optimizer.tables.lift_test_frame` on the table's own channels
===============  ==================================================================

Outcomes, controls and lift tests are checked against a spend table only when
a response model brings them together (:meth:`optimizer.data.MediaData.from_frames`).

The validated frame is normalised (engine column names, parsed dates, floats,
stripped names; rows sorted) and stored as Parquet in the content-addressed
artifact store. User ids of touches and conversions are replaced by their
pseudonyms (:mod:`api.pseudonym`) before anything is stored: they are read
in memory by a DuckDB connection without a spill directory, and messages
about these files name the row and the column but never quote a value or the
header. The limits of :mod:`spendwise.reading` apply to every upload (1,000
columns, 1 MiB per line, plain Parquet columns, one grammar for numbers). A
failed upload leaves no row and no file, even when the database refuses the
row itself. A dataset's
``fingerprint`` is the SHA-256 (hex) of the canonical CSV of the stored frame:
header, ``,`` and ``\\n``, floats in shortest round-trip form, dates in ISO
form. It depends on the data, not on the upload's format, row order or column
order, so a CSV and a Parquet file of the same data share it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from api import artifacts
from api.access import Principal
from api.audit import record
from api.errors import Invalid, NotFound, UnsupportedMediaType
from api.pseudonym import pseudonymise
from api.store import ArtifactStore
from api.tables import Dataset, Workspace, new_id, now
from attribution.duckdb_io import check_names, connect, load_table, open_table
from attribution.journeys import MEMORY_LIMIT, JourneyRequest, journey_tables
from attribution.paths import PathTable
from optimizer.errors import InputError as MediaInputError
from optimizer.tables import (
    LIFT_COLUMNS,
    blank_cells,
    columns_of,
    control_frame,
    date_grid,
    lift_test_frame,
    numbers,
    outcome_columns,
    parse_dates,
    read_table,
    spend_matrix,
)

KINDS = ("paths", "touches", "conversions", "spend", "outcomes", "controls", "lift_tests")
#: Kinds whose rows name people by ``user_id``.
PERSONAL = ("touches", "conversions")
#: Accepted media types and the file format each one means.
MEDIA_TYPES = {"text/csv": "csv", "application/vnd.apache.parquet": "parquet",
               "application/octet-stream": "parquet"}

#: A reader takes the upload's bytes, its name (``spend.csv``) and the pseudonym secret.
Reader = Callable[[bytes, str, str], tuple[pd.DataFrame, dict[str, Any]]]


@dataclass(frozen=True, eq=False)
class Prepared:
    """A validated upload: the normalised frame, its summary, Parquet bytes and fingerprint."""

    kind: str
    frame: pd.DataFrame
    summary: dict[str, Any]
    parquet: bytes
    fingerprint: str


# -- the readers of each kind ---------------------------------------------------------------


def _date_range(first: pd.Timestamp, last: pd.Timestamp) -> dict[str, str]:
    def iso(moment: pd.Timestamp) -> str:
        return moment.date().isoformat() if moment == moment.normalize() else moment.isoformat()

    return {"first": iso(first), "last": iso(last)}


def _paths(data: bytes, name: str, _secret: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    return _path_frame(PathTable.read(data, name=name))


def _path_frame(table: PathTable) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stored frame and the summary of a path table."""
    frame = table.to_frame()
    if table.touch_days is not None:  # shortest round-trip form, not to_frame's rounding
        days, bounds = table.touch_days.tolist(), table.offsets.tolist()
        frame["touch_days"] = [table.separator.join(map(repr, days[lo:hi]))
                               for lo, hi in pairwise(bounds)]
    summary = {"channels": list(table.channels), "separator": table.separator,
               "journeys": float(table.conversions.sum() + table.nulls.sum()),
               "conversions": table.total_conversions, "nulls": float(table.nulls.sum()),
               "value": table.total_value}
    return frame, summary


def _people(kind: str) -> Reader:
    """Reader of touches or conversions: the journey builder's loader, then pseudonyms."""
    required = ("user_id", "timestamp", "channel") if kind == "touches" else ("user_id",
                                                                              "timestamp")
    optional = () if kind == "touches" else ("value",)
    last = "channel" if kind == "touches" else "value"

    def read(data: bytes, name: str, secret: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        # Raw ids: no spill directory, so they reach no file before they are pseudonymised.
        with connect(MEMORY_LIMIT, None, None, spill=False) as con:
            table = open_table(con, data, required, optional, name=name, quote_values=False)
            no_value = ", CAST(0 AS DOUBLE) AS value" if last not in table.columns else ""
            load_table(con, table, kind, no_value)
            if kind == "touches":
                check_names(con, table, "(SELECT DISTINCT channel FROM touches)")
            frame = con.execute(f"SELECT user_id, ts AS timestamp, {last} FROM {kind}").df()
        frame["user_id"] = pseudonymise(secret, frame["user_id"].astype(str))
        frame["timestamp"] = pd.to_datetime(frame["timestamp"]).astype("datetime64[us]")
        summary: dict[str, Any] = {"users": int(frame["user_id"].nunique()),
                                   "date_range": _date_range(frame["timestamp"].min(),
                                                             frame["timestamp"].max())}
        if kind == "touches":
            frame["channel"] = frame["channel"].astype(str)
            summary["channels"] = sorted(frame["channel"].unique().tolist())
        else:
            frame["value"] = frame["value"].astype(float)
            summary |= {"conversions": len(frame), "value": float(frame["value"].sum())}
        return frame, summary

    return read


def _grid_of(raw: pd.DataFrame, table: str) -> tuple[pd.DatetimeIndex, str]:
    """The regular series of a per-date table's own dates (the engine's spend-date check)."""
    column = columns_of(raw, table, ("date",))["date"]
    return date_grid(parse_dates(raw, column, table), table)


def _dated(grid: pd.DatetimeIndex, frequency: str) -> dict[str, Any]:
    return {"frequency": frequency, "periods": len(grid),
            "date_range": _date_range(grid[0], grid[-1])}


def _spend(data: bytes, name: str, _secret: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    raw = read_table(data, "spend", name=name)
    grid, frequency, channels, matrix = spend_matrix(raw)
    # Validated above; these are the engine's own parsers, giving the rows as read.
    cols = columns_of(raw, "spend", ("date", "channel", "spend"))
    frame = pd.DataFrame({
        "date": parse_dates(raw, cols["date"], "spend").to_numpy(),
        "channel": raw[cols["channel"]].astype(str).str.strip().to_numpy(),
        "spend": numbers(raw, cols["spend"], "spend", "spend")})
    totals = matrix.sum(axis=0)
    summary = {"channels": list(channels), **_dated(grid, frequency),
               "spend": float(totals.sum()),
               "spend_by_channel": {c: float(t) for c, t in zip(channels, totals, strict=True)}}
    return frame, summary


def _outcomes(data: bytes, name: str, _secret: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    raw = read_table(data, "outcomes", name=name)
    grid, frequency = _grid_of(raw, "outcomes")
    conversions, revenue = outcome_columns(raw, grid, frequency)
    frame = pd.DataFrame({"date": grid.to_numpy()})
    summary = _dated(grid, frequency)
    for name, values in (("conversions", conversions), ("revenue", revenue)):
        if values is not None:
            frame[name] = values
            summary[name] = float(values.sum())
    return frame, summary


def _controls(data: bytes, name: str, _secret: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    raw = read_table(data, "controls", name=name)
    grid, frequency = _grid_of(raw, "controls")
    controls = control_frame(raw, grid, frequency)
    frame = controls.reset_index(names="date")
    return frame, {"controls": [str(c) for c in controls.columns], **_dated(grid, frequency)}


def _lift_tests(data: bytes, name: str, _secret: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    raw = read_table(data, "lift_tests", name=name)
    cols = columns_of(raw, "lift_tests", LIFT_COLUMNS)
    # The channels are checked against spend when a model is fitted; here, against themselves.
    named = raw[cols["channel"]][~blank_cells(raw[cols["channel"]])]
    channels = tuple(sorted(set(named.astype(str).str.strip())))
    frame = lift_test_frame(raw, channels)
    assert frame is not None  # columns_of refuses a table without rows
    frame["channel"] = frame["channel"].astype(str)
    return frame, {"channels": sorted(set(frame["channel"])), "tests": len(frame)}


READERS: dict[str, Reader] = {"paths": _paths, "touches": _people("touches"),
                              "conversions": _people("conversions"), "spend": _spend,
                              "outcomes": _outcomes, "controls": _controls,
                              "lift_tests": _lift_tests}
assert tuple(READERS) == KINDS


# -- preparing and storing ------------------------------------------------------------------


def json_safe(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary, checked to be storable in a JSON column of either database.

    Numbers must be finite (JSON has no infinity) and text must hold no NUL
    (PostgreSQL's ``jsonb`` refuses it); the readers refuse both in the data, so
    this is the last guard before the database.
    """
    try:
        text = json.dumps(summary, allow_nan=False)
    except (ValueError, TypeError) as exc:
        raise Invalid(f"summary: cannot be stored ({exc})",
                      errors=[{"loc": ["body"], "msg": "the data's totals are not finite"}]
                      ) from None
    if "\\u0000" in text:
        raise Invalid("summary: a name holds a NUL character", errors=[
            {"loc": ["body"], "msg": "names must be printable text"}])
    return summary


def prepared(kind: str, frame: pd.DataFrame, summary: dict[str, Any]) -> Prepared:
    """Sort a normalised frame, then compute its Parquet bytes and fingerprint."""
    summary = json_safe(summary)
    frame = frame.sort_values(list(frame.columns), kind="stable", ignore_index=True)
    canonical = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return Prepared(kind, frame, summary, buffer.getvalue(),
                    hashlib.sha256(canonical).hexdigest())


def prepare(kind: str, data: bytes, media_type: str, secret: str) -> Prepared:
    """Read and validate an upload of ``kind`` and pseudonymise its user ids.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    data
        The raw CSV or Parquet file.
    media_type
        One of :data:`MEDIA_TYPES`: ``text/csv``, ``application/vnd.apache.parquet`` or
        ``application/octet-stream`` (Parquet).
    secret
        The workspace's ``pseudonym_secret``.

    Returns
    -------
    Prepared

    Raises
    ------
    attribution.errors.InputError, optimizer.errors.InputError
        The engines' messages for bad data, naming the file, row, field, channel or date.
    api.errors.Invalid, api.errors.UnsupportedMediaType
        An unknown kind, an empty upload or another media type.
    """
    if kind not in READERS:
        raise Invalid(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}",
                      errors=[{"loc": ["query", "kind"], "msg": f"unknown kind {kind!r}"}])
    form = MEDIA_TYPES.get(media_type)
    if form is None:
        raise UnsupportedMediaType(f"Content-Type must be one of {', '.join(MEDIA_TYPES)}, "
                                   f"got {media_type!r}")
    if not data:
        raise Invalid("body: the upload is empty; send the CSV or Parquet file as the body",
                      errors=[{"loc": ["body"], "msg": "the upload is empty"}])
    try:
        frame, summary = READERS[kind](data, f"{kind}.{form}", secret)
    except pd.errors.OutOfBoundsDatetime:  # outside the engines' own checks
        raise MediaInputError(f"{kind}: a date is out of range; dates must fall between "
                              "1677-09-22 and 2262-04-11") from None
    return prepared(kind, frame, summary)


def prepare_journeys(touches: bytes, conversions: bytes, request: JourneyRequest) -> Prepared:
    """Aggregated paths built by the journey builder from stored touches and conversions.

    ``touches`` and ``conversions`` are the stored Parquet of those datasets (user ids
    already pseudonymised). The summary adds what the builder reports.
    """
    built = journey_tables(touches, conversions, lookback_days=request.lookback_days,
                           separator=request.separator, memory_limit=MEMORY_LIMIT,
                           quote_values=False,
                           names=("touches.parquet", "conversions.parquet"))
    frame, summary = _path_frame(PathTable.from_frame(built.paths,
                                                      separator=request.separator))
    facts = {k: v for k, v in built.summary.to_dict().items() if k != "seconds"}
    summary["journey_builder"] = {**request.canonical(), **facts}
    return prepared("paths", frame, summary)


def add_dataset(session: Session, store: ArtifactStore, workspace_id: str, data: Prepared,
                name: str, created_by: str, derived_from: Sequence[str] = ()) -> Dataset:
    """Store the Parquet and add the dataset's row to ``session`` (not committed).

    The artifact stays locked (:func:`api.artifacts.put`) until the caller commits.
    If the row cannot be stored, the transaction is rolled back and the file
    removed (:func:`discard`); a value the database refuses is
    :class:`~api.errors.Invalid`.
    """
    digest = artifacts.put(session, store, data.parquet)
    try:
        row = Dataset(id=new_id("ds"), workspace_id=workspace_id, kind=data.kind, name=name,
                      rows=len(data.frame), columns=[str(c) for c in data.frame.columns],
                      summary=data.summary, fingerprint=data.fingerprint, artifact=digest,
                      size_bytes=len(data.parquet), derived_from=list(derived_from),
                      created_by=created_by, created_at=now())
        session.add(row)
        session.flush()
    except DataError as exc:
        discard(session, store, digest)
        reason = (str(exc.orig).splitlines() or ["refused"])[0]
        raise Invalid(f"the dataset cannot be stored: the database refused a value ({reason})",
                      errors=[{"loc": ["body"], "msg": "the database refused a value"}]
                      ) from None
    except BaseException:
        discard(session, store, digest)
        raise
    return row


def discard(session: Session, store: ArtifactStore, digest: str) -> None:
    """Roll back the session and remove the artifact ``digest`` unless a row references it.

    For a failed store: the row is gone with the rollback, so only another
    dataset with the same bytes, already committed, keeps the file.
    """
    session.rollback()
    artifacts.release(session, store, {digest})


def store_upload(session: Session, store: ArtifactStore, workspace: Workspace, kind: str,
                 name: str, data: bytes, media_type: str, created_by: str) -> Dataset:
    """Validate, pseudonymise and store an upload; the caller commits (and audits).

    Parameters
    ----------
    session, store
        Where the row and the Parquet go.
    workspace
        The owning workspace (its ``pseudonym_secret`` keys the pseudonyms).
    kind, name, data, media_type
        As for :func:`prepare`; ``name`` labels the dataset.
    created_by
        Key id (or another label) recorded as the creator.

    Returns
    -------
    Dataset
        The new row, flushed but not committed.
    """
    ready = prepare(kind, data, media_type, workspace.pseudonym_secret)
    return add_dataset(session, store, workspace.id, ready, name, created_by)


def save(session: Session, store: ArtifactStore, who: Principal, ready: Prepared, name: str,
         action: str, derived_from: Sequence[str] = (),
         parameters: dict[str, Any] | None = None) -> Dataset:
    """Store a prepared dataset with its audit event ``action`` and commit.

    A failure leaves neither the row, the event nor the file (:func:`discard`).
    """
    assert who.workspace_id is not None
    row = add_dataset(session, store, who.workspace_id, ready, name, who.key_id, derived_from)
    digest = row.artifact
    try:
        record(session, who, action, "dataset", row.id, fingerprint=row.fingerprint,
               parameters={"kind": row.kind, "name": row.name, "rows": row.rows,
                           **(parameters or {})})
        session.commit()
    except BaseException:
        discard(session, store, digest)
        raise
    return row


def upload(session: Session, store: ArtifactStore, who: Principal, kind: str, name: str,
           data: bytes, media_type: str) -> Dataset:
    """Validate, pseudonymise and store an upload, audited as ``dataset.upload``; committed.

    What ``POST /v1/datasets`` and the browser's upload forms both do
    (:func:`prepare`, then :func:`save`). The read of the workspace's secret
    ends before parsing, so SQLite's write lock is not held meanwhile.
    """
    workspace = session.get(Workspace, who.workspace_id)
    assert workspace is not None
    secret = workspace.pseudonym_secret
    session.commit()
    ready = prepare(kind, data, media_type, secret)
    return save(session, store, who, ready, name, "dataset.upload")


def build_journeys(session: Session, store: ArtifactStore, who: Principal, touches: Dataset,
                   conversions: Dataset, request: JourneyRequest, name: str) -> Dataset:
    """Build a ``paths`` dataset from a touches and a conversions dataset; committed.

    Audited as ``dataset.journeys``; the new dataset is derived from both, so
    deleting either deletes it.

    Raises
    ------
    api.errors.Invalid
        A dataset of another kind (``loc`` ``["json", "touches"]`` or ``"conversions"``).
    api.errors.NotFound
        One of them was deleted while the journeys were built.
    """
    for field, row in (("touches", touches), ("conversions", conversions)):
        if row.kind != field:
            raise Invalid(f"{field}: dataset {row.id} holds {row.kind}, not {field}",
                          errors=[{"loc": ["json", field],
                                   "msg": f"expected a {field} dataset, got {row.kind}"}])
    touch_bytes, conversion_bytes = store.get(touches.artifact), store.get(conversions.artifact)
    session.commit()  # end the read, so SQLite's write lock is not held while building
    ready = prepare_journeys(touch_bytes, conversion_bytes, request)
    ids = [touches.id, conversions.id]
    if len(set(session.scalars(select(Dataset.id).where(Dataset.id.in_(ids))))) < len(set(ids)):
        raise NotFound("touches or conversions: the dataset was deleted during the build")
    return save(session, store, who, ready, name, "dataset.journeys", ids,
                {"touches": touches.id, "conversions": conversions.id, **request.canonical()})


# -- deleting -------------------------------------------------------------------------------


def with_derived(session: Session, root: Dataset) -> list[Dataset]:
    """``root`` and every dataset of its workspace derived from it, transitively."""
    rows = session.scalars(select(Dataset).where(Dataset.workspace_id == root.workspace_id))
    children: dict[str, list[Dataset]] = {}
    for row in rows:
        for parent in row.derived_from or []:
            children.setdefault(str(parent), []).append(row)
    found, seen, stack = [], {root.id}, [root]
    while stack:
        row = stack.pop()
        found.append(row)
        for child in children.get(row.id, []):
            if child.id not in seen:
                seen.add(child.id)
                stack.append(child)
    return found


def delete_dataset(session: Session, store: ArtifactStore, who: Principal,
                   root: Dataset) -> list[str]:
    """Delete ``root`` and every dataset derived from it, audited, and their unshared files.

    What ``DELETE /v1/datasets/{id}`` and the browser's delete button both do;
    reports and models built on them keep their results. Returns the deleted ids.
    """
    rows = with_derived(session, root)
    ids = [row.id for row in rows]
    for row in rows:
        cascade = {} if row is root else {"derived_from_deleted": root.id}
        record(session, who, "dataset.delete", "dataset", row.id, fingerprint=row.fingerprint,
               parameters={"kind": row.kind, "name": row.name, "rows": row.rows, **cascade})
    digests = delete_rows(session, rows)
    session.commit()
    artifacts.release(session, store, digests)
    return ids


def delete_rows(session: Session, rows: Sequence[Dataset]) -> set[str]:
    """Delete the rows (not committed); returns their artifacts' digests."""
    session.execute(delete(Dataset).where(Dataset.id.in_([r.id for r in rows])))
    return {r.artifact for r in rows}


def dataset_dict(row: Dataset) -> dict[str, Any]:
    """The JSON form of a dataset's metadata."""
    return {"id": row.id, "kind": row.kind, "name": row.name, "rows": row.rows,
            "columns": row.columns, "summary": row.summary, "fingerprint": row.fingerprint,
            "artifact": row.artifact, "size_bytes": row.size_bytes,
            "derived_from": row.derived_from or [], "created_by": row.created_by,
            "created_at": row.created_at}

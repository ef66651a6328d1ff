"""Datasets: upload, build journeys, list, metadata, delete.

``POST /v1/datasets?kind=<kind>&name=<name>`` takes the raw CSV
(``text/csv``) or Parquet (``application/vnd.apache.parquet`` or
``application/octet-stream``) file as the body; it is checked by the engines'
readers (:mod:`api.datasets`), user ids are pseudonymised and the normalised
table is stored as Parquet. ``POST /v1/datasets/journeys`` builds a ``paths``
dataset from a ``touches`` and a ``conversions`` dataset. Deleting a dataset
deletes every dataset derived from it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from apiflask import APIBlueprint
from flask import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from api import datasets
from api.context import auth, body_bytes, db, owned, principal, require_content_type, services
from api.datasets import KINDS, MEDIA_TYPES, dataset_dict
from api.errors import NotFound
from api.schemas import PageQuery, Reference, Strict
from api.tables import Dataset
from attribution.journeys import JourneyRequest
from spendwise.requests import Label

blueprint = APIBlueprint("datasets", __name__, url_prefix="/v1", tag="datasets")

Kind = Literal["paths", "touches", "conversions", "spend", "outcomes", "controls", "lift_tests"]
assert set(KINDS) == set(Kind.__args__)  # type: ignore[attr-defined]
#: Printable text: no control characters (PostgreSQL refuses NUL in text).
ID_PATTERN = re.compile(r"^ds_[0-9a-f]{32}$")
#: The raw body of an upload, for the OpenAPI document (APIFlask describes only schema bodies).
UPLOAD_BODY = {
    "required": True,
    "description": "The file itself: CSV with a header row (UTF-8, `,`) or Parquet.",
    "content": {
        "text/csv": {"schema": {"type": "string"},
                     "example": "date,channel,spend\n2024-01-01,search,1200.5\n"},
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


class UploadQuery(Strict):
    kind: Kind = Field(description="what the table holds")
    name: Annotated[Label, Field(min_length=1, max_length=200)] = Field(
        description="a label for the dataset")


class ListQuery(PageQuery):
    kind: Kind | None = Field(default=None, description="only datasets of this kind")


class JourneysIn(JourneyRequest):
    """The journey rules of ``spendwise paths`` on a touches and a conversions dataset."""

    touches: Reference = Field(description="id of a touches dataset")
    conversions: Reference = Field(description="id of a conversions dataset")
    name: Annotated[Label, Field(min_length=1, max_length=200)] = Field(
        description="a label for the paths dataset")


class DatasetOut(BaseModel):
    id: str
    kind: Kind
    name: str
    rows: int
    columns: list[str]
    summary: dict[str, Any] = Field(description="date range, channels and totals, by kind")
    fingerprint: str = Field(description="SHA-256 of the canonical CSV of the stored table")
    artifact: str = Field(description="SHA-256 of the stored Parquet")
    size_bytes: int
    derived_from: list[str]
    created_by: str
    created_at: datetime


class DatasetList(BaseModel):
    datasets: list[DatasetOut]
    next_offset: int | None = Field(description="pass as `offset` for the next page")


def owned_dataset(dataset_id: str) -> Dataset:
    """The caller's dataset ``dataset_id``, else 404 (also for ids of no possible dataset)."""
    if not ID_PATTERN.match(dataset_id):
        shown = dataset_id if len(dataset_id) <= 40 else dataset_id[:40] + "..."
        raise NotFound(f"no dataset {shown!r} in this workspace")
    found: Dataset = owned(Dataset, dataset_id)
    return found


@blueprint.post("/datasets")
@blueprint.auth_required(auth)
@blueprint.input(UploadQuery, location="query", arg_name="query")
@blueprint.output(DatasetOut, status_code=201)
@blueprint.doc(responses={403: "the role may not upload datasets",
                          413: "the body is over the upload limit",
                          415: "the body is not CSV or Parquet",
                          422: "the data are invalid; the detail names the row and field"},
               # APIFlask documents only schema bodies; the raw file is described here.
               extensions={"requestBody": UPLOAD_BODY})
def upload(query: UploadQuery) -> dict[str, Any]:
    """Upload a CSV or Parquet table as a dataset.

    Touches and conversions have their user ids replaced by pseudonyms before
    anything is stored.
    """
    who = principal()
    who.require("dataset.upload")
    media_type = require_content_type(*MEDIA_TYPES)
    data = body_bytes()
    return dataset_dict(datasets.upload(db(), services().store, who, query.kind, query.name,
                                        data, media_type))


@blueprint.post("/datasets/journeys")
@blueprint.auth_required(auth)
@blueprint.input(JourneysIn, arg_name="body")
@blueprint.output(DatasetOut, status_code=201)
@blueprint.doc(responses={403: "the role may not upload datasets",
                          404: "no such dataset in this workspace",
                          422: "a dataset of the wrong kind, or no journey converts"})
def build_journeys(body: JourneysIn) -> dict[str, Any]:
    """Build a paths dataset from a touches and a conversions dataset."""
    who = principal()
    who.require("dataset.upload")
    touches, conversions = owned_dataset(body.touches), owned_dataset(body.conversions)
    return dataset_dict(datasets.build_journeys(db(), services().store, who, touches,
                                                conversions, JourneyRequest.within(body),
                                                body.name))


@blueprint.get("/datasets")
@blueprint.auth_required(auth)
@blueprint.input(ListQuery, location="query", arg_name="query")
@blueprint.output(DatasetList)
@blueprint.doc(responses={403: "the role may not read datasets"})
def list_datasets(query: ListQuery) -> dict[str, Any]:
    """The workspace's datasets, newest first."""
    who = principal()
    who.require("dataset.read")
    statement = select(Dataset).where(Dataset.workspace_id == who.workspace_id)
    if query.kind is not None:
        statement = statement.where(Dataset.kind == query.kind)
    rows = db().scalars(statement.order_by(Dataset.created_at.desc(), Dataset.id.desc())
                        .offset(query.offset).limit(query.limit + 1)).all()
    return {"datasets": [dataset_dict(row) for row in rows[:query.limit]],
            "next_offset": query.offset + query.limit if len(rows) > query.limit else None}


@blueprint.get("/datasets/<dataset_id>")
@blueprint.auth_required(auth)
@blueprint.output(DatasetOut)
@blueprint.doc(responses={403: "the role may not read datasets",
                          404: "no such dataset in this workspace"})
def get_dataset(dataset_id: str) -> dict[str, Any]:
    """One dataset's metadata."""
    principal().require("dataset.read")
    return dataset_dict(owned_dataset(dataset_id))


@blueprint.delete("/datasets/<dataset_id>")
@blueprint.auth_required(auth)
@blueprint.doc(responses={204: "deleted, with every dataset derived from it",
                          403: "the role may not delete datasets",
                          404: "no such dataset in this workspace"})
def delete_dataset(dataset_id: str) -> Response:
    """Delete a dataset, every dataset derived from it, and their unshared artifacts.

    Reports and models built on them keep their results.
    """
    who = principal()
    who.require("dataset.delete")
    datasets.delete_dataset(db(), services().store, who, owned_dataset(dataset_id))
    return Response(status=204)

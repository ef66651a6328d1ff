"""Artifacts the database references: stored, released and collected under a lock.

The store (:mod:`api.store`) knows files; this module keeps them in step with
the rows that reference them (datasets and fitted models):

* :func:`put` stores bytes under :func:`lock`, in the transaction that adds the
  row referencing them, so the file and its reference appear together;
* :func:`release` removes files no row references any more, after the delete
  that dropped the last reference has committed;
* :func:`collect` removes every unreferenced file, such as the file of an
  upload whose request was killed between storing and committing, and the
  temporary files of interrupted writes.

Because storing and referencing happen under the same lock that removal takes
before it checks the references, a removal can never delete a file that a
concurrent upload of the same bytes is about to reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.database import is_postgres
from api.store import ArtifactStore
from api.tables import Dataset, ResponseFit

#: Temporary files of interrupted writes older than this many seconds are removed.
STALE_WRITE_SECONDS = 3600.0


def lock(session: Session, digests: Iterable[str]) -> None:
    """Hold the artifacts ``digests`` until ``session``'s transaction ends.

    On PostgreSQL, a transaction advisory lock per digest (taken in sorted order,
    so two holders cannot deadlock); on SQLite, the transaction's ``BEGIN
    IMMEDIATE`` write lock, which :func:`api.database.make_engine` takes.
    """
    connection = session.connection()  # begins the transaction (on SQLite, the write lock)
    if is_postgres(connection.engine):
        for digest in sorted(set(digests)):
            key = int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def put(session: Session, store: ArtifactStore, data: bytes) -> str:
    """Store ``data`` and keep it locked until ``session`` commits; returns its digest.

    The caller adds the row referencing the digest in the same transaction.
    """
    lock(session, [hashlib.sha256(data).hexdigest()])
    return store.put(data)


def referenced(session: Session, digests: Iterable[str] | None = None) -> set[str]:
    """The digests (of ``digests``, or all) that a dataset or a fitted model references."""
    found: set[str] = set()
    wanted = None if digests is None else list(digests)
    for column in (Dataset.artifact, ResponseFit.artifact):
        statement = select(column).where(column.is_not(None))
        if wanted is not None:
            statement = statement.where(column.in_(wanted))
        found |= {str(d) for d in session.scalars(statement)}
    return found


def release(session: Session, store: ArtifactStore, digests: set[str]) -> set[str]:
    """Remove the artifacts of ``digests`` no row references; returns the removed ones.

    Runs in its own transaction, under :func:`lock`; call it once the delete
    that dropped the references has committed.
    """
    if not digests:
        return set()
    with session.begin():
        lock(session, digests)
        removed = digests - referenced(session, digests)
        for digest in removed:
            store.delete(digest)
    return removed


def collect(session: Session, store: ArtifactStore) -> set[str]:
    """Remove every stored artifact no row references, and stale temporary files.

    Safe while other processes upload and fit: each candidate is re-checked under
    its lock by :func:`release`.
    """
    store.sweep(older_than=STALE_WRITE_SECONDS)
    with session.begin():
        candidates = store.digests() - referenced(session)
    return release(session, store, candidates)

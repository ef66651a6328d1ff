"""The artifact store kept in step with the database, on SQLite and PostgreSQL:
unreferenced files are collected at start, referenced ones never."""

from __future__ import annotations

import os
import time

from api import artifacts
from api.bootstrap import prepare
from api.tables import ResponseFit
from spendwise import __version__
from tests.api.test_datasets import services, uploaded
from tests.api.test_models import workspace_of


def test_collect_removes_only_unreferenced_files(client, acme):
    """Orphans and stale temporary files go; dataset and model files and fresh writes stay."""
    store = services(client).store
    dataset = uploaded(client, acme["owner"], "spend")
    orphan = store.put(b"the parquet of an upload killed before it committed")
    with services(client).sessions.begin() as session:
        model = store.put(b"a fitted model")
        session.add(ResponseFit(workspace_id=workspace_of(client, acme["owner"]), datasets={},
                                parameters={}, state="succeeded", artifact=model,
                                fingerprint="0" * 64, version=__version__, created_by="test"))
    stale, fresh = (store.path(orphan).parent / name for name in (".tmp-stale", ".tmp-fresh"))
    for path in (stale, fresh):
        path.write_bytes(b"half")
    old = time.time() - 2 * artifacts.STALE_WRITE_SECONDS
    os.utime(stale, (old, old))

    with services(client).sessions() as session:
        removed = artifacts.collect(session, store)
    assert removed == {orphan}
    assert store.digests() == {dataset["artifact"], model}
    assert not stale.exists() and fresh.exists()


def test_start_up_collects_orphans(app, client, acme, database):
    """``prepare(collect=True)`` (``spendwise serve`` at start) removes what no row references."""
    store = services(client).store
    kept = uploaded(client, acme["owner"], "outcomes")["artifact"]
    orphan = store.put(b"left behind")
    assert store.digests() == {kept, orphan}
    engine = database.engine()
    try:
        assert prepare(engine, app.extensions["spendwise"].settings, collect=True) is None
    finally:
        engine.dispose()
    assert store.digests() == {kept}

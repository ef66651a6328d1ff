"""Service commands of ``spendwise``: serve, worker, db upgrade, workspaces and keys.

Each takes ``--database URL`` and ``--data-dir DIR``; without them the
``SPENDWISE_DATABASE_URL`` and ``SPENDWISE_DATA_DIR`` variables apply, then
the embedded SQLite database in ``./spendwise-data``.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from api.access import ROLES


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL",
                        help="database URL (default: SQLite in the data directory)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="data directory (default ./spendwise-data)")


def register(commands: Any) -> None:
    """Add the service commands to the ``spendwise`` sub-command parser."""
    serve = commands.add_parser("serve", help="run the API server with its job workers",
                                description="Run the spendwise API (waitress) with embedded "
                                            "job workers; on an empty database, create the "
                                            "demo workspace from fixtures/.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, help="embedded job workers (default 1)")
    serve.add_argument("--threads", type=int, default=8, help="web threads (default 8)")
    serve.add_argument("--no-demo", action="store_true",
                       help="do not create the demo workspace on an empty database")
    _common(serve)
    serve.set_defaults(handler=run_serve)

    worker = commands.add_parser("worker", help="run a job worker against the database")
    worker.add_argument("--once", action="store_true",
                        help="run the jobs waiting now, then exit")
    _common(worker)
    worker.set_defaults(handler=run_worker)

    database = commands.add_parser("db", help="database maintenance")
    actions = database.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply the migrations")
    _common(upgrade)
    upgrade.set_defaults(handler=run_upgrade)

    workspaces = commands.add_parser("workspaces", help="manage workspaces")
    ws_actions = workspaces.add_subparsers(dest="action", required=True, metavar="ACTION")
    ws_create = ws_actions.add_parser("create", help="create a workspace")
    ws_create.add_argument("name")
    _common(ws_create)
    ws_create.set_defaults(handler=run_workspace_create)

    keys = commands.add_parser("keys", help="manage API keys")
    key_actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = key_actions.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--workspace", required=True, help="workspace name")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--label", default="")
    _common(create)
    create.set_defaults(handler=run_key_create)


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from api.settings import Settings

    return Settings.from_env(database_url=args.database, data_dir=args.data_dir, **extra)


def run_serve(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise serve``."""
    from api.server import configure_logging, serve

    configure_logging()
    with contextlib.suppress(KeyboardInterrupt):
        serve(_settings(args, workers=args.workers), host=args.host, port=args.port,
              threads=args.threads, demo=not args.no_demo)
    return 0


def run_worker(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise worker``: migrates the database, but leaves the admin key to ``serve``
    (a key generated here would never be shown)."""
    from api.database import make_engine, upgrade
    from api.server import configure_logging
    from api.server import run_worker as work

    configure_logging()
    settings = _settings(args)
    engine = make_engine(settings.url)
    upgrade(engine)
    engine.dispose()
    with contextlib.suppress(KeyboardInterrupt):
        work(settings, once=args.once)
    return 0


def run_upgrade(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise db upgrade``."""
    from api.database import current_revision, make_engine, upgrade

    engine = make_engine(_settings(args).url)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


def run_workspace_create(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise workspaces create NAME``."""
    import re

    from api.access import workspace_by_name
    from api.bootstrap import prepare
    from api.database import make_engine, session_factory
    from api.errors import Conflict, Invalid
    from api.schemas import NAME_PATTERN
    from api.tables import Workspace

    if not re.match(NAME_PATTERN, args.name):
        raise Invalid(f"name: use lower-case letters, digits, - and _ (got {args.name!r})")
    settings = _settings(args)
    engine = make_engine(settings.url)
    prepare(engine, settings)
    with session_factory(engine).begin() as session:
        if workspace_by_name(session, args.name) is not None:
            raise Conflict(f"a workspace called {args.name!r} exists")
        session.add(Workspace(name=args.name))
    print(f"workspace {args.name} created")
    return 0


def run_key_create(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise keys create --workspace W --role R``: prints the key once."""
    from api.access import issue_key, workspace_by_name
    from api.bootstrap import prepare
    from api.database import make_engine, session_factory
    from api.errors import NotFound

    settings = _settings(args)
    engine = make_engine(settings.url)
    prepare(engine, settings)
    with session_factory(engine).begin() as session:
        workspace = workspace_by_name(session, args.workspace)
        if workspace is None:
            raise NotFound(f"--workspace: no workspace {args.workspace!r}")
        _, key = issue_key(session, args.role, workspace.id, args.label or "spendwise keys")
    print(key)
    return 0

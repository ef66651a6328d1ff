"""Service commands of ``spendwise``: serve, worker, db upgrade, workspaces and keys.

Each takes ``--database URL`` and ``--data-dir DIR``; without them the
``SPENDWISE_DATABASE_URL`` and ``SPENDWISE_DATA_DIR`` variables apply, then
the embedded SQLite database in ``./spendwise-data``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from pathlib import Path
from typing import Any

from api.roles import ROLES


def _whole(low: int, high: int) -> Any:
    """An argparse type: a whole number from ``low`` to ``high`` (argparse names the flag)."""
    def parse(text: str) -> int:
        if not text.strip().lstrip("+").isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}, "
                                             f"got {text!r}")
        return int(text)

    parse.__name__ = "number"
    return parse


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
    serve.add_argument("--port", type=_whole(1, 65535), default=8000)
    serve.add_argument("--workers", type=_whole(0, 64),
                       help="embedded job workers (default 1; 0 to run `spendwise worker` apart)")
    serve.add_argument("--threads", type=_whole(1, 256), default=8,
                       help="web threads (default 8)")
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

    link = commands.add_parser(
        "signin-link", help="print a one-time sign-in link for the browser",
        description="Print a link that signs a browser into a workspace with a role. It works "
                    "once, for --minutes (default 15); the session it opens belongs to a new key "
                    "of that role, which `spendwise keys revoke` ends.")
    link.add_argument("--workspace", required=True, help="workspace name")
    link.add_argument("--role", required=True, choices=ROLES)
    link.add_argument("--minutes", type=float, metavar="N",
                      help="the link is refused N minutes from now (default 15)")
    link.add_argument("--url", default="http://127.0.0.1:8000", metavar="BASE",
                      help="address of the server, as the browser reaches it "
                           "(default http://127.0.0.1:8000)")
    _common(link)
    link.set_defaults(handler=run_signin_link)

    keys = commands.add_parser("keys", help="manage API keys")
    key_actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = key_actions.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--workspace", required=True, help="workspace name")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--label", default="")
    create.add_argument("--expires-days", type=int, metavar="N",
                        help="the key is refused N days from now (default: never)")
    _common(create)
    create.set_defaults(handler=run_key_create)
    listing = key_actions.add_parser("list", help="list a workspace's keys (never a secret)")
    listing.add_argument("--workspace", required=True, help="workspace name")
    _common(listing)
    listing.set_defaults(handler=run_key_list)
    revoke = key_actions.add_parser("revoke", help="revoke a key: refused from its next request")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id, e.g. k0123456789abcdef")
    _common(revoke)
    revoke.set_defaults(handler=run_key_revoke)


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


def _sessions(args: argparse.Namespace) -> Any:
    """Sessions on the migrated database of ``args``."""
    from api.bootstrap import prepare
    from api.database import make_engine, session_factory

    settings = _settings(args)
    engine = make_engine(settings.url)
    prepare(engine, settings)
    return session_factory(engine)


def run_workspace_create(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise workspaces create NAME``."""
    from api.access import workspace_by_name
    from api.audit import SHELL, record
    from api.errors import Conflict
    from api.schemas import WorkspaceIn, build
    from api.tables import Workspace

    request = build(WorkspaceIn, name=args.name)
    with _sessions(args).begin() as session:
        if workspace_by_name(session, request.name) is not None:
            raise Conflict(f"a workspace called {request.name!r} exists")
        row = Workspace(name=request.name)
        session.add(row)
        session.flush()
        record(session, SHELL, "workspace.create", "workspace", row.id, workspace_id=row.id,
               parameters={"name": request.name})
    print(f"workspace {request.name} created")
    return 0


def run_signin_link(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise signin-link --workspace W --role R``: prints a one-time link."""
    from api.access import workspace_by_name
    from api.audit import SHELL
    from api.errors import Invalid, NotFound
    from api.workspaces import create_signin_link

    if args.minutes is not None and not 0 < args.minutes <= 7 * 24 * 60:
        raise Invalid(f"--minutes: must be more than 0 and at most a week (10080), got "
                      f"{args.minutes:g}")
    settings = _settings(args, signin_minutes=args.minutes)
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", args.url):
        raise Invalid(f"--url: expected the server's address such as http://127.0.0.1:8000, "
                      f"got {args.url!r}")
    with _sessions(args).begin() as session:
        workspace = workspace_by_name(session, args.workspace)
        if workspace is None:
            raise NotFound(f"--workspace: no workspace {args.workspace!r}")
        token = create_signin_link(session, SHELL, workspace, args.role,
                                   settings.signin_minutes)
    print(f"{args.url.rstrip('/')}/signin?token={token}")
    return 0


def run_key_create(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise keys create --workspace W --role R [--expires-days N]``: prints the key once."""
    from api.access import workspace_by_name
    from api.audit import SHELL
    from api.errors import NotFound
    from api.schemas import KeyIn, build
    from api.workspaces import create_key

    request = build(KeyIn, role=args.role, workspace=args.workspace,
                    label=args.label or "spendwise keys", expires_in_days=args.expires_days)
    with _sessions(args).begin() as session:
        workspace = workspace_by_name(session, args.workspace)
        if workspace is None:
            raise NotFound(f"--workspace: no workspace {args.workspace!r}")
        _, key = create_key(session, SHELL, workspace, request.role, request.label,
                            request.expiry())
    print(key)
    return 0


def run_key_list(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise keys list --workspace W``: one line per key, never its secret."""
    from api.access import keys_of, workspace_by_name
    from api.errors import NotFound

    with _sessions(args)() as session:
        workspace = workspace_by_name(session, args.workspace)
        if workspace is None:
            raise NotFound(f"--workspace: no workspace {args.workspace!r}")
        rows = session.scalars(keys_of(workspace.id)).all()
    print(f"{'id':<18} {'role':<8} {'created':<17} {'last used':<17} {'expires':<17} "
          f"{'revoked':<17} label")
    for row in rows:
        times = " ".join(f"{_minute(moment):<17}" for moment in (
            row.created_at, row.last_used_at, row.expires_at, row.revoked_at))
        print(f"{row.id:<18} {row.role:<8} {times} {row.label}")
    return 0


def _minute(moment: Any) -> str:
    """A UTC time to the minute, or ``-``."""
    return moment.strftime("%Y-%m-%d %H:%MZ") if moment is not None else "-"


def run_key_revoke(args: argparse.Namespace, _write: Any) -> int:
    """``spendwise keys revoke KEY_ID``: the key is refused from its next request on."""
    from api.audit import SHELL
    from api.errors import NotFound
    from api.schemas import RESOURCE_ID_PATTERN
    from api.tables import ApiKey
    from api.workspaces import revoke_key

    if not re.fullmatch(RESOURCE_ID_PATTERN, args.key_id):
        raise NotFound(f"no key {args.key_id!r}")
    with _sessions(args).begin() as session:
        row = session.get(ApiKey, args.key_id)
        if row is None:
            raise NotFound(f"no key {args.key_id!r}")
        if not revoke_key(session, SHELL, row):
            print(f"key {row.id} was revoked already, at {_minute(row.revoked_at)}")
            return 0
    print(f"key {args.key_id} revoked")
    return 0

"""Running the service: the WSGI server, the embedded workers and first start.

``spendwise serve`` migrates the database, makes sure an admin key exists,
creates the ``demo`` workspace on an empty database (:mod:`api.demo`), starts
the embedded job workers as child processes and serves the API with waitress,
a production WSGI server. ``spendwise worker`` runs one more worker against
the same database, in the foreground.

Workers are processes, not threads: a fit holds a CPU for a minute and must
not slow the web threads. A worker whose parent server has died finishes its
current job (so nothing is left half-done) and exits.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.database import make_engine, session_factory
from api.settings import DEFAULT_DATA_DIR, Settings
from api.store import ArtifactStore

log = logging.getLogger("spendwise")


def run_worker(settings: Settings, parent_pid: int | None = None, once: bool = False) -> None:
    """Run one job worker until stopped (or, with ``parent_pid``, until that process is gone).

    With ``once`` it runs the jobs that are waiting and returns.
    """
    import warnings

    from api.job_kinds import KINDS
    from api.jobs import Worker

    # nutpie compiles the model with numba; PyTensor's C BLAS is not used.
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")

    if not logging.getLogger("spendwise").handlers:  # a spawned worker starts unconfigured
        configure_logging()
    engine = make_engine(settings.url)
    worker = Worker(session_factory(engine), ArtifactStore(settings.store_dir), settings, KINDS)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    # The name is what the ``worker`` column of the jobs it claims records.
    log.info("job worker %s started", worker.name)
    try:
        if once:
            while worker.run_one():
                pass
            return
        orphaned = (lambda: os.getppid() != parent_pid) if parent_pid else None
        worker.run_forever(stop_when=orphaned)
    finally:
        engine.dispose()


def start_workers(settings: Settings, count: int) -> list[Any]:
    """Start ``count`` worker processes (spawned: no state inherited from the server)."""
    context = multiprocessing.get_context("spawn")
    processes = []
    for _ in range(count):
        process = context.Process(target=run_worker, args=(settings, os.getpid()), daemon=True,
                                  name="spendwise-worker")
        process.start()
        processes.append(process)
    return processes


#: Most bytes of request headers the WSGI server reads before refusing a request itself.
WSGI_HEADER_BYTES = 1 << 20


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, threads: int = 8,
          demo: bool = True, say: Callable[[str], None] | None = None) -> None:
    """Prepare the database, start the workers and serve until interrupted."""
    import waitress

    from api.app import create_app
    from api.bootstrap import prepare
    from api.demo import first_start

    say = say or (lambda text: print(text, flush=True))
    engine = make_engine(settings.url)
    admin_key = prepare(engine, settings, collect=True)
    base = f"http://{host}:{port}"
    created = first_start(engine, settings) if demo else None
    app = create_app(settings, engine=engine)
    workers = start_workers(settings, settings.workers)
    say(f"spendwise serving {base} (database {_safe_url(settings.url)}, data in "
        f"{settings.data_dir.resolve()}, {len(workers)} job worker(s))")
    if admin_key:
        say(f"admin key (shown once, keep it): {admin_key}")
    if created is not None:
        say(created.announce(base))
    else:
        say(f"Sign in at {base}/signin with an API key, or print a one-time sign-in link "
            f"with: spendwise signin-link --workspace NAME --role owner{_flags(settings)}")
    say(f"JSON API: {base}/v1/health, documentation {base}/v1/docs, OpenAPI "
        f"{base}/v1/openapi.json (send 'Authorization: Bearer <key>')")
    try:
        # Headers up to 1 MiB reach the app, which answers anything over its own 16 KB limit
        # with a problem+json 431; past 1 MiB waitress refuses them itself, in plain text.
        waitress.serve(app, host=host, port=port, threads=threads, ident="spendwise",
                       max_request_header_size=WSGI_HEADER_BYTES, _quiet=True)
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(timeout=30)


def _flags(settings: Settings) -> str:
    """The ``--database``/``--data-dir`` flags that reach this server's database."""
    if settings.database_url:
        return f" --database {_safe_url(settings.url)}"
    if settings.data_dir.resolve() != Path(DEFAULT_DATA_DIR).resolve():
        return f" --data-dir {settings.data_dir}"
    return ""


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def configure_logging() -> None:
    """Log records of the service to standard error, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("spendwise")
    root.addHandler(handler)
    root.setLevel(logging.INFO)

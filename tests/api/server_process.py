"""The real server and separate job workers in child processes, driven over HTTP."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
#: The line a job worker logs when it starts, naming itself as the job rows will.
WORKER_STARTED = re.compile(r"job worker (\S+) started")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def schema_url(url: str, schema: str) -> str:
    """The PostgreSQL ``url`` with ``schema`` first on the search path of its connections."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}', safe='')}"


def admin_key() -> str:
    """A fresh, well-formed admin key."""
    return f"sw_k{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"


class Response:
    """Status, headers and body of one HTTP exchange."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Child:
    """A ``spendwise`` command in a child process, its output collected line by line."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    def spawn(self, arguments: list[str], env: dict[str, str]) -> None:
        """Run ``python -m api ARGUMENTS`` with ``env`` added to this environment."""
        self.output = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api", *arguments], cwd=ROOT, text=True,
            env=os.environ | {"PYTHONPATH": str(ROOT)} | env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def running(self) -> bool:
        """Whether the process has started and not ended."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop gracefully (SIGINT, like Ctrl-C)."""
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """``kill -9`` the process."""
        if self.running():
            assert self.process is not None
            self.process.kill()
            self.process.wait(timeout=30)


class Server(Child):
    """``spendwise serve`` in a child process; stop with :meth:`stop` or :meth:`kill`.

    :meth:`kill` kills the server process only: its embedded workers notice
    and exit after their job.
    """

    def __init__(self, data_dir: Path, database_url: str | None = None, *, workers: int = 1,
                 demo: bool = False, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.database_url = database_url
        self.workers = workers
        self.demo = demo
        self.admin_key = admin_key()
        self.extra_env = env or {}
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> Server:
        """Start the server and wait until ``/v1/health`` answers."""
        self.port = free_port()
        arguments = ["serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
                     "--workers", str(self.workers)]
        if self.database_url:
            arguments += ["--database", self.database_url]
        if not self.demo:
            arguments.append("--no-demo")
        self.spawn(arguments, {"SPENDWISE_ADMIN_KEY": self.admin_key} | self.extra_env)
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + "".join(self.output))
            try:
                if self.request("GET", "/v1/health").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("server did not answer:\n" + "".join(self.output))

    def request(self, method: str, path: str, *, key: str | None = None, body: Any = None,
                data: bytes | None = None, content_type: str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 60.0) -> Response:
        """One HTTP request; JSON ``body`` or raw ``data`` with ``content_type``, and any
        further ``headers``."""
        headers = dict(headers or {}) | ({"Authorization": f"Bearer {key}"} if key else {})
        if body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class Worker(Child):
    """``spendwise worker`` in a child process, on a server's database and data directory."""

    def __init__(self, data_dir: Path, database_url: str | None = None, *,
                 env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.database_url = database_url
        self.extra_env = env or {}
        #: The worker's name, as the ``worker`` column of the jobs it claims records it.
        self.name = ""

    def launch(self, *, once: bool = False) -> Worker:
        """Start the worker without waiting for it."""
        arguments = ["worker", "--data-dir", str(self.data_dir)]
        if self.database_url:
            arguments += ["--database", self.database_url]
        if once:
            arguments.append("--once")
        self.spawn(arguments, self.extra_env)
        return self

    def ready(self, timeout: float = 90.0) -> Worker:
        """Wait until the worker has logged that it started and learn its :attr:`name`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                if found := WORKER_STARTED.search(line):
                    self.name = found.group(1)
                    return self
            if not self.running():
                break
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("worker did not start:\n" + "".join(self.output))

    def start(self, timeout: float = 90.0) -> Worker:
        """Start the worker and wait until it polls for jobs."""
        return self.launch().ready(timeout)

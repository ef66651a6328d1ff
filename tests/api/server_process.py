"""The real server in a child process, on a free loopback port, driven over HTTP."""

from __future__ import annotations

import json
import os
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

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


class Server:
    """``spendwise serve`` in a child process; stop with :meth:`stop` or :meth:`kill`."""

    def __init__(self, data_dir: Path, database_url: str | None = None, *, workers: int = 1,
                 demo: bool = False, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.workers = workers
        self.demo = demo
        self.admin_key = admin_key()
        self.extra_env = env or {}
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> Server:
        """Start the server and wait until ``/v1/health`` answers."""
        self.port = free_port()
        command = [sys.executable, "-m", "api", "serve", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), "--workers", str(self.workers)]
        if self.database_url:
            command += ["--database", self.database_url]
        if not self.demo:
            command.append("--no-demo")
        env = os.environ | {"SPENDWISE_ADMIN_KEY": self.admin_key,
                            "PYTHONPATH": str(ROOT)} | self.extra_env
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()
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

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def request(self, method: str, path: str, *, key: str | None = None, body: Any = None,
                data: bytes | None = None, content_type: str | None = None,
                timeout: float = 60.0) -> Response:
        """One HTTP request; JSON ``body`` or raw ``data`` with ``content_type``."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
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

    def stop(self) -> None:
        """Stop gracefully (SIGINT, like Ctrl-C)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """``kill -9`` the server process (its workers notice and exit after their job)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

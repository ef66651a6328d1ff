"""kill -9 of the real server during a touches upload leaves no raw user id in any file.

The server runs in a child process (:mod:`tests.api.server_process`) with its own
temporary folder (``TMPDIR``) inside the test's folder. A large touches file whose
user ids are recognisable is uploaded from a thread, and the server is killed at a
few moments of the upload: while the body streams in, while it is parsed, while it is
stored, and after it was stored. Every file under the test's folder (the temporary
folder, the data directory and an SQLite database) is then searched for the ids.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Database
from tests.api.server_process import Server, schema_url

#: Every raw id starts with this; the ids are ``user-SECRET-000000`` and so on.
MARKER = b"user-SECRET-"
#: Seconds after the upload starts at which the server is killed; None: once it answered.
MOMENTS = (0.05, 0.4, 1.0, 2.0, None)


def touches_body(rows: int = 400_000, users: int = 50_000) -> bytes:
    """A touches CSV of ``rows`` rows whose ids are ``user-SECRET-<n>``."""
    channels = ("search", "email", "display", "social")
    lines = [f"user-SECRET-{i % users:06d},2024-01-{1 + i % 28:02d} {i % 24:02d}:00:00,"
             f"{channels[i % 4]}" for i in range(rows)]
    return ("user_id,timestamp,channel\n" + "\n".join(lines) + "\n").encode()


def files_holding_ids(root: Path) -> list[Path]:
    """Every file under ``root`` whose bytes hold a raw id."""
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and MARKER in path.read_bytes():
                found.append(path)
        except OSError:  # a file removed while walking
            continue
    return found


@pytest.mark.slow
def test_kill_during_a_touches_upload_leaves_no_raw_id_on_disk(tmp_path: Path,
                                                               database: Database) -> None:
    """After kill -9 at any moment of an upload, no file in the temporary folder, the data
    directory or the database holds a raw user id."""
    body = touches_body()
    temporary, data = tmp_path / "tmp", tmp_path / "data"
    temporary.mkdir()
    url = schema_url(database.url, database.schema) if database.schema else database.url
    admin_key, key, cut = None, None, 0
    for moment in MOMENTS:
        server = Server(data, url, workers=0, env={"TMPDIR": str(temporary)})
        if admin_key is not None:
            server.admin_key = admin_key
        server.start()
        admin_key = server.admin_key
        if key is None:
            assert server.request("POST", "/v1/workspaces", key=admin_key,
                                  body={"name": "acme"}).status == 201
            key = server.request("POST", "/v1/keys", key=admin_key,
                                 body={"role": "owner", "workspace": "acme"}).json["key"]
        answers: list[Any] = []

        def upload(server: Server = server, key: str = key,
                   answers: list[Any] = answers) -> None:
            try:
                answers.append(server.request("POST", "/v1/datasets?kind=touches&name=t",
                                              key=key, data=body, content_type="text/csv",
                                              timeout=120))
            except OSError as exc:  # the server died mid-request
                answers.append(exc)

        thread = threading.Thread(target=upload)
        thread.start()
        if moment is None:
            thread.join(120)
            assert answers and getattr(answers[0], "status", None) == 201, answers
        else:
            time.sleep(moment)
            cut += not answers  # killed before the server answered
        server.kill()
        thread.join(120)
        leaked = files_holding_ids(tmp_path)
        assert not leaked, (moment, leaked)
    assert not files_holding_ids(tmp_path)
    assert cut >= len(MOMENTS) - 2, "the upload ended before most of the kills"

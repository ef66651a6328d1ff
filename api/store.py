"""Content-addressed store of large artifacts (datasets as Parquet, fitted models).

An artifact is stored once under the SHA-256 of its bytes,
``<root>/ab/cdef...``; the database keeps the hash. Writes go to a temporary
file in the same directory, are flushed to disk and renamed into place, so a
crash leaves either the whole artifact or nothing under its name. Stray
temporary files of a crashed write are removed by :meth:`ArtifactStore.sweep`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

from api.errors import NotFound

CHUNK = 1 << 20


class ArtifactStore:
    """Files named by their SHA-256 under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        """Where the artifact ``digest`` lives (it may not exist)."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise NotFound(f"no artifact {digest!r}")
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256 (storing the same bytes twice is a no-op)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes of ``digest``, checked against it."""
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"artifact {digest} is missing from the store") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise NotFound(f"artifact {digest} is corrupt")
        return data

    def exists(self, digest: str) -> bool:
        """Whether ``digest`` is stored."""
        return self.path(digest).exists()

    def delete(self, digest: str) -> None:
        """Remove ``digest`` if present."""
        self.path(digest).unlink(missing_ok=True)

    def digests(self) -> set[str]:
        """Every stored digest."""
        if not self.root.exists():
            return set()
        return {p.parent.name + p.name for p in self.root.glob("??/*")
                if not p.name.startswith(".")}

    def sweep(self, older_than: float = 3600.0) -> int:
        """Delete temporary files of interrupted writes older than ``older_than`` seconds."""
        removed = 0
        cutoff = time.time() - older_than
        for stray in self.root.glob("??/.tmp-*"):
            if stray.stat().st_mtime < cutoff:
                stray.unlink(missing_ok=True)
                removed += 1
        return removed

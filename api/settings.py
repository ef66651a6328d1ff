"""Settings of the service, from arguments, then the environment, then defaults.

==========================  ===============================  ==================================
setting                     environment                      default
==========================  ===============================  ==================================
``database_url``            ``SPENDWISE_DATABASE_URL``       SQLite file ``spendwise.db`` in the
                                                             data directory (WAL mode)
``data_dir``                ``SPENDWISE_DATA_DIR``           ``./spendwise-data``
``admin_key``               ``SPENDWISE_ADMIN_KEY``          generated and printed at first start
``max_upload_bytes``        ``SPENDWISE_MAX_UPLOAD_BYTES``   64 MiB
``workers``                 ``SPENDWISE_WORKERS``            1 embedded job worker
``lease_seconds``           ``SPENDWISE_LEASE_SECONDS``      60: a job whose worker has been
                                                             silent this long is taken over
``session_hours``           ``SPENDWISE_SESSION_HOURS``      12: a browser session ends this
                                                             long after sign-in
``signin_minutes``          ``SPENDWISE_SIGNIN_MINUTES``     15: a sign-in link is refused this
                                                             long after it was made
==========================  ===============================  ==================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from api.errors import ConfigError

DEFAULT_DATA_DIR = "spendwise-data"
DEFAULT_MAX_UPLOAD = 64 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything the application, its workers and its commands need to know."""

    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR))
    database_url: str | None = None
    admin_key: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    workers: int = 1
    #: A job whose worker has not renewed its lease for this long is taken over.
    lease_seconds: float = 60.0
    #: Seconds between polls of an idle worker.
    poll_seconds: float = 0.5
    #: Hours a browser session lasts from sign-in.
    session_hours: float = 12.0
    #: Minutes a one-time sign-in link stays valid.
    signin_minutes: float = 15.0

    def __post_init__(self) -> None:
        if self.max_upload_bytes < 1:
            raise ConfigError(f"max_upload_bytes must be positive, got {self.max_upload_bytes}")
        if self.workers < 0:
            raise ConfigError(f"workers must be 0 or more, got {self.workers}")
        if self.lease_seconds <= 0:
            raise ConfigError(f"lease_seconds must be positive, got {self.lease_seconds}")
        if not 0 < self.session_hours <= 24 * 366:
            raise ConfigError(f"session_hours must be positive and at most a year (8784), got "
                              f"{self.session_hours}")
        if not 0 < self.signin_minutes <= 7 * 24 * 60:
            raise ConfigError(f"signin_minutes must be positive and at most a week (10080), got "
                              f"{self.signin_minutes}")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL: the one given, or the embedded SQLite file."""
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'spendwise.db').resolve()}"

    @property
    def store_dir(self) -> Path:
        """Root of the content-addressed artifact store."""
        return self.data_dir / "artifacts"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Settings:
        """Settings from ``given`` (``None`` values ignored), then ``SPENDWISE_*`` variables."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        names = {"data_dir": Path, "database_url": str, "admin_key": str,
                 "max_upload_bytes": int, "workers": int, "lease_seconds": float,
                 "session_hours": float, "signin_minutes": float}
        for name, kind in names.items():
            raw = env.get(f"SPENDWISE_{name.upper()}")
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise ConfigError(f"SPENDWISE_{name.upper()}: expected {kind.__name__}, "
                                      f"got {raw!r}") from None
        values.update({k: v for k, v in given.items() if v is not None})
        return replace(cls(), **values)


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use psycopg 3; other URLs are kept as given."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url

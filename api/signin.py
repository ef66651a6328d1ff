"""Browser sign-in: one-time links and server-side sessions (no HTTP here).

A browser signs in in one of two ways, in the manner of Jupyter's token URL:

* a **sign-in link** ``/signin?token=...``, printed by ``spendwise serve`` at
  first start and by ``spendwise signin-link``, or made by an owner on the keys
  page. Its token works once and only until it expires (15 minutes by
  default, :attr:`api.settings.Settings.signin_minutes`). A link belongs to an
  API key: the demo owner's key, or a key made for the link, whose secret is
  never shown;
* an **API key** typed into the sign-in page.

Either way the browser gets a :class:`~api.tables.BrowserSession` for that key.
The cookie holds a random secret; the database holds its SHA-256 and the
token that every form of the session must carry (CSRF). A session ends at
sign-out, when it expires (:attr:`~api.settings.Settings.session_hours`) and
as soon as its key is revoked or expires: every request checks the key
again, so revoking a key closes its sessions on their next request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.access import Principal, hash_secret, issue_key
from api.errors import Unauthorized
from api.tables import ApiKey, BrowserSession, SigninToken, now

#: Characters of a sign-in token and of a session secret (URL-safe base64 of 32 bytes).
TOKEN_BYTES = 32
#: The label of the keys made for sign-in links.
LINK_KEY_LABEL = "browser sign-in"


@dataclass(frozen=True)
class Opened:
    """A new browser session: its row, the cookie's secret (never stored) and who it is."""

    row: BrowserSession
    secret: str
    principal: Principal


def link_key(session: Session, workspace_id: str, role: str, label: str = LINK_KEY_LABEL) -> ApiKey:
    """A new key of ``role`` in the workspace for sign-in links; its secret is dropped, so the
    key signs in through links only (and is revoked like any other key)."""
    row, _ = issue_key(session, role, workspace_id, label)
    session.flush()
    return row


def issue_link(session: Session, key_id: str, created_by: str, minutes: float) -> str:
    """A one-time sign-in token for ``key_id``, valid for ``minutes``; only its hash is kept."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(SigninToken(token_hash=hash_secret(token), key_id=key_id, created_by=created_by,
                            expires_at=now() + timedelta(minutes=minutes)))
    return token


def redeem(session: Session, token: str, hours: float) -> Opened:
    """Use a sign-in token once: a new session for its key, or :class:`Unauthorized`.

    The token is marked used by one conditional update, so two browsers opening
    the same link at once cannot both sign in.
    """
    digest = hash_secret(token) if 20 <= len(token) <= 100 else ""
    moment = now()
    used = session.execute(update(SigninToken)
                           .where(SigninToken.token_hash == digest,
                                  SigninToken.used_at.is_(None),
                                  SigninToken.expires_at > moment)
                           .values(used_at=moment))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise Unauthorized("this sign-in link was used already, has expired or is unknown")
    key_id = session.scalars(select(SigninToken.key_id)
                             .where(SigninToken.token_hash == digest)).one()
    return open_session(session, _usable_key(session, key_id), hours)


def open_session(session: Session, key: ApiKey, hours: float) -> Opened:
    """A new browser session for ``key`` (already authenticated), lasting ``hours``."""
    if key.workspace_id is None:
        raise Unauthorized("the admin key has no workspace to open; sign in with a "
                           "workspace's key or link")
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    row = BrowserSession(secret_hash=hash_secret(secret), key_id=key.id,
                         csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
                         expires_at=now() + timedelta(hours=hours))
    session.add(row)
    session.flush()
    return Opened(row, secret, Principal(key.id, key.workspace_id, key.role))


def session_of(session: Session, secret: str) -> tuple[BrowserSession, Principal] | None:
    """The live session of a cookie's secret and its principal, or ``None``.

    A session is live until it ends or expires, and while its key is neither
    revoked nor expired.
    """
    if not 20 <= len(secret) <= 100:
        return None
    row = session.scalars(select(BrowserSession)
                          .where(BrowserSession.secret_hash == hash_secret(secret))).first()
    moment = now()
    if row is None or row.ended_at is not None or row.expires_at <= moment:
        return None
    key = session.get(ApiKey, row.key_id)
    if key is None or key.revoked_at is not None or key.workspace_id is None or \
            (key.expires_at is not None and key.expires_at <= moment):
        return None
    return row, Principal(key.id, key.workspace_id, key.role)


def end(row: BrowserSession) -> None:
    """End a session (sign-out); its cookie is refused from now on."""
    if row.ended_at is None:
        row.ended_at = now()


def _usable_key(session: Session, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    moment = now()
    if key is None or key.revoked_at is not None or \
            (key.expires_at is not None and key.expires_at <= moment):
        raise Unauthorized("the key of this sign-in link was revoked or has expired")
    return key

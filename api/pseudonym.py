"""Pseudonyms of user ids: HMAC-SHA256 keyed with the workspace's secret.

Touch and conversion uploads name people by ``user_id``. Before anything is
stored, every id is replaced by

.. math:: \\mathrm{HMAC\\text{-}SHA256}(k, u)

in lower-case hex, where ``k`` is the UTF-8 bytes of the workspace's
``pseudonym_secret`` and ``u`` the UTF-8 bytes of the id as the validator
cleaned it (surrounding white space stripped). The map is deterministic within
a workspace, so touches of one upload and conversions of another still meet
in the same journeys; another workspace has another key, so its pseudonyms
cannot be linked to these; and without the key a pseudonym cannot be turned
back into an id, nor checked against a guessed one (RFC 2104).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def pseudonym(secret: str, user_id: str) -> str:
    """The pseudonym of one user id: HMAC-SHA256 keyed with ``secret``, hex.

    Parameters
    ----------
    secret
        The workspace's ``pseudonym_secret``.
    user_id
        The id as read from the upload.

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    return hmac.new(secret.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonymise(secret: str, user_ids: Iterable[str]) -> list[str]:
    """The pseudonyms of many ids, in order; each distinct id is hashed once."""
    key = secret.encode("utf-8")
    seen: dict[str, str] = {}
    out = []
    for user_id in user_ids:
        found = seen.get(user_id)
        if found is None:
            found = seen[user_id] = hmac.new(key, user_id.encode("utf-8"),
                                             hashlib.sha256).hexdigest()
        out.append(found)
    return out

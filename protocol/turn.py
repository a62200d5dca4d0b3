"""TURN REST API credentials (coturn `use-auth-secret`), standard library only.

The scheme (draft-uberti-behave-turn-rest-00, as coturn implements it): the username is
``"<expiry unix seconds>:<user id>"`` and the password is
``base64(HMAC-SHA1(static-auth-secret, username))``. The TURN server recomputes it from
its `static-auth-secret` and refuses the username once the expiry has passed, so the
server can hand short-lived credentials to boxes and browsers without storing them.

Pure function, standard library only: the server issues credentials and `media.turn` re-exports it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class TurnCredentials:
    """A username/credential pair for an `RTCIceServer`, valid until `expires_at` (UTC)."""

    username: str
    credential: str
    expires_at: datetime


def turn_rest_credentials(
    secret: str, user: str, *, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None
) -> TurnCredentials:
    """Credentials for `user` valid for `ttl` from `now` (default: the current UTC time)."""
    if ":" in user:
        raise ValueError("a TURN REST user id must not contain ':'")
    issued = now if now is not None else datetime.now(UTC)
    if issued.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    expires_at = (issued + ttl).astimezone(UTC)
    username = f"{int(expires_at.timestamp())}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredentials(
        username=username,
        credential=base64.b64encode(digest).decode("ascii"),
        expires_at=expires_at,
    )

"""Call settings (env prefix ``ANXIN_CALL_``) and the ICE servers handed to each party.

TURN uses the REST API scheme coturn implements (`use-auth-secret`): the server shares
``static-auth-secret`` with coturn and issues short-lived credentials per party, so no
TURN password is ever stored or shipped to boxes and browsers. Example::

    ANXIN_CALL_ICE_SERVERS='[{"urls": ["stun:stun.example.org:3478"]}]'
    ANXIN_CALL_TURN_URLS='["turn:turn.example.org:3478?transport=udp"]'
    ANXIN_CALL_TURN_SECRET=...            # coturn's static-auth-secret
    ANXIN_CALL_ICE_TRANSPORT_POLICY=relay # force relaying (tests; strict networks)
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol import IceServer
from protocol.turn import turn_rest_credentials


class CallSettings(BaseSettings):
    """Everything the server's call feature reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="ANXIN_CALL_", env_file=".env", extra="ignore")

    # Default [] on purpose: no public STUN server unless configured.
    ice_servers: list[IceServer] = Field(default_factory=list)
    turn_urls: list[str] = Field(default_factory=list)
    turn_secret: str | None = None
    turn_ttl_seconds: int = Field(default=6 * 3600, gt=60)
    ice_transport_policy: Literal["all", "relay"] = "all"
    # Expected length of one consultation, for the wait the TV announces.
    consult_minutes_each: float = Field(default=8.0, gt=0)
    # A family call nobody answers ends after this long.
    ring_timeout_seconds: float = Field(default=45.0, gt=0)
    auto_answer_after_seconds: float = Field(default=5.0, ge=1)


@lru_cache
def call_settings() -> CallSettings:
    """The process-wide call settings, read once (tests: ``call_settings.cache_clear()``)."""
    return CallSettings()


def ice_servers_for(party: str, settings: CallSettings | None = None) -> list[IceServer]:
    """The configured ICE servers plus TURN with fresh credentials for ``party`` (no ':')."""
    settings = settings or call_settings()
    servers = list(settings.ice_servers)
    if settings.turn_urls and settings.turn_secret:
        creds = turn_rest_credentials(
            settings.turn_secret, party, ttl=timedelta(seconds=settings.turn_ttl_seconds)
        )
        servers.append(
            IceServer(urls=settings.turn_urls, username=creds.username, credential=creds.credential)
        )
    return servers

"""Settings become the RTCConfiguration and ICE gathering the call actually uses."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiortc import RTCIceTransportPolicy

from media.config import MediaSettings
from media.session import CallSession, build_rtc_configuration


def test_default_configuration_has_no_ice_servers() -> None:
    # Without this aiortc would contact a public STUN server.
    config = build_rtc_configuration(MediaSettings())
    assert config.iceServers == []
    assert config.iceTransportPolicy == RTCIceTransportPolicy.ALL


def test_turn_servers_and_relay_policy_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    servers = [{"urls": ["turn:turn.anxin.test:3478"], "username": "1:box", "credential": "c2"}]
    monkeypatch.setenv("ANXIN_MEDIA_ICE_SERVERS", json.dumps(servers))
    monkeypatch.setenv("ANXIN_MEDIA_ICE_TRANSPORT_POLICY", "relay")
    config = build_rtc_configuration(MediaSettings())
    assert config.iceTransportPolicy == RTCIceTransportPolicy.RELAY
    [server] = config.iceServers or []
    assert server.urls == ["turn:turn.anxin.test:3478"]
    assert (server.username, server.credential) == ("1:box", "c2")


@pytest.mark.parametrize(
    "name", ["ANXIN_MEDIA_LOOPBACK_ONLY", "ANXIN_MEDIA_HOST_CANDIDATES_LOOPBACK_ONLY"]
)
def test_loopback_only_can_be_switched_on_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    assert MediaSettings().host_candidates_loopback_only is False
    monkeypatch.setenv(name, "1")
    assert MediaSettings().host_candidates_loopback_only is True


def host_candidates(sdp: str) -> list[str]:
    return [line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate")]


@pytest.mark.netns
async def test_in_a_loopback_namespace_only_the_setting_yields_a_candidate() -> None:
    plain = CallSession(MediaSettings(use_devices=False), None)
    try:
        offer = await asyncio.wait_for(plain.create_offer(), 15)
        assert host_candidates(offer) == []  # aioice skips 127.0.0.1: nothing could connect
    finally:
        await asyncio.wait_for(plain.close(), 15)
    loopback = CallSession(MediaSettings(use_devices=False, host_candidates_loopback_only=True))
    try:
        offer = await asyncio.wait_for(loopback.create_offer(), 15)
        assert set(host_candidates(offer)) == {"127.0.0.1"}
    finally:
        await asyncio.wait_for(loopback.close(), 15)

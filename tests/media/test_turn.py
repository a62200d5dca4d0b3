"""TURN: REST API credentials accepted by a real coturn, and a relay-only call through it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from media.config import IceServerSetting, MediaSettings
from media.turn import turn_rest_credentials
from tests.media.calls import STEP_TIMEOUT_S, make_peer, wait_connected
from tests.media.coturn import Coturn
from tests.support.waiting import async_wait_until

SECRET = "anxin-test-static-auth-secret"


def test_credentials_follow_the_turn_rest_scheme() -> None:
    now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    creds = turn_rest_credentials(SECRET, "box-42", ttl=timedelta(hours=1), now=now)
    assert creds.username == f"{int(now.timestamp()) + 3600}:box-42"
    assert creds.expires_at == now + timedelta(hours=1)
    expected = hmac.new(SECRET.encode(), creds.username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(creds.credential) == expected
    with pytest.raises(ValueError):
        turn_rest_credentials(SECRET, "a:b")


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    server = Coturn.start(tmp_path, SECRET)
    yield server
    server.stop()


def relay_settings(
    coturn: Coturn, user: str, *, secret: str = SECRET, ttl_s: int = 600
) -> MediaSettings:
    creds = turn_rest_credentials(secret, user, ttl=timedelta(seconds=ttl_s))
    return MediaSettings(
        use_devices=False,
        ice_transport_policy="relay",
        ice_servers=[
            IceServerSetting(
                urls=[coturn.url], username=creds.username, credential=creds.credential
            )
        ],
    )


def candidate_types(sdp: str) -> set[str]:
    return {line.split(" typ ")[1].split()[0] for line in sdp.splitlines() if " typ " in line}


@pytest.mark.netns
async def test_relay_only_call_through_coturn_carries_media(coturn: Coturn) -> None:
    caller = make_peer(relay_settings(coturn, "box-1"))
    callee = make_peer(relay_settings(coturn, "doctor-7"))
    try:
        offer = await asyncio.wait_for(caller.session.create_offer(), STEP_TIMEOUT_S)
        # Only relay candidates on both sides: any media that arrives went through coturn.
        assert candidate_types(offer) == {"relay"}, offer
        answer = await asyncio.wait_for(callee.session.accept_offer(offer), STEP_TIMEOUT_S)
        assert candidate_types(answer) == {"relay"}, answer
        await asyncio.wait_for(caller.session.accept_answer(answer), STEP_TIMEOUT_S)
        await wait_connected(caller.session, callee.session)
        await async_wait_until(
            lambda: callee.video is not None and len(callee.video.stamps) >= 10, STEP_TIMEOUT_S
        )
        await async_wait_until(
            lambda: caller.video is not None and len(caller.video.stamps) >= 10, STEP_TIMEOUT_S
        )
        await async_wait_until(
            lambda: callee.audio is not None and callee.audio.tone_frames(600) >= 5, STEP_TIMEOUT_S
        )
        assert callee.video.in_order and caller.video.in_order
        print(
            f"relay call connected after {caller.session.stats.connected_after_s:.3f} s, "
            f"first video frame after {caller.session.stats.first_video_frame_after_s:.3f} s"
        )
    finally:
        await caller.close()
        await callee.close()


@pytest.mark.netns
@pytest.mark.parametrize("problem", ["expired", "wrong_secret"])
async def test_bad_turn_credentials_gather_no_relay_candidate(coturn: Coturn, problem: str) -> None:
    settings = (
        relay_settings(coturn, "box-1", ttl_s=-60)
        if problem == "expired"
        else relay_settings(coturn, "box-1", secret="not-the-secret")
    )
    peer = make_peer(settings)
    try:
        offer = await asyncio.wait_for(peer.session.create_offer(), STEP_TIMEOUT_S)
        assert candidate_types(offer) == set(), offer
    finally:
        await peer.close()

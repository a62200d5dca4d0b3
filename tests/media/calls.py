"""Two-peer call fixtures for media tests: connect two `CallSession`s in one process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiortc.mediastreams import MediaStreamTrack

from media.config import MediaSettings
from media.devices import LocalMedia
from media.probe import AudioToneProbe, VideoStampProbe
from media.session import CallSession, CallState

# Upper bound on one step of a call in one process (offer, answer, connect).
STEP_TIMEOUT_S = 15.0


@dataclass
class Peer:
    """One side of a test call: its session, local media and probes on what it receives."""

    session: CallSession
    media: LocalMedia
    video: VideoStampProbe | None = None
    audio: AudioToneProbe | None = None
    states: list[CallState] = field(default_factory=list)

    def attach(self, track: MediaStreamTrack) -> None:
        """on_remote_track: put a probe on each remote track."""
        if track.kind == "video":
            self.video = VideoStampProbe(track)
        else:
            self.audio = AudioToneProbe(track)

    async def close(self) -> None:
        """Hang up and release everything this side owns."""
        for probe in (self.video, self.audio):
            if probe is not None:
                await probe.stop()
        await asyncio.wait_for(self.session.close(), STEP_TIMEOUT_S)
        self.media.close()


def make_peer(settings: MediaSettings) -> Peer:
    """A peer sending synthetic media and probing what it receives."""
    media = LocalMedia.synthetic(settings)
    peer = Peer(session=None, media=media)  # type: ignore[arg-type]
    peer.session = CallSession(
        settings, media, on_state=peer.states.append, on_remote_track=peer.attach
    )
    return peer


async def negotiate(offerer: CallSession, answerer: CallSession) -> None:
    """Offer/answer handed across directly (stands in for the WebSocket signaling)."""
    offer = await asyncio.wait_for(offerer.create_offer(), STEP_TIMEOUT_S)
    answer = await asyncio.wait_for(answerer.accept_offer(offer), STEP_TIMEOUT_S)
    await asyncio.wait_for(offerer.accept_answer(answer), STEP_TIMEOUT_S)


async def wait_connected(*sessions: CallSession) -> None:
    """Wait until every session is CONNECTED (fails on a final state)."""
    for session in sessions:
        state = await asyncio.wait_for(session.wait_for_state(CallState.CONNECTED), STEP_TIMEOUT_S)
        assert state == CallState.CONNECTED, f"call ended as {state}"

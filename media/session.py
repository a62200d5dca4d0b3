"""One video consultation: a `CallSession` around an aiortc `RTCPeerConnection`.

Signaling is the caller's business: the session takes and produces SDP strings
(`create_offer` / `accept_offer` / `accept_answer`), so the box can carry them over the
server's WebSocket and tests can hand them across directly. aiortc does not trickle ICE,
so every SDP returned here already holds all candidates.

States (`CallState`)::

    NEW -> CONNECTING -> CONNECTED <-> RECONNECTING (no remote frame for stall_timeout_s)
                 \\              \\-> ENDED  (either side hung up: close() or the peer's DTLS close)
                  \\-> FAILED     (ICE/DTLS failed; the peer connection is closed too)

ICE restart: aiortc 1.16 has none (no `iceRestart` offer option; aioice cannot renew its
credentials on a live connection; aiortc issue #211). `restart_ice()` therefore ends the
call cleanly and raises `MediaError(ICE_RESTART_UNSUPPORTED)` so the caller re-dials with
a fresh session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.exceptions import InvalidStateError
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.frame import Frame
from av.packet import Packet

from media.config import MediaSettings
from media.devices import LocalMedia
from media.errors import MediaError, MediaErrorCode
from media.loopback import use_loopback_host_candidates

logger = logging.getLogger(__name__)

KINDS = ("audio", "video")


class CallState(Enum):
    """Where a call is, as the TV shows it."""

    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"


FINAL_STATES = frozenset({CallState.ENDED, CallState.FAILED})


@dataclass
class CallStats:
    """Timings (seconds since negotiation started on this side) and frame counts."""

    connected_after_s: float | None = None
    first_video_frame_after_s: float | None = None
    first_audio_frame_after_s: float | None = None
    video_frames_received: int = 0
    audio_frames_received: int = 0


def build_rtc_configuration(settings: MediaSettings) -> RTCConfiguration:
    """RTCConfiguration from settings; iceServers default to [] (no public STUN)."""
    servers = [
        RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
        for s in settings.ice_servers
    ]
    policy = (
        RTCIceTransportPolicy.RELAY
        if settings.ice_transport_policy == "relay"
        else RTCIceTransportPolicy.ALL
    )
    # max-bundle: one ICE transport for audio+video, so one TURN allocation and one check list.
    return RTCConfiguration(
        iceServers=servers, iceTransportPolicy=policy, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
    )


class ReceivedTrack(MediaStreamTrack):
    """A remote track as handed to consumers: counts frames for the session's stats."""

    def __init__(self, source: MediaStreamTrack, on_frame: Callable[[str], None]) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._on_frame = on_frame

    async def recv(self) -> Frame | Packet:
        """Next remote frame (raises MediaStreamError once the call ends)."""
        frame = await self._source.recv()
        self._on_frame(self.kind)
        return frame

    def stop(self) -> None:
        """Stop this consumer's view of the remote track."""
        super().stop()
        self._source.stop()


class CallSession:
    """A call with one remote peer; create it on the running loop, always `await close()` it.

    `on_remote_track` receives each remote track (counted) and must consume it, e.g. with
    `VideoRenderer` or `AudioPlayout`; without the callback the session drains them itself.
    """

    def __init__(
        self,
        settings: MediaSettings,
        local_media: LocalMedia | None = None,
        *,
        on_state: Callable[[CallState], None] | None = None,
        on_remote_track: Callable[[MediaStreamTrack], None] | None = None,
        on_first_frame: Callable[[str, float], None] | None = None,
    ) -> None:
        if settings.host_candidates_loopback_only:
            use_loopback_host_candidates()
        self.settings = settings
        self.stats = CallStats()
        self.remote_tracks: dict[str, ReceivedTrack] = {}
        self._on_state = on_state
        self._on_remote_track = on_remote_track
        self._on_first_frame = on_first_frame
        self._state = CallState.NEW
        self._state_changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._started_at: float | None = None
        self._last_frame_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._local_tracks = [
            t
            for t in (
                local_media.subscribe_video() if local_media else None,
                local_media.subscribe_audio() if local_media else None,
            )
            if t is not None
        ]
        self.pc = RTCPeerConnection(build_rtc_configuration(settings))
        self.pc.on("connectionstatechange", self._connection_state_changed)
        self.pc.on("track", self._track_arrived)

    @property
    def state(self) -> CallState:
        """The current `CallState`."""
        return self._state

    async def wait_for_state(self, *states: CallState) -> CallState:
        """Wait until the call is in one of `states` (or final); wrap it in a timeout."""
        wanted = set(states) | FINAL_STATES
        while self._state not in wanted:
            self._state_changed.clear()
            await self._state_changed.wait()
        return self._state

    async def create_offer(self) -> str:
        """Offer SDP with all ICE candidates (sends our tracks, receives audio and video)."""
        self._ensure_open()
        self._start_clock()
        sending = {t.kind for t in self._local_tracks}
        for track in self._local_tracks:
            self.pc.addTrack(track)
        for kind in KINDS:
            if kind not in sending:
                self.pc.addTransceiver(kind, direction="recvonly")
        return await self._describe_locally(await self._signal(self.pc.createOffer()))

    async def accept_offer(self, sdp: str) -> str:
        """Apply the remote offer and return our answer SDP (with all ICE candidates)."""
        self._ensure_open()
        self._start_clock()
        _require_media_sections(sdp)
        await self._signal(self.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer")))
        for track in self._local_tracks:
            self.pc.addTrack(track)
        return await self._describe_locally(await self._signal(self.pc.createAnswer()))

    async def accept_answer(self, sdp: str) -> None:
        """Apply the remote answer to our offer; media starts flowing after ICE/DTLS."""
        _require_media_sections(sdp)
        await self._signal(self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer")))

    async def restart_ice(self) -> None:
        """Not possible with aiortc: ends the call cleanly and raises so the caller re-dials."""
        await self.close()
        raise MediaError(
            MediaErrorCode.ICE_RESTART_UNSUPPORTED,
            "aiortc cannot restart ICE; the call was ended, start a new session",
        )

    async def close(self) -> None:
        """Hang up: close the peer connection (the remote sees ENDED) and stop our tracks."""
        if self._closing:
            return
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        await self.pc.close()
        for track in [*self._local_tracks, *self.remote_tracks.values()]:
            track.stop()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._state not in FINAL_STATES:
            self._set_state(CallState.ENDED)

    def _ensure_open(self) -> None:
        if self._closing:
            raise MediaError(MediaErrorCode.SESSION_CLOSED, "the call session is closed")

    async def _signal(self, step):  # type: ignore[no-untyped-def]
        if self._closing:
            step.close()  # never started: close it so no "never awaited" warning
            self._ensure_open()
        try:
            return await step
        except InvalidStateError as err:
            raise MediaError(MediaErrorCode.WRONG_SIGNALING_STATE, str(err)) from err
        except ValueError as err:
            raise MediaError(MediaErrorCode.INVALID_SDP, f"unusable SDP: {err}") from err

    async def _describe_locally(self, description: RTCSessionDescription) -> str:
        # aiortc's setLocalDescription waits for ICE gathering to complete.
        await self._signal(self.pc.setLocalDescription(description))
        return self.pc.localDescription.sdp

    def _start_clock(self) -> None:
        if self._started_at is None:
            self._started_at = self._loop.time()

    def _elapsed(self) -> float:
        return self._loop.time() - (self._started_at or self._loop.time())

    def _set_state(self, state: CallState) -> None:
        if state == self._state or self._state in FINAL_STATES:
            return
        logger.info("call %s -> %s", self._state.name, state.name)
        self._state = state
        self._state_changed.set()
        if self._on_state is not None:
            self._on_state(state)

    def _connection_state_changed(self) -> None:
        pc_state = self.pc.connectionState
        if pc_state == "connecting":
            self._set_state(CallState.CONNECTING)
        elif pc_state == "connected":
            if self.stats.connected_after_s is None:
                self.stats.connected_after_s = self._elapsed()
                self._spawn(self._watch_for_stall())
            self._set_state(CallState.CONNECTED)
        elif pc_state == "failed":
            self._set_state(CallState.FAILED)
            self._spawn(self.close(), keep=False)
        elif pc_state == "closed":
            # Our own close(), or aiortc closing itself after the peer's DTLS close_notify.
            self._set_state(CallState.ENDED)
            self._spawn(self.close(), keep=False)

    def _track_arrived(self, track: MediaStreamTrack) -> None:
        received = ReceivedTrack(track, self._frame_arrived)
        self.remote_tracks[track.kind] = received
        if self._on_remote_track is not None:
            self._on_remote_track(received)
        else:
            # Nobody shows or plays it: still drain it, or aiortc queues frames forever.
            self._spawn(drain_track(received))

    def _frame_arrived(self, kind: str) -> None:
        self._last_frame_at = self._loop.time()
        if kind == "video":
            self.stats.video_frames_received += 1
            first = self.stats.video_frames_received == 1
        else:
            self.stats.audio_frames_received += 1
            first = self.stats.audio_frames_received == 1
        if first:
            after_s = self._elapsed()
            if kind == "video":
                self.stats.first_video_frame_after_s = after_s
            else:
                self.stats.first_audio_frame_after_s = after_s
            if self._on_first_frame is not None:
                self._on_first_frame(kind, after_s)
        if self._state == CallState.RECONNECTING:
            self._set_state(CallState.CONNECTED)

    async def _watch_for_stall(self) -> None:
        # aiortc has no "disconnected" state: consent checks take ~30 s to fail a dead
        # path, so the TV says "reconnecting" as soon as remote media stop arriving.
        timeout = self.settings.stall_timeout_s
        while self._state not in FINAL_STATES:
            await asyncio.sleep(timeout / 4)
            last = self._last_frame_at
            if (
                self._state == CallState.CONNECTED
                and last is not None
                and self._loop.time() - last > timeout
            ):
                self._set_state(CallState.RECONNECTING)

    def _spawn(self, coro, *, keep: bool = True) -> None:  # type: ignore[no-untyped-def]
        task = self._loop.create_task(coro)
        if keep:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            _background.add(task)
            task.add_done_callback(_background.discard)


def _require_media_sections(sdp: str) -> None:
    # aiortc parses any text as an empty description and would answer it with no media.
    lines = sdp.splitlines()
    if (
        not lines
        or lines[0].strip() != "v=0"
        or not any(line.startswith(("m=audio", "m=video")) for line in lines)
    ):
        raise MediaError(MediaErrorCode.INVALID_SDP, "SDP has no audio or video section")


# Close tasks must outlive the session's own task set (close() cancels that set).
_background: set[asyncio.Task[None]] = set()


async def drain_track(track: MediaStreamTrack) -> None:
    """Consume a track and drop its frames until it ends (nobody shows or plays it)."""
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()

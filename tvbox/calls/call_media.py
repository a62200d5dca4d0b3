"""The box's media for a call: `media.CallSession` plus renderers, run on the app's loop.

Implements `tvbox.calls.controller.CallMediaPort`. Every method returns at once; the work
(opening camera/microphone or synthetic sources, ICE gathering, DTLS) runs in tasks on the
asyncio loop Kivy shares, and PyAV conversion happens in worker threads (`VideoRenderer`,
`AudioPlayout`), so the Kivy frame loop never waits on media.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from aiortc.mediastreams import MediaStreamTrack

from media import (
    AudioPlayout,
    CallSession,
    CallState,
    IceServerSetting,
    LocalMedia,
    MediaSettings,
    drain_track,
    open_audio_sink,
    open_local_media,
)
from protocol import CallRole, CallStart

log = logging.getLogger(__name__)
# aiortc and aioice log every RTP/STUN packet at DEBUG; on a box that costs real CPU.
for _name in ("aiortc", "aioice"):
    logging.getLogger(_name).setLevel(logging.INFO)

# Widgets the call screen offers: (remote picture, own picture); None when headless.
WidgetSource = Callable[[], tuple[Any, Any] | None]


class BoxCallMedia:
    """One call's media at a time; `start` a call, `stop` it, read `stats()`."""

    def __init__(self, settings: MediaSettings, widgets: WidgetSource | None = None) -> None:
        self.settings = settings
        self.widgets = widgets
        self._session: CallSession | None = None
        self._local: LocalMedia | None = None
        self._remote_offer: asyncio.Future[str] | None = None
        self._remote_answer: asyncio.Future[str] | None = None
        self._consumers: list[Any] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._started_at: float | None = None
        self._first_video_ms: float | None = None
        self._first_video_epoch: float | None = None
        self._last: dict[str, Any] = {}

    def stats(self) -> dict[str, Any]:
        """Frames received/rendered and time to the first remote video frame."""
        session = self._session
        if session is None:
            return dict(self._last)
        rendered = sum(getattr(c, "frames_rendered", 0) for c in self._consumers)
        self._last = {
            "state": session.state.value,
            "video_frames_received": session.stats.video_frames_received,
            "audio_frames_received": session.stats.audio_frames_received,
            "video_frames_rendered": rendered,
            "first_video_frame_ms": self._first_video_ms,
            # Wall clock, so a benchmark can compare it with the doctor's Join click.
            "first_video_frame_epoch": self._first_video_epoch,
            "connected_after_s": session.stats.connected_after_s,
            "sending_video": self._local is not None,
        }
        return dict(self._last)

    def start(
        self,
        start: CallStart,
        on_local_sdp: Callable[[str, str], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[str], None],
    ) -> None:
        """Begin the call described by `start` (returns at once)."""
        self.stop()
        loop = asyncio.get_running_loop()
        self._started_at = time.monotonic()
        self._first_video_ms = None
        self._first_video_epoch = None
        self._remote_offer = loop.create_future()
        self._remote_answer = loop.create_future()
        self._task = loop.create_task(self._run(start, on_local_sdp, on_connected, on_lost))

    def remote_description(self, kind: str, sdp: str) -> None:
        """The peer's offer or answer arrived."""
        future = self._remote_offer if kind == "offer" else self._remote_answer
        if future is not None and not future.done():
            future.set_result(sdp)

    def stop(self) -> None:
        """Hang up the media (returns at once; the closing runs on the loop)."""
        task, self._task = self._task, None
        if task is None and self._session is None:
            return
        if task is not None:
            task.cancel()
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            self._stopping = loop.create_task(self._close())

    async def wait_stopped(self) -> None:
        """Wait until the last `stop()` finished closing (for shutdown)."""
        if self._stopping is not None:
            await self._stopping

    async def _close(self) -> None:
        self.stats()
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            with contextlib.suppress(Exception):
                await consumer.stop()
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        local, self._local = self._local, None
        if local is not None:
            local.close()

    def _settings_for(self, start: CallStart) -> MediaSettings:
        servers = [
            IceServerSetting(urls=s.urls, username=s.username, credential=s.credential)
            for s in start.ice_servers
        ]
        policy = start.ice_transport_policy
        if self.settings.ice_transport_policy == "relay":
            policy = "relay"
        return self.settings.model_copy(
            update={
                "ice_servers": [*self.settings.ice_servers, *servers],
                "ice_transport_policy": policy,
            }
        )

    async def _run(
        self,
        start: CallStart,
        on_local_sdp: Callable[[str, str], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[str], None],
    ) -> None:
        settings = self._settings_for(start)

        def state_changed(state: CallState) -> None:
            if state is CallState.CONNECTED:
                on_connected()
            elif state is CallState.FAILED:
                on_lost("ice_failed")
            elif state is CallState.ENDED and self._task is not None:
                on_lost("peer_closed")

        try:
            self._local = await open_local_media(settings)
            self._show_self_view()
            self._session = CallSession(
                settings,
                self._local,
                on_state=state_changed,
                on_remote_track=self._attach,
                on_first_frame=self._first_frame,
            )
            assert self._remote_offer is not None and self._remote_answer is not None
            if start.role is CallRole.OFFERER:
                on_local_sdp("offer", await self._session.create_offer())
                await self._session.accept_answer(await self._remote_answer)
            else:
                on_local_sdp("answer", await self._session.accept_offer(await self._remote_offer))
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - any media failure ends the call cleanly
            log.exception("call media failed")
            on_lost(f"media_error: {err}")

    def _first_frame(self, kind: str, _after_s: float) -> None:
        if kind == "video" and self._started_at is not None:
            self._first_video_ms = (time.monotonic() - self._started_at) * 1000
            self._first_video_epoch = time.time()

    def _show_self_view(self) -> None:
        widgets = self.widgets() if self.widgets is not None else None
        if widgets is None or self._local is None:
            return
        track = self._local.subscribe_video()
        if track is not None:
            self._start_renderer(track, widgets[1])

    def _start_renderer(self, track: MediaStreamTrack, widget: Any) -> None:
        from media.render import VideoRenderer

        renderer = VideoRenderer(track, widget)
        renderer.start()
        self._consumers.append(renderer)

    def _attach(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            playout = AudioPlayout(track, open_audio_sink(self.settings))
            playout.start()
            self._consumers.append(playout)
            return
        widgets = self.widgets() if self.widgets is not None else None
        if widgets is not None:
            self._start_renderer(track, widgets[0])
        else:
            self._consumers.append(_Drain(track))


class _Drain:
    """Consumes a track nobody shows (headless box), so aiortc does not queue frames."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self._task = asyncio.get_running_loop().create_task(drain_track(track))

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

"""Remote video into Kivy: the only module of `media/` that touches Kivy, and only lazily.

`VideoRenderer` reads a video track on the asyncio loop, keeps only the newest frame
(a slow TV never builds a backlog, it skips frames), converts it to RGBA bytes in a worker
thread (`asyncio.to_thread`: PyAV's swscale is the costly part) and hands the bytes to the
Kivy thread with `Clock.schedule_once`, where they are blitted into a `Texture` shown by
an `Image` widget. Kivy is imported inside functions so that `import media` stays free of
Kivy (tests, the benchmark and headless tools never load it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

logger = logging.getLogger(__name__)


def frame_to_rgba(frame: av.VideoFrame) -> tuple[bytes, int, int]:
    """Tightly packed top-down RGBA bytes of `frame`, with its width and height (blocking)."""
    rgba = frame.reformat(format="rgba")
    plane = rgba.planes[0]
    row = rgba.width * 4
    data = bytes(plane)
    if plane.line_size != row:
        data = b"".join(
            data[y * plane.line_size : y * plane.line_size + row] for y in range(rgba.height)
        )
    return data, rgba.width, rgba.height


def make_video_widget(**kwargs: Any) -> Any:
    """A Kivy `Image` that keeps the picture's aspect ratio (letterboxed)."""
    from kivy.uix.image import Image

    kwargs.setdefault("fit_mode", "contain")
    return Image(**kwargs)


def picture_in_picture(main: Any, inset: Any, *, fraction: float = 0.25) -> Any:
    """A layout showing `main` full size and `inset` (e.g. the box's own camera) bottom right.

    Bottom right, not top right: the remote face sits in the upper part of the picture.
    """
    from kivy.uix.floatlayout import FloatLayout

    layout = FloatLayout()
    main.size_hint = (1, 1)
    main.pos_hint = {"x": 0, "y": 0}
    inset.size_hint = (fraction, fraction)
    inset.pos_hint = {"right": 0.98, "y": 0.02}
    layout.add_widget(main)
    layout.add_widget(inset)
    return layout


class VideoRenderer:
    """Shows a video track in a Kivy `Image` widget; `start()` it, `await stop()` it."""

    def __init__(self, track: MediaStreamTrack, widget: Any) -> None:
        self.track = track
        self.widget = widget
        self.frames_received = 0
        self.frames_rendered = 0
        self.frames_skipped = 0
        self.ended = asyncio.Event()
        self._latest: av.VideoFrame | None = None
        self._frame_ready = asyncio.Event()
        self._texture: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Begin consuming the track (call on the asyncio loop)."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._convert())]

    async def stop(self) -> None:
        """Stop consuming; the last picture stays on screen."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read(self) -> None:
        try:
            while True:
                frame = await self.track.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                self.frames_received += 1
                if self._latest is not None:
                    self.frames_skipped += 1
                self._latest = frame
                self._frame_ready.set()
        except MediaStreamError:
            pass
        finally:
            self.ended.set()

    async def _convert(self) -> None:
        from kivy.clock import Clock

        while True:
            await self._frame_ready.wait()
            self._frame_ready.clear()
            frame, self._latest = self._latest, None
            if frame is None:
                continue
            pixels, width, height = await asyncio.to_thread(frame_to_rgba, frame)
            Clock.schedule_once(lambda _dt, p=pixels, w=width, h=height: self._blit(p, w, h))

    def _blit(self, pixels: bytes, width: int, height: int) -> None:
        # Runs on the Kivy thread: GL calls are only valid there.
        from kivy.graphics.texture import Texture

        if self._texture is None or self._texture.size != (width, height):
            self._texture = Texture.create(size=(width, height), colorfmt="rgba")
            # Frames are top-down; GL textures are bottom-up.
            self._texture.flip_vertical()
        self._texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
        if self.widget.texture is not self._texture:
            self.widget.texture = self._texture
        else:
            self.widget.canvas.ask_update()
        self.frames_rendered += 1

"""Kivy app run in a subprocess by test_render.py: renders a synthetic track, reports JSON.

Run as ``python -m tests.media.render_app <screenshot.png>`` with SDL_VIDEODRIVER=offscreen
and KIVY_NO_ARGS=1. It shows a synthetic picture through `media.render.VideoRenderer` in a
picture-in-picture layout, then decodes the picture's stamp twice from two places: the
widget's texture (the bytes uploaded to the GPU) and the window's framebuffer as drawn
(bottom-up GL rows, so a picture shown upside down would not decode). Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys

from kivy.config import Config

Config.set("kivy", "exit_on_escape", "0")
Config.set("graphics", "width", "800")
Config.set("graphics", "height", "600")

from kivy.app import App  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels  # noqa: E402

from media.render import VideoRenderer, make_video_widget, picture_in_picture  # noqa: E402
from media.synthetic import FrameStamp, SyntheticVideoTrack, read_stamp_rgba  # noqa: E402
from tests.support.waiting import async_wait_until  # noqa: E402

TIMEOUT_S = 30.0


class RenderApp(App):
    def build(self):  # type: ignore[no-untyped-def]
        self.remote = make_video_widget()
        self.inset = make_video_widget()
        return picture_in_picture(self.remote, self.inset)


def texture_stamp(widget) -> FrameStamp | None:  # type: ignore[no-untyped-def]
    width, height = widget.texture.size
    # Texture.pixels reads back in the order the rows were uploaded (top-down frames).
    return read_stamp_rgba(widget.texture.pixels, width, height, bottom_up=False)


async def screen_stamp() -> FrameStamp | None:
    """Stamp decoded from the window as drawn (read in on_flip, right before the swap)."""
    drawn: asyncio.Future[FrameStamp | None] = asyncio.get_running_loop().create_future()

    def on_flip(*_args) -> None:  # type: ignore[no-untyped-def]
        Window.unbind(on_flip=on_flip)
        width, height = Window.size
        pixels = glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE)
        drawn.set_result(read_stamp_rgba(pixels, width, height, bottom_up=True))

    Window.bind(on_flip=on_flip)
    Window.canvas.ask_update()
    return await asyncio.wait_for(drawn, TIMEOUT_S)


async def main(screenshot: str) -> None:
    app = RenderApp()
    result: dict[str, object] = {}

    async def drive() -> None:
        try:
            await async_wait_until(lambda: app.root is not None, TIMEOUT_S, "the app's root widget")
            # Same 4:3 shape as the 800x600 window: the picture fills it exactly.
            track = SyntheticVideoTrack(320, 240, 30)
            own = SyntheticVideoTrack(160, 120, 15)
            renderer = VideoRenderer(track, app.remote)
            inset = VideoRenderer(own, app.inset)
            renderer.start()
            inset.start()
            await async_wait_until(
                lambda: renderer.frames_rendered >= 5 and inset.frames_rendered >= 1, TIMEOUT_S
            )
            first_texture, first_screen = texture_stamp(app.remote), await screen_stamp()
            await async_wait_until(lambda: renderer.frames_rendered >= 20, TIMEOUT_S)
            later_texture, later_screen = texture_stamp(app.remote), await screen_stamp()
            Window.screenshot(name=screenshot)
            result.update(
                texture_size=list(app.remote.texture.size),
                texture=[s.counter if s else None for s in (first_texture, later_texture)],
                screen=[s.counter if s else None for s in (first_screen, later_screen)],
                frames_sent=track.frames_sent,
                frames_rendered=renderer.frames_rendered,
                inset_rendered=inset.frames_rendered,
            )
            await renderer.stop()
            await inset.stop()
            track.stop()
            own.stop()
        finally:
            app.stop()

    task = asyncio.ensure_future(drive())
    await app.async_run(async_lib="asyncio")
    await task
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

"""The Kivy application: one window, four screens, the link badge, and the remote keys.

Kivy and the server link share one asyncio loop (``App.async_run(async_lib="asyncio")``).
The app only forwards keys to `AppViewModel` and copies its state into Kivy properties.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.config import Config  # noqa: E402

# The remote's Back key is Escape: it must never quit the app.
Config.set("kivy", "exit_on_escape", "0")

from protocol import SosSource  # noqa: E402
from tvbox.box import AppViewModel  # noqa: E402
from tvbox.calls.lazy_media import LazyCallMedia  # noqa: E402
from tvbox.config import BoxConfig  # noqa: E402
from tvbox.features import BADGE, kv_files, load, screen_refs  # noqa: E402
from tvbox.heap import trim_heap_while_running  # noqa: E402
from tvbox.link.server_link import ServerLink  # noqa: E402
from tvbox.listening.voice_control import VoiceControl  # noqa: E402
from tvbox.local_api import LocalApi  # noqa: E402
from tvbox.outbox import Outbox  # noqa: E402
from tvbox.reminders.clock import ReminderClock  # noqa: E402
from tvbox.speech import SpokenLog, make_speaker  # noqa: E402
from tvbox.store import BoxStore  # noqa: E402
from tvbox.ui.fonts import ui_font  # noqa: E402
from tvbox.ui.keys import action_for  # noqa: E402
from tvbox.ui.palette import BACKGROUND, DESIGN_HEIGHT, rgba  # noqa: E402

log = logging.getLogger(__name__)

BOX_DIR = Path(__file__).parent
ESCAPE = 27


def configure_window(
    size: tuple[int, int], fullscreen: bool = False, msaa_samples: int = 0
) -> None:
    """Set the window size before Kivy creates the window (call before `BoxApp.run`)."""
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    # Kivy's default is 2× MSAA; see BoxConfig.msaa_samples for why the box turns it off.
    Config.set("graphics", "multisamples", str(msaa_samples))
    # A TV has no mouse: no red multitouch dots on right clicks.
    Config.set("input", "mouse", "mouse,disable_multitouch")


def _kivy_app_class() -> type[Any]:
    """Build the App subclass; Kivy's window modules are imported only here."""
    from kivy.app import App
    from kivy.core.text import DEFAULT_FONT, LabelBase
    from kivy.core.window import Window
    from kivy.lang import Builder
    from kivy.properties import NumericProperty
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.screenmanager import NoTransition, ScreenManager

    # Built on first show, not at start: a screen's labels render their textures and open
    # a font face per size (~2.5 MB each for Noto CJK) even while the screen is hidden, and
    # most boxes never show pairing, SOS or the call screen on a given day.
    screen_types = {name: load(ref) for name, ref in screen_refs().items()}
    link_badge = load(BADGE)

    class BoxApp(App):  # type: ignore[misc]
        """The TV box window."""

        scale = NumericProperty(1.0)

        def __init__(self, vm: AppViewModel, config: BoxConfig, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.vm = vm
            self.box_config = config
            self.title = "Anxin"
            self.screens: dict[str, Any] = {}
            self.badge: Any = None
            self.manager: Any = None

        def build(self) -> Any:
            font = ui_font(self.box_config.fonts_dir)
            if font is not None:
                LabelBase.register(DEFAULT_FONT, fn_regular=font.regular, fn_bold=font.bold)
            Window.clearcolor = rgba(BACKGROUND)
            for name in kv_files():
                Builder.load_file(str(BOX_DIR / name))
            self.manager = ScreenManager(transition=NoTransition())
            root = FloatLayout()
            root.add_widget(self.manager)
            self.badge = link_badge(pos_hint={"right": 0.975, "top": 0.96})
            root.add_widget(self.badge)
            self._fit_scale(Window, *Window.size)
            Window.bind(on_resize=self._fit_scale)
            Window.bind(on_key_down=self._on_key_down, on_keyboard=self._on_keyboard)
            Window.bind(on_request_close=self._on_request_close)
            self.vm.subscribe(self.refresh)
            self.refresh()
            return root

        def screen(self, name: str) -> Any:
            """The screen called `name`, built and added the first time it is needed."""
            screen = self.screens.get(name)
            if screen is None:
                screen = screen_types[name]()
                self.screens[name] = screen
                self.manager.add_widget(screen)
            return screen

        def on_start(self) -> None:
            self.vm.start()

        def _fit_scale(self, _window: Any, width: int, height: int) -> None:
            self.scale = min(height / DESIGN_HEIGHT, width / (DESIGN_HEIGHT * 16 / 9))

        def _on_key_down(self, _window: Any, key: int, *_args: Any) -> bool:
            action = action_for(key)
            if action is None:
                return key == ESCAPE
            self.vm.handle(action)
            return True

        def _on_keyboard(self, _window: Any, key: int, *_args: Any) -> bool:
            return key == ESCAPE  # swallow Escape so nothing down the chain quits

        def _on_request_close(self, *_args: Any, **_kwargs: Any) -> bool:
            return not getattr(self, "stopping", False)

        def shutdown(self) -> None:
            """Close the window from code (SIGTERM); the Back key never gets here."""
            self.stopping = True
            self.stop()

        def _stop(self, *largs: object) -> None:
            super()._stop(*largs)
            # Kivy forgets the running app here, yet a label already scheduled to redraw still
            # runs its kv rules (which read ``app``) before the loop ends: without this the
            # exit crashes in 1 run of a few (`AttributeError: 'NoneType' … 'bind'`).
            App._running_app = self

        def refresh(self) -> None:
            """Copy view-model state into the widgets."""
            if getattr(self, "stopping", False):
                # Stopped: the app is no longer "running", and a label redrawn now (the link
                # going down, say) would evaluate kv rules that need it and crash the exit.
                return
            vm = self.vm
            self.screen(vm.screen.value)
            for screen in self.screens.values():
                screen.refresh(vm)
            self.manager.current = vm.screen.value
            badge = vm.badge()
            self.badge.label = badge.label
            self.badge.state = badge.state.value

        def press(self, keycode: int) -> None:
            """Inject a key exactly as the remote would (used by the local API)."""
            Window.dispatch("on_key_down", keycode, 0, None, [])

        async def screenshot(self, path: str) -> str:
            """Save the screen as it is drawn after the next frames to `path` (PNG)."""
            from kivy.clock import Clock

            loop = asyncio.get_running_loop()
            for _ in range(2):
                drawn = loop.create_future()
                Clock.schedule_once(lambda _dt, f=drawn: f.done() or f.set_result(None), 0)
                await drawn
            target = Path(path).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                made = Window.screenshot(name=os.path.join(tmp, "shot.png"))
                os.replace(made, target)
            return str(target)

    return BoxApp


def build_app(config: BoxConfig, speaker: SpokenLog | None = None) -> tuple[Any, ServerLink]:
    """Create the store, view-model, link and Kivy app for `config` (nothing runs yet)."""
    configure_window(config.window_size, config.fullscreen, config.msaa_samples)
    store = BoxStore(config.store_path)
    outbox = Outbox(store)
    if speaker is None:
        speaker = make_speaker(config.speech_output, config.speech_dir)
    # The link reports to the view-model, which sends through the link: the link is built
    # first and reaches the view-model through this closure once both exist.
    link = ServerLink(config, store, outbox, lambda event: vm.handle_link_event(event))
    windows: list[Any] = []  # the Kivy app, once built: calls draw video into its screen
    vm = AppViewModel(
        store,
        outbox,
        speaker,
        config.lang,
        send_live=link.send_now,
        on_outbox_added=link.outbox_changed,
        call_media=_call_media(windows),
        sos_cancel_seconds=config.sos_cancel_seconds,
    )
    app = _kivy_app_class()(vm, config)
    windows.append(app)
    app.call_media = vm.call.media
    return app, link


def _call_media(windows: list[Any]) -> Any:
    """The media layer for calls (camera/mic or synthetic, by ANXIN_MEDIA_* settings),
    loaded on the first call so an idle box does not carry aiortc and PyAV."""

    def widgets() -> tuple[Any, Any] | None:
        if not windows or windows[0].manager is None:  # the window is not built yet
            return None
        return windows[0].screen("call").video_widgets()

    return LazyCallMedia(widgets)


async def run_box(config: BoxConfig) -> None:
    """Run the box until the window closes or SIGTERM/SIGINT arrives."""
    app, link = build_app(config)
    vm: AppViewModel = app.vm
    speaker: Any = vm.speaker

    def state() -> dict[str, Any]:
        snapshot = vm.snapshot()
        snapshot["spoken"] = [text for _lang, text in getattr(speaker, "said", [])]
        return snapshot

    def sensor(kind: str, detail: str) -> None:
        vm.raise_sos(SosSource.SENSOR, f"{kind} {detail}".strip())

    api = LocalApi(config.local_api_port, state, app.screenshot, app.press, sensor)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, app.shutdown)
    clock = ReminderClock(vm.reminder_control, config.data_dir / "reminder_jobs.sqlite3")
    clock.start()
    voice = VoiceControl(vm, config)
    # After the first screen is announced, so a "no voice" message follows it.
    app.bind(on_start=lambda *_args: voice.begin())
    link.start()
    if config.local_api_port:
        await api.start()
    trimmer: list[asyncio.Task[None]] = []
    # From the first frame on: start-up's freed heap is what the first trim gives back.
    app.bind(on_start=lambda *_args: trimmer.append(loop.create_task(trim_heap_while_running())))
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        for task in trimmer:
            task.cancel()
        if vm.call.active:
            vm.hang_up()  # the other side hears of it before the link goes
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.call_media.wait_stopped(), 5)
        await voice.close()
        clock.stop()
        link.stop()
        await link.wait_stopped()
        await api.close()
        with contextlib.suppress(Exception):
            speaker.close()
        vm.store.close()

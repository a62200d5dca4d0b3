"""Voice commands in a running box: model start-up, the microphone, and intents to actions.

`VoiceControl` loads the recognition model named by the box settings
(``ANXIN_BOX_VOICE_MODEL``) in a worker thread, opens the audio input
(``ANXIN_BOX_VOICE_INPUT``), runs a `voice.PhraseRecognizer` on its own thread and hands
each `IntentEvent` to `VoiceViewModel.handle` on the app's asyncio loop. After every
change of state it narrows the grammar to what the screen can use. An `EchoGate` on the
box's speaker keeps the box from acting on its own voice. When no model can be had, or
the microphone fails, the box shows and says so once and carries on without voice. No Kivy.

Audio input is a setting so that a test (or a separate capture daemon) can speak to a
real box process: ``fifo:<path>`` is a named pipe of raw 16 kHz mono S16_LE audio, the
same byte stream ``arecord`` gives the ``mic`` input, read by the same recognizer code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tvbox.box import AppViewModel
from tvbox.config import BoxConfig
from tvbox.listening.controller import VoiceState
from voice.audio import ArecordSource, AudioChunk, AudioSource, chunk_bytes
from voice.echo import EchoGate
from voice.errors import AudioSourceError, VoiceError, VoiceErrorCode
from voice.intents import IntentEvent
from voice.models import ModelSetting
from voice.recognizer import PhraseRecognizer, RecognizerState
from voice.status import RecognitionSetup, error_text, prepare_recognition

log = logging.getLogger(__name__)

_POLL_S = 0.2
# The box hears itself a little after its speaker stops (room echo, output buffers).
ECHO_TAIL_S = 0.5


class FifoSource(AudioSource):
    """Raw 16 kHz mono S16_LE audio from a named pipe, kept open across writers."""

    def __init__(self, path: Path | str, *, chunk_ms: int = 50) -> None:
        super().__init__()
        self.path = Path(path)
        self.chunk_ms = chunk_ms

    def open(self) -> int:
        """Create the pipe if needed and open it; the file descriptor."""
        try:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.mkfifo(self.path)
            if not stat.S_ISFIFO(self.path.stat().st_mode):
                raise AudioSourceError(
                    VoiceErrorCode.AUDIO_SOURCE_FAILED, f"{self.path} is not a named pipe"
                )
            # Read-write (Linux): we hold a writer ourselves, so the pipe never reports
            # end-of-file when a writer goes away, and opening never blocks.
            return os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        except OSError as err:
            raise AudioSourceError(
                VoiceErrorCode.AUDIO_SOURCE_FAILED, f"cannot open audio pipe {self.path}: {err}"
            ) from err

    def chunks(self) -> Iterator[AudioChunk]:
        """Yield audio as it is written, until closed."""
        fd = self.open()
        size = chunk_bytes(self.chunk_ms)
        pending = b""
        try:
            while not self.closed:
                ready, _, _ = select.select([fd], [], [], _POLL_S)
                if not ready:
                    continue
                try:
                    pending += os.read(fd, size)
                except BlockingIOError:
                    continue
                whole = len(pending) - len(pending) % 2  # never split a sample
                if whole:
                    yield AudioChunk(pending[:whole], time.monotonic())
                    pending = pending[whole:]
        finally:
            os.close(fd)


def make_audio_source(voice_input: str) -> AudioSource:
    """The audio source a `voice_input` setting names (mic, mic:<device>, fifo:<path>)."""
    kind, _, target = voice_input.partition(":")
    if kind == "fifo":
        return FifoSource(target)
    return ArecordSource(target or "default")


class VoiceControl:
    """Runs recognition for one box process and routes what it hears."""

    def __init__(
        self,
        vm: AppViewModel,
        config: BoxConfig,
        prepare: Callable[[ModelSetting], RecognitionSetup] | None = None,
    ) -> None:
        self.vm = vm
        self.config = config
        # Loads model and grammar (blocking); tests pass one sharing a loaded model.
        self._prepare = prepare or self._prepare_from_settings
        self.recognizer: PhraseRecognizer | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def begin(self) -> None:
        """Start voice in the background on the running loop (the box is already up)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        """Load the model, start listening, and report a failure of the microphone."""
        voice = self.vm.voice
        if self.config.voice_model.strip().lower() == "off":
            voice.state = VoiceState.OFF
            return
        setting = ModelSetting.parse(self.config.voice_model, lang=self.vm.lang.value)
        voice.state = VoiceState.STARTING
        self.vm.notify()
        setup = await asyncio.to_thread(self._prepare, setting)
        if self._closed:
            return
        if setup.model is None or setup.grammar is None:
            voice.unavailable(setting.lang, setup.status.message)
            return
        gate = EchoGate(self._speech_engine(), tail_s=ECHO_TAIL_S)
        recognizer = PhraseRecognizer(
            setup.model,
            setup.grammar,
            self._on_intent,
            intents=voice.listened_intents(),
            echo_gate=gate,
            loop=asyncio.get_running_loop(),
        )
        self.recognizer = recognizer
        self.vm.subscribe(self._follow_screen)
        recognizer.start(make_audio_source(self.config.voice_input))
        voice.listening(setting.lang, muted=gate.muted)
        log.info("voice commands on: %s model, input %s", setting.lang, self.config.voice_input)
        await recognizer.wait_async()  # returns when stopped, or when the input fails
        if recognizer.state is RecognizerState.FAILED and not self._closed:
            error = recognizer.error or VoiceError(
                VoiceErrorCode.AUDIO_SOURCE_FAILED, "the recognizer stopped"
            )
            log.warning("voice commands off: %s", error.message)
            voice.unavailable(setting.lang, lambda ui_lang: error_text(error, ui_lang))

    def _prepare_from_settings(self, setting: ModelSetting) -> RecognitionSetup:
        return prepare_recognition(setting, allow_download=self.config.voice_download)

    def _speech_engine(self) -> Any:
        """The voice.Speaker behind the box's speech (None when the box is silent)."""
        inner = getattr(self.vm.speaker, "inner", self.vm.speaker)
        return inner if hasattr(inner, "add_listener") else None

    def _on_intent(self, event: IntentEvent) -> None:
        if not self._closed:
            self.vm.voice.handle(event)

    def _follow_screen(self) -> None:
        recognizer = self.recognizer
        if recognizer is None:
            return
        wanted = self.vm.voice.listened_intents()
        if wanted != recognizer.intents:
            recognizer.listen_for(wanted)

    async def close(self) -> None:
        """Stop listening and wait for the start-up task."""
        self._closed = True
        if self.recognizer is not None:
            await asyncio.to_thread(self.recognizer.stop)
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)

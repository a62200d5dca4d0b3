"""VoiceControl in process: the real Korean model, a real speaker and the box's audio pipe.

The model is the session's shared `ko_model` (tests/conftest.py), so it loads once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from protocol import Lang
from tests.support.viewmodels import ELDER
from tests.support.waiting import async_wait_until
from tests.tvbox.microphone import Microphone
from tvbox.box import AppViewModel
from tvbox.config import BoxConfig
from tvbox.listening.controller import VoiceState
from tvbox.listening.voice_control import VoiceControl
from tvbox.outbox import Outbox
from tvbox.sos.view import SosPhase
from tvbox.speech import SpokenLog
from tvbox.store import BoxStore
from voice.audio import read_pcm16k
from voice.grammar import PhraseGrammar
from voice.intents import Intent
from voice.models import LoadedModel
from voice.speech import Speaker, WavFileOutput
from voice.status import RecognitionSetup, VoiceStatus

NEWS = (
    "Good morning. Today is Sunday. Your next medicine is Amlodipine at eight in the "
    "evening. Your daughter will call you at seven. Remember to drink some water."
)


async def test_the_box_does_not_act_on_what_it_hears_while_it_speaks(
    store: BoxStore,
    ko_model: LoadedModel,
    ko_grammar: PhraseGrammar,
    speech_dir: Path,
    tmp_path: Path,
) -> None:
    store.save_pairing(7, "token-7", ELDER.model_copy(update={"lang": Lang.EN}))
    # Paced WAV output stays "speaking" as long as a loudspeaker would.
    speaker = SpokenLog(Speaker(rate=170, output=WavFileOutput(tmp_path / "said", paced=True)))
    vm = AppViewModel(store, Outbox(store), speaker, Lang.EN)
    pipe = tmp_path / "mic.pcm"
    config = BoxConfig(data_dir=tmp_path, voice_model="ko", voice_input=f"fifo:{pipe}")
    loaded = RecognitionSetup(VoiceStatus("ko"), ko_model, ko_grammar)
    control = VoiceControl(vm, config, prepare=lambda setting: loaded)
    mic = Microphone(pipe, speech_dir)
    try:
        control.begin()
        await async_wait_until(lambda: vm.voice.state is VoiceState.LISTENING, 30, "listening")
        await asyncio.wait_for(asyncio.to_thread(mic.open), 30)
        recognizer = control.recognizer
        assert recognizer is not None

        vm.say(NEWS)  # the box talks ...
        await async_wait_until(vm.voice.muted, 10, "the box to start speaking")
        # ... and its microphone hears a cry for help that sounds like the elder's
        await asyncio.wait_for(asyncio.to_thread(mic.say, "도와주세요"), 30)
        assert vm.voice.muted(), "the box stopped speaking before the sound ended"
        heard_s = len(read_pcm16k(mic.last_wav or Path())) / 32000
        await async_wait_until(lambda: recognizer.consumed_s >= heard_s - 0.06, 10, "decoding")
        assert vm.voice.last_intent is None, "acted on audio heard while the box spoke"

        await async_wait_until(lambda: not vm.voice.muted(), 30, "the box to finish speaking")
        await asyncio.wait_for(asyncio.to_thread(mic.say, "도와주세요"), 30)
        # Heard once (the cry under the box's talk did not count): the box asks.
        await async_wait_until(lambda: vm.voice.last_intent is Intent.MAYBE_SOS, 10, "a question")
        assert vm.voice.acted == 1 and vm.sos.phase is SosPhase.ASK
        await async_wait_until(lambda: Intent.YES in recognizer.intents, 10, "listening for yes")
        await async_wait_until(lambda: not vm.voice.muted(), 60, "the question to be asked")
        await asyncio.wait_for(asyncio.to_thread(mic.say, "도와주세요"), 30)  # the cry again
        await async_wait_until(lambda: vm.voice.last_intent is Intent.SOS, 10, "the SOS")
        assert vm.voice.acted == 2 and vm.sos.phase is SosPhase.COUNTDOWN
    finally:
        mic.close()
        await asyncio.wait_for(control.close(), 15)
        speaker.close()

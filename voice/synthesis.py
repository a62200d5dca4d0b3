"""Text to WAV with espeak-ng, through pyttsx3's espeak binding, synchronously.

Why not pyttsx3's Engine: in pyttsx3 2.99 the espeak driver initializes espeak-ng
in its asynchronous mode, and `runAndWait()` returns while espeak-ng is still
synthesizing on its own thread; back-to-back `save_to_file` calls then write the
previous utterance into the next file and lose rate changes (seen in our tests).
We use the same C binding (`pyttsx3.drivers._espeak`) in espeak-ng's synchronous
mode instead: `Synth()` returns when the audio is complete, and the callback can
abort a synthesis that an SOS prompt interrupts.
"""

from __future__ import annotations

import ctypes
import threading
import wave
from pathlib import Path
from typing import Any

from voice.errors import SpeechError, VoiceErrorCode

# espeak-ng voice per product language. Mandarin uses the pinyin voice: the plain
# `cmn` voice reads many characters as pinyin with English tone numbers.
ESPEAK_VOICE_BY_LANG: dict[str, str] = {"zh": "cmn-latn-pinyin", "en": "en", "ko": "ko"}

# espeak-ng keeps one global state per process: every call goes through this lock.
_LOCK = threading.Lock()
_binding: Any = None
_sample_rate_hz = 0


def espeak_voice_for(lang: str) -> str:
    """espeak-ng voice name for a product language code (or the code itself)."""
    return ESPEAK_VOICE_BY_LANG.get(lang, lang)


def synthesize_wav(
    text: str,
    lang: str,
    path: Path,
    *,
    rate: int,
    volume: float,
    cut: threading.Event | None = None,
) -> bool:
    """Write `text` spoken in `lang` to a 16-bit mono WAV; False if `cut` aborted it."""
    voice = espeak_voice_for(lang)
    chunks: list[bytes] = []
    aborted = False

    def on_synth(wav: Any, numsamples: int, events: Any) -> int:
        nonlocal aborted
        if numsamples > 0 and wav:
            chunks.append(ctypes.string_at(wav, numsamples * ctypes.sizeof(ctypes.c_short)))
        if cut is not None and cut.is_set():
            aborted = True
            return 1  # tells espeak-ng to stop synthesizing
        return 0

    with _LOCK:
        espeak = _load()
        espeak.SetSynthCallback(on_synth)
        try:
            if espeak.SetVoiceByName(voice.encode()) != espeak.EE_OK:
                raise SpeechError(
                    VoiceErrorCode.UNKNOWN_LANGUAGE,
                    f"espeak-ng has no voice {voice!r} for lang {lang!r}",
                    params={"lang": lang},
                )
            espeak.SetParameter(espeak.RATE, int(rate), 0)
            # espeak-ng volume is 0-200 with 100 as normal; we map 1.0 to 100 like pyttsx3.
            espeak.SetParameter(espeak.VOLUME, round(volume * 100), 0)
            status = espeak.Synth(text, flags=espeak.CHARS_UTF8 | espeak.ENDPAUSE)
            if status != espeak.EE_OK:
                raise SpeechError(
                    VoiceErrorCode.SYNTHESIS_FAILED, f"espeak-ng Synth returned {status}"
                )
            espeak.Synchronize()
        finally:
            espeak.SetSynthCallback(_ignore_synth)
        sample_rate_hz = _sample_rate_hz
    audio = b"".join(chunks)
    if aborted:
        return False
    if not audio:
        raise SpeechError(VoiceErrorCode.SYNTHESIS_FAILED, f"espeak-ng produced no audio: {text!r}")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate_hz)
        out.writeframes(audio)
    return True


def _ignore_synth(wav: Any, numsamples: int, events: Any) -> int:
    return 0


def _load() -> Any:
    """Load and initialize espeak-ng once per process; call with _LOCK held."""
    global _binding, _sample_rate_hz
    if _binding is None:
        try:
            from pyttsx3.drivers import _espeak
            from pyttsx3.drivers.espeak import EspeakDriver
        except Exception as err:  # RuntimeError when libespeak-ng is missing
            raise SpeechError(
                VoiceErrorCode.SYNTHESIS_FAILED, f"espeak-ng is not available: {err}"
            ) from err
        rate_hz = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 200)
        if rate_hz <= 0:
            raise SpeechError(VoiceErrorCode.SYNTHESIS_FAILED, "espeak-ng failed to initialize")
        # espeak-ng can be initialized once per process; stop a later pyttsx3
        # engine from initializing it again in another mode.
        EspeakDriver._moduleInitialized = True
        _binding, _sample_rate_hz = _espeak, rate_hz
    return _binding

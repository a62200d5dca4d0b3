"""Command line for checking voice on a box: `python -m voice check|listen|say`.

python -m voice check --lang ko            # model found? grammar words in it?
python -m voice listen --lang ko --wav x.wav --intents answer
python -m voice listen --lang ko --device default     # microphone via arecord
python -m voice say --lang zh "该吃药了" --wav-dir /tmp/out
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from voice.audio import ArecordSource, AudioSource, WavFileSource
from voice.intents import ALL_INTENTS, ANSWER_INTENTS, IDLE_INTENTS, HeardUtterance, IntentEvent
from voice.models import ModelSetting
from voice.recognizer import PhraseRecognizer, RecognizerState
from voice.speech import PlaybackOutput, Speaker, SpeechEvent, SpeechEventKind, WavFileOutput
from voice.status import prepare_recognition

INTENT_SETS = {"all": ALL_INTENTS, "idle": IDLE_INTENTS, "answer": ANSWER_INTENTS}


def _setting(args: argparse.Namespace) -> ModelSetting:
    return ModelSetting.parse(args.model or "", lang=args.lang)


def check(args: argparse.Namespace) -> int:
    """Report whether recognition can start, and missing grammar words."""
    setup = prepare_recognition(_setting(args), allow_download=not args.offline)
    if not setup.status.available:
        print(setup.status.message(args.ui_lang or args.lang))
        assert setup.status.error is not None
        print(f"({setup.status.error.code.value}: {setup.status.error.message})")
        return 1
    assert setup.model is not None and setup.status.vocabulary is not None
    print(f"model: {setup.model.model_dir}")
    print(setup.status.vocabulary.describe())
    return 0 if setup.status.vocabulary.ok else 2


def listen(args: argparse.Namespace) -> int:
    """Print intents heard in a WAV file or from the microphone."""
    setup = prepare_recognition(_setting(args), allow_download=not args.offline)
    if setup.model is None or setup.grammar is None:
        print(setup.status.message(args.ui_lang or args.lang))
        return 1

    def on_intent(event: IntentEvent) -> None:
        print(f"INTENT {event.intent.value} '{event.phrase}' conf={event.confidence:.2f} "
              f"latency={event.latency_s * 1000:.0f} ms", flush=True)  # fmt: skip

    def on_heard(heard: HeardUtterance) -> None:
        print(f"heard '{heard.text}' -> {heard.reason}", flush=True)

    source: AudioSource = (
        WavFileSource(args.wav, realtime=args.realtime) if args.wav else ArecordSource(args.device)
    )
    recognizer = PhraseRecognizer(
        setup.model, setup.grammar, on_intent, intents=INTENT_SETS[args.intents], on_heard=on_heard
    )
    recognizer.start(source)
    try:
        recognizer.wait()
    except KeyboardInterrupt:
        recognizer.stop()
    if recognizer.state == RecognizerState.FAILED and recognizer.error is not None:
        print(f"failed: {recognizer.error.message}", file=sys.stderr)
        return 1
    return 0


def say(args: argparse.Namespace) -> int:
    """Say a sentence (or write it as WAV) and report what happened."""
    done = threading.Event()
    outcome: list[SpeechEvent] = []

    def on_event(event: SpeechEvent) -> None:
        print(f"{event.kind.value}: {event.text}" + (f" ({event.error})" if event.error else ""))
        if event.kind != SpeechEventKind.STARTED:
            outcome.append(event)
            done.set()

    output = WavFileOutput(args.wav_dir) if args.wav_dir else PlaybackOutput()
    with Speaker(rate=args.rate, volume=args.volume, output=output) as speaker:
        speaker.add_listener(on_event)
        speaker.speak(args.text, args.lang)
        done.wait(60)
    return 0 if outcome and outcome[0].kind == SpeechEventKind.FINISHED else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m voice", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in (("check", check), ("listen", listen), ("say", say)):
        sub = commands.add_parser(name, help=handler.__doc__)
        sub.set_defaults(handler=handler)
        sub.add_argument("--lang", required=True, help="zh, en or ko")
        if name in ("check", "listen"):
            sub.add_argument("--model", help="model directory or name:<vosk model name>")
            sub.add_argument("--offline", action="store_true", help="never download a model")
            sub.add_argument("--ui-lang", help="language for messages (default: --lang)")
    listen_args = commands.choices["listen"]
    listen_args.add_argument("--wav", help="decode this file instead of the microphone")
    listen_args.add_argument("--realtime", action="store_true", help="pace the file like a mic")
    listen_args.add_argument("--device", default="default", help="ALSA capture device")
    listen_args.add_argument("--intents", choices=sorted(INTENT_SETS), default="all")
    say_args = commands.choices["say"]
    say_args.add_argument("text")
    say_args.add_argument("--rate", type=int, default=150)
    say_args.add_argument("--volume", type=float, default=1.0)
    say_args.add_argument("--wav-dir", help="write WAV files here instead of playing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

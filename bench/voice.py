"""Benchmark of Korean phrase recognition on espeak-ng speech (the only model here).

Builds a corpus with espeak-ng (4 voices x 2 speeds) and sox: every grammar phrase
in the screen context where it is listened for, plus ordinary sentences (TV talk,
greetings), clean, with white noise and with TV-like background (other speech +
brown noise). Streams are decoded through the real PhraseRecognizer pipeline.

Prints detection rate per intent, false SOS on non-SOS utterances (each one with
text, voice, speed, background, the recognizer's words, confidences and what the SOS
check heard), end of speech -> intent latency (a real-time pass), real-time factor
and peak RSS. An SOS phrase heard once is MAYBE_SOS (the box asks "Do you need
help?"): counted apart, as SOS phrases asked back and non-SOS sentences that made the
box ask; one heard while the TV still asks calls, as on the box, and counts as SOS.
The last line is one JSON object with units in its key names.
--details lists every SOS phrase heard and why it was accepted or rejected;
--no-sos-check measures the same corpus without the SOS check (before/after);
--lookalikes adds 30 near look-alikes of the SOS phrases ("또 와 주세요"), counted apart.

    cd <repo> && python -m bench.voice    # ~3-4 min on 2 cores; run with -m: as a
                                          # script, bench/voice.py would shadow voice/
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voice.audio import AudioChunk, AudioSource, WavFileSource, chunk_bytes, read_pcm16k
from voice.grammar import load_grammar, load_grammar_file
from voice.intents import ANSWER_INTENTS, IDLE_INTENTS, HeardUtterance, Intent, IntentEvent
from voice.models import ModelSetting, load_model
from voice.recognizer import PhraseRecognizer

VOICES = ["ko", "ko+f3", "ko+m3", "ko+f1"]
SPEEDS = [130, 160]
GAP_S = 1.2  # silence between utterances in a stream
NOISE_VOL = 0.01  # white noise amplitude (full scale 1.0) under the speech
TV_VOL = 0.15  # TV-like track (other speech + brown noise) mixed under the speech
# How long the TV asks "Do you need help?" (tvbox.box.SOS_ASK_SECONDS; not
# imported, so the peak RSS figure is the recognizer's alone).
SOS_ASK_SECONDS = 30.0
SOS_TEXTS = ["도와주세요", "살려주세요", "도와주세요 도와주세요"]
PHRASES: dict[str, list[tuple[Intent, str]]] = {
    "idle": [(Intent.SOS, t) for t in SOS_TEXTS]
    + [
        (Intent.CALL_DOCTOR, "의사 선생님"),
        (Intent.CALL_FAMILY, "가족에게 전화"),
        (Intent.NEXT_MEDICINE, "다음 약 언제"),
        (Intent.REPEAT, "다시 말해줘"),
    ],
    "answer": [(Intent.SOS, t) for t in SOS_TEXTS]
    + [
        (Intent.TAKEN, "먹었어요"),
        (Intent.TAKEN, "약 먹었어요"),
        (Intent.YES, "네"),
        (Intent.NO, "아니요"),
        (Intent.REPEAT, "다시 말해줘"),
    ],
}
CONTEXT_INTENTS = {"idle": IDLE_INTENTS, "answer": ANSWER_INTENTS}
ORDINARY = [
    "안녕하세요", "오늘 날씨가 정말 좋네요", "저녁 뉴스를 시작하겠습니다",
    "내일은 전국에 비가 내리겠습니다", "이 드라마 정말 재미있어요", "점심은 뭘 먹을까",
    "손주가 주말에 온대요", "텔레비전 소리 좀 줄여 줘", "다음 주에 시장에 가요",
    "광고 후에 계속됩니다", "축구 경기가 곧 시작됩니다", "고맙습니다 잘 지내세요",
    "오늘 저녁은 된장찌개예요", "산책 다녀올게요", "창문 좀 열어 주세요",
    "요즘 무릎이 조금 아파요", "어제 친구를 만났어요", "이번 주말에 교회에 가요",
    "커피 한 잔 드릴까요", "날씨가 많이 추워졌네요", "공원에 꽃이 피었어요",
    "전화가 왔었어요", "딸이 다음 달에 와요", "노래 정말 잘 부르네요",
    "밥 먹고 나서 쉬어야지", "버스가 늦게 왔어요", "시장에서 사과를 샀어요",
    "오늘은 몇 월 며칠이에요", "좋은 아침입니다", "주무시기 전에 물 드세요",
    "뉴스에서 태풍이 온대요", "선수가 골을 넣었습니다", "채널을 바꿔 볼까요",
    "이 프로그램 재미없네", "내일 병원 예약이 있어요", "조용히 좀 해 줄래",
]  # fmt: skip
# Hard cases: sentences that share sounds with the SOS phrases (도와…, …주세요), polite
# requests and TV lines about help. Counted with the ordinary sentences.
CONFUSABLE = [
    "도와줘서 고마워요", "제가 도와드릴게요", "도와주셔서 감사합니다", "물 좀 주세요",
    "사과 좀 주세요", "살살 해 주세요", "잠깐만 기다려 주세요", "리모컨 좀 주세요",
    "소리 좀 키워 주세요", "다 왔어요", "살 빼야 해요", "조심하세요", "어서 오세요",
    "안녕히 주무세요", "좋은 하루 보내세요", "천천히 드세요", "지금 바로 전화 주세요",
    "시청해 주셔서 감사합니다", "채널 고정해 주세요", "경찰은 시민들의 도움을 요청했습니다",
    "구조대가 현장에 도착했습니다", "도와줄 사람이 있어요", "세탁기 좀 돌려 주세요",
    "약국에 다녀왔어요",
]  # fmt: skip
# Near look-alikes of the SOS phrases ("또 와 주세요" against "도와주세요"), kept out of
# the corpus above: `--lookalikes` reports the false SOS they raise on their own line,
# as a check that the SOS check was not tuned to the benchmark's own sentences.
LOOKALIKES = [
    "도와줘 봐요", "다 됐어요", "다 왔네요", "도와드려요", "살았어요",
    "사려 주세요", "돈 좀 주세요", "도와주면 좋겠어요", "잘 봐 주세요", "다 봤어요",
    "도와줬어요", "살펴 주세요", "좋아요", "도서관에 가요", "말씀해 주세요",
    "뭐 하세요", "앉으세요", "오세요", "가세요", "다 와 가요",
    "도와 달라고 했어요", "살짝 주세요", "또 와 주세요", "다음에 또 와요", "돼지고기 주세요",
    "그만 하세요", "보세요", "도마 주세요", "토마토 주세요", "어디 가세요",
]  # fmt: skip
TV_TEXTS = [
    ("en", "Good evening, here is the news. The markets closed higher today."),
    ("ko+m1", "오늘 국회에서는 새로운 법안이 통과되었습니다 자세한 소식 전해 드립니다"),
    ("en+f2", "And now the weather: sunny in the south, with rain later in the week."),
    ("ko+f2", "이번 경기에서 우리 팀이 이 대 일로 승리했습니다 관중들이 환호했습니다"),
]


@dataclass(frozen=True)
class Utterance:
    """One synthesized utterance of the corpus."""

    context: str
    intent: Intent | None  # None: ordinary talk
    text: str
    voice: str
    speed: int
    path: Path


@dataclass
class Segment:
    """One utterance in a stream, with its position on the stream's clock."""

    context: str
    intent: Intent | None  # None: ordinary talk
    text: str
    voice: str
    speed: int
    start_s: float
    speech_end_s: float
    end_s: float


class PacedSource(WavFileSource):
    """A WAV at the pace of speech that remembers when its first sample was "spoken"."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, realtime=True)
        self.t0: float | None = None

    def chunks(self) -> Iterator[AudioChunk]:
        for chunk in super().chunks():
            if self.t0 is None:
                self.t0 = chunk.captured_at - chunk.duration_s
            yield chunk


class OffsetClockSource(AudioSource):
    """A 16 kHz mono WAV as fast as it decodes, stamped with its own offset (s) as capture
    time; read a chunk at a time, so the peak RSS figure is the recognizer's, not the corpus's.
    """

    def __init__(self, path: Path, chunk_ms: int = 50) -> None:
        super().__init__()
        self.path = path
        with wave.open(str(path)) as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (16000, 1, 2):
                raise ValueError(f"{path}: not 16 kHz mono 16-bit")
            self.duration_s = wav.getnframes() / 16000
        self.frames = chunk_bytes(chunk_ms) // 2

    def chunks(self) -> Iterator[AudioChunk]:
        with wave.open(str(self.path)) as wav:
            done = 0
            while piece := wav.readframes(self.frames):
                done += len(piece)
                yield AudioChunk(piece, done / 32000)


def run(cmd: list[str]) -> None:
    if cmd[0] == "sox":  # -R: seeded noise and dither, so every run hears the same corpus
        cmd = ["sox", "-R", *cmd[1:]]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def synth(workdir: Path, text: str, voice: str, speed: int) -> Path:
    """espeak-ng -> 16 kHz mono, normalized to -3 dB (cached by name)."""
    key = hashlib.sha1(f"{text}|{voice}|{speed}".encode()).hexdigest()[:16]
    out = workdir / f"u{key}.wav"
    if not out.exists():
        raw = workdir / "raw.wav"
        run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text])
        run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), "gain", "-n", "-3"])
    return out


def speech_span_s(path: Path) -> tuple[float, float]:
    """Duration and the time of the last clearly audible sample."""
    pcm = read_pcm16k(path)
    samples = memoryview(pcm).cast("h")
    last = 0
    for i in range(len(samples) - 1, -1, -1):
        if abs(samples[i]) > 500:
            last = i
            break
    return len(samples) / 16000, last / 16000


def build_stream(workdir: Path, name: str, items: list[Utterance]) -> tuple[Path, list[Segment]]:
    """Concatenate utterances with GAP_S of silence; return the WAV and its segments."""
    silence = workdir / "gap.wav"
    if not silence.exists():
        run(
            [
                "sox",
                "-n",
                "-r",
                "16000",
                "-c",
                "1",
                "-b",
                "16",
                str(silence),
                "trim",
                "0",
                str(GAP_S),
            ]
        )
    segments, parts, clock = [], [], 0.0
    for item in items:
        duration, speech_end = speech_span_s(item.path)
        parts += [str(silence), str(item.path)]
        start = clock + GAP_S
        segments.append(
            Segment(item.context, item.intent, item.text, item.voice, item.speed,
                    start, start + speech_end, start + duration)
        )  # fmt: skip
        clock = start + duration
    parts.append(str(silence))
    out = workdir / f"{name}.wav"
    run(["sox", *parts, str(out)])
    return out, segments


def with_background(workdir: Path, clean: Path, kind: str, tv_track: Path) -> Path:
    """Mix white noise or TV-like sound under a clean stream."""
    with wave.open(str(clean)) as wav:
        duration = wav.getnframes() / wav.getframerate()
    out = workdir / f"{clean.stem}-{kind}.wav"
    bed = workdir / f"bed-{kind}-{clean.stem}.wav"
    if kind == "noise":
        run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(bed),
             "synth", f"{duration:.2f}", "whitenoise", "vol", str(NOISE_VOL)])  # fmt: skip
        run(["sox", "-m", str(clean), str(bed), str(out)])
    else:
        run(["sox", str(tv_track), str(bed), "repeat", "40", "trim", "0", f"{duration:.2f}"])
        run(["sox", "-m", "-v", "1.0", str(clean), "-v", str(TV_VOL), str(bed), str(out)])
    return out


def make_tv_track(workdir: Path) -> Path:
    parts = [synth(workdir, text, voice, 175) for voice, text in TV_TEXTS]
    speech = workdir / "tv-speech.wav"
    run(["sox", *map(str, parts), str(speech)])
    with wave.open(str(speech)) as wav:
        duration = wav.getnframes() / wav.getframerate()
    hum = workdir / "tv-hum.wav"
    run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(hum), "synth", f"{duration:.2f}",
         "brownnoise", "vol", "0.15"])  # fmt: skip
    track = workdir / "tv.wav"
    run(["sox", "-m", str(speech), str(hum), str(track)])
    return track


def decode(model, grammar, context: str, source: AudioSource) -> tuple[list, list, float]:
    events: list[IntentEvent] = []
    heard: list[HeardUtterance] = []
    recognizer = PhraseRecognizer(
        model, grammar, events.append, intents=CONTEXT_INTENTS[context], on_heard=heard.append
    )
    wall = time.monotonic()
    recognizer.start(source)
    if not recognizer.wait(600):
        raise RuntimeError("decode did not finish")
    return as_the_box_acts(events), heard, time.monotonic() - wall


def as_the_box_acts(events: list[IntentEvent]) -> list[IntentEvent]:
    """MAYBE_SOS heard while the TV still asks "Do you need help?" calls, as on the box."""
    acted: list[IntentEvent] = []
    asked_at: float | None = None
    for event in events:
        if event.intent == Intent.MAYBE_SOS:
            if asked_at is not None and event.utterance_end_at - asked_at <= SOS_ASK_SECONDS:
                event, asked_at = dataclasses.replace(event, intent=Intent.SOS), None
            else:
                asked_at = event.utterance_end_at
        elif event.intent == Intent.SOS:
            asked_at = None
        acted.append(event)
    return acted


def attribute(event_end_s: float, segments: list[Segment]) -> Segment | None:
    for segment in segments:
        if segment.start_s - 0.3 <= event_end_s <= segment.end_s + 0.9:
            return segment
    return None


def rms_dbfs(path: Path, loud_only: bool = False, seconds: float = 30.0) -> float:
    """RMS level of the first `seconds` of a WAV in dBFS; with loud_only, of speech samples."""
    with wave.open(str(path)) as wav:  # 16 kHz mono 16-bit, as OffsetClockSource checks
        samples = memoryview(wav.readframes(int(seconds * 16000))).cast("h")
    total, count = 0, 0
    for value in samples:
        if not loud_only or abs(value) > 500:
            total += value * value
            count += 1
    return 10 * math.log10(max(total / max(1, count), 1e-9) / 32768**2)


def describe_heard(segment: Segment | None, condition: str, heard: HeardUtterance) -> str:
    """Who said what, and what the recognizer made of it (for false and rejected SOS)."""
    if segment is None:
        said = f"(between utterances) {condition}"
    else:
        said = f"{segment.text!r} voice={segment.voice} speed={segment.speed} {condition}"
    confidences = " ".join(f"{c:.2f}" for c in heard.word_confidences)
    line = f"{said}: heard {heard.text!r} conf [{confidences}]"
    line += f" words {heard.words_s:.2f} s of {heard.speech_s:.2f} s speech"
    if heard.sos_check_text or heard.sos_check_confidences:
        check = " ".join(f"{c:.2f}" for c in heard.sos_check_confidences)
        line += f", SOS check heard {heard.sos_check_text!r} conf [{check}]"
    return f"{line} -> {heard.reason}"


def describe_false_sos(
    segment: Segment | None, condition: str, heard: HeardUtterance | None
) -> str:
    if heard is None:
        return f"{segment.text if segment else '(between utterances)'} {condition}"
    return describe_heard(segment, condition, heard)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-utterances", type=int, default=26)
    parser.add_argument("--grammar", type=Path, help="grammar JSON to try instead of ko.json")
    parser.add_argument("--quick", action="store_true", help="clean+noise only, no latency")
    parser.add_argument(
        "--no-sos-check", action="store_true", help="drop the SOS check (before/after)"
    )
    parser.add_argument("--details", action="store_true", help="print every rejected SOS phrase")
    parser.add_argument(
        "--lookalikes", action="store_true", help="also count false SOS on LOOKALIKES"
    )
    args = parser.parse_args()
    bench_started = time.monotonic()
    rng = random.Random(20261122)

    load_started = time.monotonic()
    model = load_model(ModelSetting("ko"), allow_download=False)
    load_s = time.monotonic() - load_started
    grammar = load_grammar_file(args.grammar) if args.grammar else load_grammar("ko")
    if args.no_sos_check:
        grammar = dataclasses.replace(grammar, sos_check_words=())
    report = model.check_grammar(grammar)
    print(f"model loaded in {load_s:.1f} s; {report.describe()}")

    with tempfile.TemporaryDirectory(prefix="anxin-bench-voice-") as tmp:
        workdir = Path(tmp)
        gen_started = time.monotonic()
        tv_track = make_tv_track(workdir)
        streams: list[tuple[str, str, Path, list[Segment]]] = []
        for context, phrases in PHRASES.items():
            items: list[Utterance] = []
            for intent, text in phrases:
                for voice in VOICES:
                    for speed in SPEEDS:
                        path = synth(workdir, text, voice, speed)
                        items.append(Utterance(context, intent, text, voice, speed, path))
            for index, text in enumerate(ORDINARY + CONFUSABLE):
                voice = VOICES[index % len(VOICES)]
                speed = SPEEDS[index % len(SPEEDS)]
                path = synth(workdir, text, voice, speed)
                items.append(Utterance(context, None, text, voice, speed, path))
            rng.shuffle(items)
            clean, segments = build_stream(workdir, f"{context}", items)
            streams.append((context, "clean", clean, segments))
            for kind in ("noise",) if args.quick else ("noise", "tv"):
                streams.append(
                    (context, kind, with_background(workdir, clean, kind, tv_track), segments)
                )
        print(f"corpus built in {time.monotonic() - gen_started:.1f} s")
        speech_rms = rms_dbfs(streams[0][2], loud_only=True)
        for kind in ("noise",) if args.quick else ("noise", "tv"):
            bed_rms = rms_dbfs(workdir / f"bed-{kind}-{streams[0][2].stem}.wav")
            bed_rms += 20 * math.log10(TV_VOL) if kind == "tv" else 0.0
            print(f"{kind}: background {bed_rms:.1f} dBFS RMS, speech {speech_rms:.1f} dBFS RMS, "
                  f"SNR {speech_rms - bed_rms:.1f} dB")  # fmt: skip

        hits: dict[Intent, Counter[str]] = defaultdict(Counter)
        totals: dict[Intent, Counter[str]] = defaultdict(Counter)
        phrase_hits: Counter[str] = Counter()
        phrase_totals: Counter[str] = Counter()
        false_sos = 0
        false_asks: list[str] = []  # non-SOS utterances that made the box ask
        sos_asked: Counter[str] = Counter()  # SOS utterances asked back, per condition
        false_sos_texts: list[str] = []
        near_false_sos: list[str] = []  # non-SOS heard as an SOS phrase, then rejected
        sos_rejected: list[str] = []  # SOS heard as an SOS phrase, then rejected
        false_other = 0
        non_sos_utterances = 0
        ordinary_utterances = 0
        audio_s = 0.0
        decode_s = 0.0
        for context, condition, path, segments in streams:
            source = OffsetClockSource(path)
            audio_s += source.duration_s
            events, heard, wall = decode(model, grammar, context, source)
            decode_s += wall
            heard_at = {h.decided_at: h for h in heard}
            by_segment: dict[int, list[Intent]] = defaultdict(list)
            for event in events:
                segment = attribute(event.utterance_end_at, segments)
                said_sos = segment is not None and segment.intent == Intent.SOS
                if event.intent == Intent.SOS and not said_sos:
                    false_sos_texts.append(
                        describe_false_sos(segment, condition, heard_at.get(event.decided_at))
                    )
                if event.intent == Intent.MAYBE_SOS and not said_sos:
                    false_asks.append(
                        describe_false_sos(segment, condition, heard_at.get(event.decided_at))
                    )
                if segment is None:
                    false_sos += event.intent == Intent.SOS
                    continue
                by_segment[id(segment)].append(event.intent)
            for h in heard:
                words = h.text.split()
                as_sos = grammar.match(words, [1.0] * len(words), {Intent.SOS})
                if as_sos is not None and args.details:
                    segment = attribute(h.utterance_end_at, segments)
                    print(f"  SOS PHRASE {describe_heard(segment, condition, h)}")
                if h.intent is None and as_sos is not None:
                    segment = attribute(h.utterance_end_at, segments)
                    said_sos = segment is not None and segment.intent == Intent.SOS
                    (sos_rejected if said_sos else near_false_sos).append(
                        describe_heard(segment, condition, h)
                    )
            for segment in segments:
                got = by_segment.get(id(segment), [])
                if segment.intent is not None:
                    phrase_key = f"{segment.text} [{context}]"
                    phrase_totals[phrase_key] += 1
                    phrase_hits[phrase_key] += segment.intent in got
                    totals[segment.intent][condition] += 1
                    if segment.intent in got:
                        hits[segment.intent][condition] += 1
                    elif segment.intent == Intent.SOS and Intent.MAYBE_SOS in got:
                        sos_asked[condition] += 1
                if segment.intent != Intent.SOS:
                    non_sos_utterances += 1
                    false_sos += got.count(Intent.SOS)
                if segment.intent is None:
                    ordinary_utterances += 1
                    false_other += sum(1 for i in got if i != Intent.SOS)
            print(f"decoded {context}/{condition}: {len(segments)} utterances, "
                  f"{source.duration_s:.0f} s audio in {wall:.1f} s")  # fmt: skip

        lookalike_false: list[str] = []
        lookalike_count = 0
        lookalike_asks = 0
        for context in PHRASES if args.lookalikes else ():
            items = []
            for index, text in enumerate(LOOKALIKES):
                for voice in VOICES:
                    speed = SPEEDS[index % len(SPEEDS)]
                    path = synth(workdir, text, voice, speed)
                    items.append(Utterance(context, None, text, voice, speed, path))
            rng.shuffle(items)
            clean, segments = build_stream(workdir, f"lookalike-{context}", items)
            for kind in ("clean", "noise", "tv"):
                path = clean if kind == "clean" else with_background(workdir, clean, kind, tv_track)
                events, heard, _ = decode(model, grammar, context, OffsetClockSource(path))
                heard_at = {h.decided_at: h for h in heard}
                lookalike_count += len(segments)
                lookalike_asks += sum(event.intent == Intent.MAYBE_SOS for event in events)
                for event in events:
                    if event.intent == Intent.SOS:
                        segment = attribute(event.utterance_end_at, segments)
                        lookalike_false.append(
                            describe_false_sos(segment, kind, heard_at.get(event.decided_at))
                        )

        # Real-time pass: chunks arrive at the pace of speech, as from a microphone.
        latency_items = []
        for voice in ("ko", "ko+f3"):
            for context, phrases in PHRASES.items():
                for intent, text in phrases:
                    if intent != Intent.SOS or text == "도와주세요":
                        path = synth(workdir, text, voice, 160)
                        latency_items.append(Utterance(context, intent, text, voice, 160, path))
        latency_items = latency_items[: 0 if args.quick else args.latency_utterances]
        latencies_ms: list[float] = []
        for context in PHRASES:
            items = [item for item in latency_items if item.context == context]
            if not items:
                continue
            path, segments = build_stream(workdir, f"rt-{context}", items)
            source = PacedSource(path)
            events: list[IntentEvent] = []
            recognizer = PhraseRecognizer(
                model, grammar, events.append, intents=CONTEXT_INTENTS[context]
            )
            recognizer.start(source)
            recognizer.wait(600)
            stream_t0 = source.t0 or 0.0
            for event in events:
                offset = event.utterance_end_at - stream_t0
                segment = attribute(offset, segments)
                heard_as = Intent.SOS if event.intent == Intent.MAYBE_SOS else event.intent
                if segment is not None and segment.intent == heard_as:
                    # from the true end of speech in the audio to the decision
                    latencies_ms.append(
                        (event.decided_at - stream_t0 - segment.speech_end_s) * 1000
                    )
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print()
    print(f"{'intent':15} {'clean':>8} {'noise':>8} {'tv':>8} {'all':>8}")
    detection_pct: dict[str, float] = {}
    for intent in Intent:
        if not totals[intent]:
            continue
        cells = []
        for condition in ("clean", "noise", "tv"):
            total = totals[intent][condition]
            cells.append(f"{hits[intent][condition]}/{total}")
        rate = 100 * sum(hits[intent].values()) / sum(totals[intent].values())
        detection_pct[intent.value] = round(rate, 1)
        print(f"{intent.value:15} {cells[0]:>8} {cells[1]:>8} {cells[2]:>8} {rate:7.1f}%")
        if intent == Intent.SOS:
            asked = [f"{sos_asked[c]}/{totals[intent][c]}" for c in ("clean", "noise", "tv")]
            both = sum(hits[intent].values()) + sum(sos_asked.values())
            rate = 100 * both / sum(totals[intent].values())
            detection_pct["sos_or_asked"] = round(rate, 1)
            print(f"{'sos asked back':15} {asked[0]:>8} {asked[1]:>8} {asked[2]:>8} "
                  f"(raised or asked {rate:.1f}%)")  # fmt: skip
    print("per phrase (all voices, speeds, conditions):")
    for key, total in phrase_totals.items():
        print(f"  {key:28} {phrase_hits[key]:3}/{total}")
    rtf = decode_s / audio_s
    p50 = statistics.median(latencies_ms) if latencies_ms else float("nan")
    p99 = percentile(latencies_ms, 99) if latencies_ms else float("nan")
    print(f"false SOS: {false_sos} on {non_sos_utterances} non-SOS utterances "
          f"({ordinary_utterances} ordinary sentences); other false intents on ordinary talk: "
          f"{false_other}")  # fmt: skip
    for line in false_sos_texts:
        print(f"  FALSE SOS {line}")
    print(f'non-SOS utterances that made the box ask "Do you need help?": {len(false_asks)}')
    for line in false_asks:
        print(f"  ASKED {line}")
    print(f"non-SOS heard as an SOS phrase but rejected: {len(near_false_sos)}")
    for line in near_false_sos if args.details else ():
        print(f"  near miss {line}")
    print(f"SOS heard as an SOS phrase but rejected: {len(sos_rejected)}")
    for line in sos_rejected if args.details else ():
        print(f"  rejected SOS {line}")
    if args.lookalikes:
        print(f"look-alikes: {len(lookalike_false)} false SOS on {lookalike_count} utterances, "
              f"{lookalike_asks} asked back")  # fmt: skip
        for line in lookalike_false:
            print(f"  LOOK-ALIKE SOS {line}")
    print(f"latency end of speech -> intent (real time, n={len(latencies_ms)}): "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms")  # fmt: skip
    print(f"real-time factor {rtf:.3f} ({audio_s:.0f} s audio in {decode_s:.1f} s); "
          f"peak RSS {peak_rss_mb:.0f} MB; model load {load_s:.1f} s")  # fmt: skip
    summary = {
        **{f"detect_{name}_pct": value for name, value in detection_pct.items()},
        "false_sos_count": false_sos,
        "false_sos_asks_count": len(false_asks),
        "non_sos_utterances_count": non_sos_utterances,
        "ordinary_utterances_count": ordinary_utterances,
        "false_other_on_ordinary_count": false_other,
        "latency_p50_ms": round(p50, 1),
        "latency_p99_ms": round(p99, 1),
        "latency_samples_count": len(latencies_ms),
        "real_time_factor_ratio": round(rtf, 4),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "model_load_s": round(load_s, 2),
        "runtime_s": round(time.monotonic() - bench_started, 1),
    }
    if args.lookalikes:
        summary["lookalike_false_sos_count"] = len(lookalike_false)
        summary["lookalike_utterances_count"] = lookalike_count
        summary["lookalike_asks_count"] = lookalike_asks
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())

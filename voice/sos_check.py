"""A second decode of every SOS before the box calls for help.

The main grammar is a loop over a few dozen intent words and the Korean model has
no `[unk]`, so whatever is said comes out as intent words, and the word
confidences only compare intent words with each other: a sentence ending in "-요"
heard through noise can come out as "도와주 세요" with confidence 1.00 on both
words (bench/voice.py). Confidence floors cannot reject that.

`SosCheck` decodes the same stretch of audio again (from the start of the
sentence, see recognizer.py) with the SOS phrases, every other intent's words and
a garbage path (`sos_check_words`: everyday words and sentence endings). Other
speech now has somewhere better to go, and the SOS stands only if the sentence
still ends in the final word of an SOS phrase ("세요" of "도와주 세요") heard with
confidence >= `sos_check_min_word_confidence`: "도와줘서 고마워요" ends in "어요"
there, "제가 도와드릴게요" in "게요", and "아니요" (heard as "살려 주세요" through
noise) now has "아니요" to compete with, which brings "주세요" down to 0.67.

Why the final word and not the whole phrase: on espeak-ng voices the garbage
path explains the start of a real "도와주세요" as well as "도와주" does ("래요
세요", "더 왔 좋 세요"), so requiring the whole phrase passed only 16 of 53 true
SOS candidates in bench/voice.py; the final word at >= 0.9 passes 44 of 53 and
rejects 5 of the 6 false ones (the sixth, "다 왔어요" in one espeak voice, is heard
as "도와주 세요" whatever competes). That sixth is why one hearing never calls for
help on its own: the recognizer wants the cry twice within `SOS_REPEAT_WINDOW_S`,
at least once confirmed here, and makes a single confirmed hearing (or two doubtful
ones) MAYBE_SOS, which the box answers with "Do you need help?".

It runs only on SOS candidates, on the recognizer's worker thread (tens of ms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from voice.audio import SAMPLE_RATE_HZ
from voice.grammar import PhraseGrammar
from voice.intents import Intent
from voice.models import LoadedModel


@dataclass(frozen=True)
class SosVerdict:
    """What the second decode heard, and whether the SOS stands."""

    confirmed: bool
    text: str
    word_confidences: tuple[float, ...]


class SosCheck:
    """Re-decodes SOS candidates against the SOS phrases plus a garbage path."""

    def __init__(self, model: LoadedModel, grammar: PhraseGrammar) -> None:
        self.model = model
        self.grammar = grammar
        # ensure_ascii=False: Vosk reads the JSON text as-is (see recognizer.py).
        self._grammar_json = json.dumps(grammar.sos_check_phrases(), ensure_ascii=False)
        self._recognizer: Any = None

    @property
    def enabled(self) -> bool:
        """False when the grammar lists no garbage path: then the first decode decides."""
        return bool(self.grammar.sos_check_words)

    def verdict(self, pcm: bytes) -> SosVerdict:
        """Decode `pcm` (16 kHz mono 16-bit, the SOS utterance) and judge it."""
        if not self.enabled:
            return SosVerdict(True, "", ())
        recognizer = self._take_recognizer()
        recognizer.AcceptWaveform(pcm)
        result = json.loads(recognizer.FinalResult())
        words_info = result.get("result") or []
        words = [w["word"] for w in words_info]
        confidences = tuple(float(w.get("conf", 0.0)) for w in words_info)
        endings = {phrase.split()[-1] for phrase in self.grammar.phrases[Intent.SOS]}
        confirmed = (
            bool(words)
            and words[-1] in endings
            and confidences[-1] >= self.grammar.sos_check_min_word_confidence
        )
        return SosVerdict(confirmed, " ".join(words), confidences)

    def _take_recognizer(self) -> Any:
        import vosk

        if self._recognizer is None:
            self._recognizer = vosk.KaldiRecognizer(
                self.model.model, SAMPLE_RATE_HZ, self._grammar_json
            )
            self._recognizer.SetWords(True)
        else:
            self._recognizer.Reset()
        return self._recognizer

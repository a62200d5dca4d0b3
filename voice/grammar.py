"""Phrase grammars per language, loaded from `voice/grammars/<lang>.json`.

A grammar lists, per intent, the phrases that mean it, written in the model's
vocabulary pieces separated by spaces (the Korean model splits 도와주세요 into
"도와주 세요"). Vosk turns the phrase list into a loop over all its words, so any
sound comes out as some sequence of grammar words; hence the strict rule in
`PhraseGrammar.match`: the whole utterance must be one phrase (optionally repeated,
as people repeat a cry for help) and every word must be heard with high confidence.

A confident SOS is not yet proof: with nothing else in the grammar, the model is
sure of "도와주 세요" for "도와줘서 고마워요" or "다 왔어요" (confidence 1.00 on both
words in bench/voice.py). When the file lists `sos_check_words`, an SOS match is
decoded a second time against the SOS phrases plus those words, a garbage path of
everyday words and endings the model can use for what is not a cry for help
(`voice/sos_check.py`).

File format::

    {"lang": "ko", "min_word_confidence": 0.9,
     "intents": {"sos": ["도와주 세요", ...], "yes": ["네"], ...},
     "filler": ["오늘", ...],      # optional: words that mean nothing
     "sos_check_words": ["여기", "어요", ...],   # optional: garbage path for the SOS check
     "sos_check_min_word_confidence": 0.9}      # optional: floor for the SOS's last word
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from voice.errors import GrammarError, VoiceErrorCode
from voice.intents import ALL_INTENTS, Intent

GRAMMAR_DIR = Path(__file__).with_name("grammars")
DEFAULT_MIN_WORD_CONFIDENCE = 0.9


@dataclass(frozen=True)
class PhraseMatch:
    """An utterance that equals one grammar phrase."""

    intent: Intent
    phrase: str
    confidence: float  # lowest word confidence
    times: int = 1  # "도와주 세요 도와주 세요": 2


@dataclass(frozen=True)
class PhraseGrammar:
    """The phrases of one language, per intent, and the acceptance threshold."""

    lang: str
    phrases: Mapping[Intent, tuple[str, ...]]
    min_word_confidence: float = DEFAULT_MIN_WORD_CONFIDENCE
    # Words that mean nothing but give other speech somewhere to go: the model has
    # no [unk], so without them any sound is decoded as intent words.
    filler: tuple[str, ...] = ()
    # Competitors for the second decode of an SOS (see the module docstring).
    sos_check_words: tuple[str, ...] = ()
    sos_check_min_word_confidence: float = DEFAULT_MIN_WORD_CONFIDENCE

    @property
    def all_phrases(self) -> tuple[str, ...]:
        """Every phrase of every intent, in file order."""
        return tuple(p for phrases in self.phrases.values() for p in phrases)

    @property
    def words(self) -> frozenset[str]:
        """Every word (vocabulary piece) the grammar uses."""
        every = (*self.all_phrases, *self.filler, *self.sos_check_words)
        return frozenset(word for phrase in every for word in phrase.split())

    def vosk_phrases(self, intents: Iterable[Intent] = ALL_INTENTS) -> list[str]:
        """Phrase list for `KaldiRecognizer(model, rate, json.dumps(...))`."""
        wanted = set(intents) | {Intent.SOS}
        phrases = [p for intent, group in self.phrases.items() if intent in wanted for p in group]
        return phrases + [word for word in self.filler if word not in phrases]

    def sos_check_phrases(self) -> list[str]:
        """Phrase list for the SOS check: SOS phrases, every other intent's words, garbage."""
        sos = list(self.phrases[Intent.SOS])
        others = [
            word
            for intent, phrases in self.phrases.items()
            if intent is not Intent.SOS
            for phrase in phrases
            for word in phrase.split()
        ]
        garbage = [*others, *self.sos_check_words]
        return sos + [word for word in dict.fromkeys(garbage) if word not in sos]

    def intent_of(self, phrase: str) -> Intent | None:
        """The intent a phrase belongs to, if any."""
        for intent, phrases in self.phrases.items():
            if phrase in phrases:
                return intent
        return None

    def match(
        self,
        words: Sequence[str],
        confidences: Sequence[float],
        intents: Iterable[Intent] = ALL_INTENTS,
    ) -> PhraseMatch | None:
        """The phrase the whole utterance equals, if every word is confident enough.

        One exception: when the box has asked "Do you need help?" (it listens for yes), "yes,
        help me" is a cry for help whatever Vosk made of the "yes": said right before the
        cry, it often comes out doubtful ("네(0.57) 도와주 세요"), and Vosk also hears the
        first sound of "도와주세요" as a doubtful "네" when the new grammar starts just
        before it. Both meanings call for help; the SOS check still decodes the cry.
        """
        if not words or len(words) != len(confidences):
            return None
        wanted = set(intents) | {Intent.SOS}
        if (
            Intent.YES in wanted
            and len(words) > 1
            and words[0] in self.phrases.get(Intent.YES, ())
            and (cry := self.match(words[1:], confidences[1:], {Intent.SOS})) is not None
        ):
            return cry
        if min(confidences) < self.min_word_confidence:
            return None
        for intent, phrases in self.phrases.items():
            if intent not in wanted:
                continue
            for phrase in phrases:
                if times := _repetitions_of(words, phrase.split()):
                    return PhraseMatch(intent, phrase, float(min(confidences)), times)
        return None


def _repetitions_of(words: Sequence[str], phrase_words: list[str]) -> int:
    """How many times in a row `words` says `phrase_words`; 0 if it says something else."""
    size = len(phrase_words)
    if size == 0 or len(words) % size:
        return 0
    if all(list(words[i : i + size]) == phrase_words for i in range(0, len(words), size)):
        return len(words) // size
    return 0


def grammar_languages(directory: Path = GRAMMAR_DIR) -> list[str]:
    """Languages that have a grammar file."""
    return sorted(path.stem for path in directory.glob("*.json"))


def load_grammar(lang: str, directory: Path = GRAMMAR_DIR) -> PhraseGrammar:
    """Load the grammar for `lang` from `<directory>/<lang>.json`."""
    path = directory / f"{lang}.json"
    if not path.is_file():
        raise GrammarError(
            VoiceErrorCode.GRAMMAR_NOT_FOUND,
            f"no phrase grammar for {lang!r} in {directory}",
            params={"lang": lang},
        )
    return load_grammar_file(path)


def load_grammar_file(path: Path | str) -> PhraseGrammar:
    """Load and validate one grammar file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GrammarError(VoiceErrorCode.GRAMMAR_INVALID, f"cannot read {path}: {err}") from err
    return parse_grammar(data, source=str(path))


def parse_grammar(data: object, *, source: str = "<grammar>") -> PhraseGrammar:
    """Build a PhraseGrammar from decoded JSON, refusing anything malformed."""

    def invalid(why: str) -> GrammarError:
        return GrammarError(VoiceErrorCode.GRAMMAR_INVALID, f"{source}: {why}")

    if not isinstance(data, dict):
        raise invalid("top level must be an object")
    lang = data.get("lang")
    if not isinstance(lang, str) or not lang:
        raise invalid("'lang' must be a non-empty string")
    threshold = data.get("min_word_confidence", DEFAULT_MIN_WORD_CONFIDENCE)
    if not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
        raise invalid("'min_word_confidence' must be a number within 0-1")
    raw_intents = data.get("intents")
    if not isinstance(raw_intents, dict) or not raw_intents:
        raise invalid("'intents' must be a non-empty object")
    phrases: dict[Intent, tuple[str, ...]] = {}
    seen: dict[str, Intent] = {}
    for name, raw_phrases in raw_intents.items():
        try:
            intent = Intent(name)
        except ValueError:
            raise invalid(f"unknown intent {name!r}") from None
        if intent not in ALL_INTENTS:
            raise invalid(f"{name!r} is decided by the recognizer and has no phrases")
        if not isinstance(raw_phrases, list) or not raw_phrases:
            raise invalid(f"intent {name!r} needs a non-empty list of phrases")
        cleaned: list[str] = []
        for raw in raw_phrases:
            if not isinstance(raw, str) or not raw.split():
                raise invalid(f"intent {name!r} has an empty or non-string phrase")
            phrase = " ".join(raw.split())
            if phrase in seen:
                raise invalid(f"phrase {phrase!r} is listed under {seen[phrase]} and {name}")
            seen[phrase] = intent
            cleaned.append(phrase)
        phrases[intent] = tuple(cleaned)
    if Intent.SOS not in phrases:
        raise invalid("every grammar needs 'sos' phrases")
    filler = data.get("filler", [])
    if not isinstance(filler, list) or not all(isinstance(w, str) and w.strip() for w in filler):
        raise invalid("'filler' must be a list of words")
    clashing = sorted(set(filler) & set(seen))
    if clashing:
        raise invalid(f"filler words are also phrases: {', '.join(clashing)}")
    check_words = data.get("sos_check_words", [])
    if not isinstance(check_words, list) or not all(
        isinstance(w, str) and w.strip() for w in check_words
    ):
        raise invalid("'sos_check_words' must be a list of words")
    if any(len(w.split()) != 1 for w in check_words):
        raise invalid("'sos_check_words' must be single words")
    check_threshold = data.get("sos_check_min_word_confidence", threshold)
    if not isinstance(check_threshold, int | float) or not 0.0 <= check_threshold <= 1.0:
        raise invalid("'sos_check_min_word_confidence' must be a number within 0-1")
    return PhraseGrammar(
        lang=lang,
        phrases=MappingProxyType(phrases),
        min_word_confidence=float(threshold),
        filler=tuple(" ".join(w.split()) for w in filler),
        sos_check_words=tuple(w.strip() for w in check_words),
        sos_check_min_word_confidence=float(check_threshold),
    )

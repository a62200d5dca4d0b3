"""Grammar files load and refuse mistakes; the vocabulary check finds missing words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voice.errors import GrammarError, ModelError, VoiceErrorCode
from voice.grammar import (
    GRAMMAR_DIR,
    grammar_languages,
    load_grammar,
    load_grammar_file,
    parse_grammar,
)
from voice.intents import ALL_INTENTS, ANSWER_INTENTS, IDLE_INTENTS, Intent
from voice.models import default_cache_dirs, find_cached_model
from voice.vocabulary import check_vocabulary, model_vocabulary, read_fst_symbols


@pytest.mark.parametrize("lang", ["zh", "en", "ko"])
def test_every_language_has_a_grammar_for_every_intent(lang: str) -> None:
    grammar = load_grammar(lang)
    assert grammar.lang == lang
    assert set(grammar.phrases) == ALL_INTENTS  # every intent but MAYBE_SOS
    assert 0.8 <= grammar.min_word_confidence <= 1.0
    assert lang in grammar_languages()


def test_sos_phrases_are_never_a_single_short_word() -> None:
    # Short words cause most false alarms (shared/voice/README.md).
    for lang in grammar_languages():
        for phrase in load_grammar(lang).phrases[Intent.SOS]:
            assert len(phrase.replace(" ", "")) >= 2, (lang, phrase)


def test_match_is_strict_about_the_whole_utterance() -> None:
    grammar = load_grammar("ko")
    sure = 1.0
    assert grammar.match(["도와주", "세요"], [sure, sure]).intent == Intent.SOS
    # said twice in a row, as people repeat a cry for help
    assert grammar.match(["도와주", "세요"] * 2, [sure] * 4).intent == Intent.SOS
    assert grammar.match(["세요", "도와주", "세요"], [sure] * 3) is None  # extra word
    assert grammar.match(["도와주"], [sure]) is None  # half a phrase
    assert grammar.match(["도와주", "세요"], [sure, 0.6]) is None  # one unsure word
    assert grammar.match([], []) is None
    # "네" answers a question; on the idle screen it means nothing
    assert grammar.match(["네"], [sure], ANSWER_INTENTS).intent == Intent.YES
    assert grammar.match(["네"], [sure], IDLE_INTENTS) is None
    # SOS is always listened for
    assert grammar.match(["도와주", "세요"], [sure, sure], {Intent.YES}).intent == Intent.SOS
    # After "Do you need help?" (yes is listened for), "yes, help me" is a cry for help,
    # however doubtful the "yes" ...
    both = ANSWER_INTENTS | {Intent.SOS}
    cry = grammar.match(["네", "도와주", "세요"], [0.56, sure, sure], both)
    assert cry is not None and cry.intent == Intent.SOS
    assert (cry.times, cry.confidence) == (1, sure)
    assert grammar.match(["도와주", "세요"] * 2, [sure] * 4).times == 2
    # ... but not on the idle screen, nor with another doubtful lead-in, nor a doubtful cry.
    assert grammar.match(["네", "도와주", "세요"], [0.56, sure, sure], IDLE_INTENTS) is None
    assert grammar.match(["아니요", "도와주", "세요"], [0.5, sure, sure], both) is None
    assert grammar.match(["네", "도와주", "세요"], [sure, sure, 0.5], both) is None
    assert grammar.match(["아니요", "네"], [0.5, sure], ANSWER_INTENTS) is None


def test_vosk_phrases_follow_the_screen() -> None:
    grammar = load_grammar("ko")
    idle = grammar.vosk_phrases(IDLE_INTENTS)
    assert "도와주 세요" in idle and "네" not in idle
    assert "네" in grammar.vosk_phrases(ANSWER_INTENTS)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"lang": "ko", "intents": {"sos": ["도와주 세요"], "dance": ["춤"]}}, "unknown intent"),
        (
            {"lang": "ko", "intents": {"sos": ["도와주 세요"], "maybe_sos": ["도와 줘"]}},
            "decided by the recognizer",
        ),
        ({"lang": "ko", "intents": {"yes": ["네"]}}, "needs 'sos'"),
        ({"lang": "ko", "intents": {"sos": ["네"], "yes": ["네"]}}, "listed under"),
        ({"lang": "ko", "intents": {"sos": []}}, "non-empty list"),
        ({"lang": "ko", "intents": {"sos": ["  "]}}, "empty"),
        ({"lang": "ko", "min_word_confidence": 2, "intents": {"sos": ["x y"]}}, "0-1"),
        ({"intents": {"sos": ["x y"]}}, "'lang'"),
        (["not", "an", "object"], "object"),
    ],
)
def test_malformed_grammar_is_refused(data: object, why: str) -> None:
    with pytest.raises(GrammarError) as caught:
        parse_grammar(data)
    assert caught.value.code == VoiceErrorCode.GRAMMAR_INVALID
    assert why in caught.value.message


def test_missing_or_unreadable_grammar_file(tmp_path: Path) -> None:
    with pytest.raises(GrammarError) as caught:
        load_grammar("xx", tmp_path)
    assert caught.value.code == VoiceErrorCode.GRAMMAR_NOT_FOUND
    assert caught.value.params == {"lang": "xx"}
    broken = tmp_path / "ko.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(GrammarError) as caught:
        load_grammar_file(broken)
    assert caught.value.code == VoiceErrorCode.GRAMMAR_INVALID


def test_korean_grammar_words_are_all_in_the_model(ko_model, ko_grammar) -> None:
    report = ko_model.check_grammar(ko_grammar)
    assert report.ok, report.describe()
    assert report.checked_words == len(ko_grammar.words)


def test_vocabulary_check_reports_a_missing_word(ko_model, tmp_path: Path) -> None:
    data = json.loads((GRAMMAR_DIR / "ko.json").read_text(encoding="utf-8"))
    # 도와주세요 unsplit is not a vocabulary entry (the model has 도와주 + 세요),
    # and the second phrase holds a made-up word.
    data["intents"]["sos"] += ["도와주세요", "살려 뿡뿡뿡이"]
    path = tmp_path / "ko.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = ko_model.check_grammar(load_grammar_file(path))
    assert not report.ok
    assert dict(report.missing) == {"도와주세요": ("도와주세요",), "살려 뿡뿡뿡이": ("뿡뿡뿡이",)}
    assert report.missing_words == {"도와주세요", "뿡뿡뿡이"}
    assert "뿡뿡뿡이" in report.describe() and "도와주세요" in report.describe()


def test_fst_symbol_table_agrees_with_vosk(ko_model) -> None:
    vocabulary = ko_model.vocabulary
    assert len(vocabulary) > 400_000  # ~500k entries in graph/Gr.fst
    for word in ["도와주", "세요", "네", "아니요", "선생님", "전화"]:
        assert word in vocabulary
        assert ko_model.model.vosk_model_find_word(word) >= 0
    for word in ["도와주세요", "뿡뿡뿡이", "help"]:
        assert word not in vocabulary
        assert ko_model.model.vosk_model_find_word(word) < 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_other_language_grammars_are_checked_against_a_model(ko_model, lang: str) -> None:
    grammar = load_grammar(lang)
    cached = find_cached_model(lang, cache_dirs=default_cache_dirs())
    vocabulary = model_vocabulary(cached) if cached else ko_model.vocabulary
    report = check_vocabulary(lang, grammar.all_phrases, vocabulary)
    assert report.checked_words == len(grammar.words)
    if cached is None:
        # Only the Korean model is installable here: against it, no zh/en word is known,
        # and the report says so word by word.
        assert report.missing_words == grammar.words
    else:
        assert report.ok, report.describe()


def test_words_txt_is_preferred_and_bad_fst_refused(tmp_path: Path) -> None:
    model_dir = tmp_path / "vosk-model-small-xx"
    (model_dir / "graph").mkdir(parents=True)
    (model_dir / "graph" / "words.txt").write_text("<eps> 0\nhello 1\nworld 2\n#0 3\n")
    assert model_vocabulary(model_dir) == {"hello", "world"}
    not_fst = tmp_path / "Gr.fst"
    not_fst.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError):
        read_fst_symbols(not_fst)
    with pytest.raises(ModelError):
        model_vocabulary(tmp_path / "empty")


def test_filler_words_are_decoded_but_never_an_intent() -> None:
    grammar = parse_grammar(
        {"lang": "ko", "intents": {"sos": ["도와주 세요"], "yes": ["네"]}, "filler": ["오늘"]}
    )
    assert grammar.vosk_phrases() == ["도와주 세요", "네", "오늘"]
    assert "오늘" in grammar.words
    assert grammar.match(["오늘"], [1.0]) is None
    with pytest.raises(GrammarError):
        parse_grammar({"lang": "ko", "intents": {"sos": ["살려 줘"]}, "filler": ["살려 줘"]})


def test_sos_check_words_are_only_in_the_sos_check() -> None:
    grammar = parse_grammar(
        {
            "lang": "ko",
            "intents": {"sos": ["도와주 세요"], "yes": ["네"]},
            "sos_check_words": ["오늘", "커피", "네"],
            "sos_check_min_word_confidence": 0.8,
        }
    )
    assert grammar.vosk_phrases() == ["도와주 세요", "네"]  # the everyday grammar is unchanged
    # The SOS competes with every other intent's words and the garbage path.
    assert grammar.sos_check_phrases() == ["도와주 세요", "네", "오늘", "커피"]
    assert grammar.sos_check_min_word_confidence == 0.8
    assert {"오늘", "커피"} <= grammar.words  # checked against the model's vocabulary
    for bad in ({"sos_check_words": "오늘"}, {"sos_check_words": ["오늘 저녁"]},
                {"sos_check_min_word_confidence": 2}):  # fmt: skip
        with pytest.raises(GrammarError):
            parse_grammar({"lang": "ko", "intents": {"sos": ["도와주 세요"]}, **bad})

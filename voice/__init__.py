"""Offline voice for the Anxin box: speech out (espeak-ng) and phrase recognition (Vosk).

Knows nothing of the wire protocol or of Kivy: it emits its own frozen event records
(SpeechEvent, IntentEvent) and the box turns them into protocol messages and screens.
"""

from voice.audio import ArecordSource, AudioChunk, AudioSource, StreamSource, WavFileSource
from voice.echo import EchoGate
from voice.errors import (
    AudioSourceError,
    GrammarError,
    ModelError,
    SpeechError,
    VoiceError,
    VoiceErrorCode,
)
from voice.grammar import PhraseGrammar, grammar_languages, load_grammar
from voice.intents import (
    ALL_INTENTS,
    ANSWER_INTENTS,
    IDLE_INTENTS,
    SOS_ONLY,
    HeardUtterance,
    Intent,
    IntentEvent,
)
from voice.models import LoadedModel, ModelSetting, load_model, resolve_model_dir
from voice.recognizer import PhraseRecognizer, RecognizerState
from voice.speech import (
    PlaybackOutput,
    Priority,
    Speaker,
    SpeechEvent,
    SpeechEventKind,
    SpeechOutput,
    WavFileOutput,
)
from voice.status import RecognitionSetup, VoiceStatus, error_text, prepare_recognition
from voice.vocabulary import VocabularyReport, check_vocabulary, model_vocabulary

__all__ = [
    "ALL_INTENTS",
    "ANSWER_INTENTS",
    "IDLE_INTENTS",
    "SOS_ONLY",
    "ArecordSource",
    "AudioChunk",
    "AudioSource",
    "AudioSourceError",
    "EchoGate",
    "GrammarError",
    "HeardUtterance",
    "Intent",
    "IntentEvent",
    "LoadedModel",
    "ModelError",
    "ModelSetting",
    "PhraseGrammar",
    "PhraseRecognizer",
    "PlaybackOutput",
    "Priority",
    "RecognitionSetup",
    "RecognizerState",
    "Speaker",
    "SpeechError",
    "SpeechEvent",
    "SpeechEventKind",
    "SpeechOutput",
    "StreamSource",
    "VocabularyReport",
    "VoiceError",
    "VoiceErrorCode",
    "VoiceStatus",
    "WavFileOutput",
    "WavFileSource",
    "check_vocabulary",
    "error_text",
    "grammar_languages",
    "load_grammar",
    "load_model",
    "model_vocabulary",
    "prepare_recognition",
    "resolve_model_dir",
]

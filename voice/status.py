"""Start-up of voice recognition, and what the box tells the elder about it.

`prepare_recognition()` loads the grammar and the model for the elder's language
and checks every grammar word against the model's vocabulary. It never raises for
a missing model: it returns a VoiceStatus whose `message()` the box shows on screen
and speaks once, and every other feature carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voice.errors import VoiceError, VoiceErrorCode
from voice.grammar import PhraseGrammar, load_grammar
from voice.models import DEFAULT_DOWNLOAD_TIMEOUT_S, LoadedModel, ModelSetting, load_model
from voice.vocabulary import VocabularyReport

log = logging.getLogger(__name__)

LANG_NAMES: dict[str, dict[str, str]] = {
    "zh": {"zh": "中文", "en": "Chinese", "ko": "중국어"},
    "en": {"zh": "英语", "en": "English", "ko": "영어"},
    "ko": {"zh": "韩语", "en": "Korean", "ko": "한국어"},
}

# Text per VoiceError.message_key and UI language; {lang_name} is the model's language.
MESSAGES: dict[str, dict[str, str]] = {
    "voice.error.no_model": {
        "zh": "没有{lang_name}语音识别模型，语音指令暂时不能用。遥控器的其他功能都正常。",
        "en": "There is no {lang_name} speech model, so voice commands are off. "
        "Everything else works with the remote.",
        "ko": "{lang_name} 음성 인식 모델이 없어 음성 명령을 쓸 수 없습니다. "
        "리모컨 기능은 모두 됩니다.",
    },
    "voice.error.model_load_failed": {
        "zh": "{lang_name}语音识别模型无法加载，语音指令暂时不能用。",
        "en": "The {lang_name} speech model could not be loaded, so voice commands are off.",
        "ko": "{lang_name} 음성 인식 모델을 불러오지 못해 음성 명령을 쓸 수 없습니다.",
    },
    "voice.error.grammar_not_found": {
        "zh": "还不支持用{lang_name}发语音指令。",
        "en": "Voice commands are not available in {lang_name} yet.",
        "ko": "{lang_name} 음성 명령은 아직 지원하지 않습니다.",
    },
    "voice.error.grammar_invalid": {
        "zh": "语音指令设置有误，语音指令暂时不能用。",
        "en": "The voice command settings are damaged, so voice commands are off.",
        "ko": "음성 명령 설정에 문제가 있어 음성 명령을 쓸 수 없습니다.",
    },
    "voice.error.audio_source_failed": {
        "zh": "麦克风不能用，语音指令暂时不能用。",
        "en": "The microphone is not working, so voice commands are off.",
        "ko": "마이크가 작동하지 않아 음성 명령을 쓸 수 없습니다.",
    },
    "voice.error.no_sound_device": {
        "zh": "扬声器不能用，提示只会显示在屏幕上。",
        "en": "The speaker is not working; prompts are shown on screen only.",
        "ko": "스피커가 작동하지 않아 안내는 화면에만 표시됩니다.",
    },
    "voice.error.synthesis_failed": {
        "zh": "语音播报出错，提示只会显示在屏幕上。",
        "en": "Spoken prompts failed; prompts are shown on screen only.",
        "ko": "음성 안내에 오류가 있어 안내는 화면에만 표시됩니다.",
    },
    "voice.error.unknown_language": {
        "zh": "不能用{lang_name}播报。",
        "en": "Prompts cannot be spoken in {lang_name}.",
        "ko": "{lang_name}로 안내할 수 없습니다.",
    },
}


def error_text(error: VoiceError, ui_lang: str) -> str:
    """The words the box shows and speaks for `error`, in `ui_lang` (English fallback)."""
    texts = MESSAGES.get(error.message_key, {})
    template = texts.get(ui_lang) or texts.get("en") or error.message
    model_lang = str(error.params.get("lang", ""))
    lang_name = LANG_NAMES.get(model_lang, {}).get(ui_lang, model_lang)
    return template.format(lang_name=lang_name)


@dataclass(frozen=True)
class VoiceStatus:
    """Whether voice commands work, and if not, why."""

    lang: str
    error: VoiceError | None = None
    vocabulary: VocabularyReport | None = None

    @property
    def available(self) -> bool:
        """True when voice commands can be used."""
        return self.error is None

    def message(self, ui_lang: str) -> str | None:
        """Text to show and speak once, or None when all is well."""
        return None if self.error is None else error_text(self.error, ui_lang)


@dataclass(frozen=True)
class RecognitionSetup:
    """What recognition start-up produced: a model and grammar, or the reason for none."""

    status: VoiceStatus
    model: LoadedModel | None = None
    grammar: PhraseGrammar | None = None


def prepare_recognition(
    setting: ModelSetting,
    *,
    allow_download: bool = True,
    download_timeout_s: float = DEFAULT_DOWNLOAD_TIMEOUT_S,
    cache_dirs: Iterable[Path] | None = None,
    grammar_dir: Path | None = None,
) -> RecognitionSetup:
    """Load grammar and model for the setting and check the vocabulary (blocking)."""
    try:
        grammar = (
            load_grammar(setting.lang)
            if grammar_dir is None
            else load_grammar(setting.lang, grammar_dir)
        )
        model = load_model(
            setting,
            allow_download=allow_download,
            download_timeout_s=download_timeout_s,
            cache_dirs=cache_dirs,
        )
        report = model.check_grammar(grammar)
    except VoiceError as err:
        log.warning("voice commands off: %s", err.message)
        return RecognitionSetup(status=VoiceStatus(lang=setting.lang, error=err))
    except Exception as err:  # a broken model must not take the box down
        log.exception("voice start-up failed")
        wrapped = VoiceError(
            VoiceErrorCode.MODEL_LOAD_FAILED, str(err), params={"lang": setting.lang}
        )
        return RecognitionSetup(status=VoiceStatus(lang=setting.lang, error=wrapped))
    if report.ok:
        log.info(report.describe())
    else:
        log.warning(report.describe())
    return RecognitionSetup(
        status=VoiceStatus(lang=setting.lang, vocabulary=report), model=model, grammar=grammar
    )

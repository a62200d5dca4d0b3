"""View-models without Kivy: focus, screens, speech, pairing states, language switching."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from protocol import BoxSettings, Lang
from tests.support.viewmodels import ELDER, RecordingSpeaker
from tvbox.box import AppViewModel, Screen
from tvbox.events import (
    ElderChanged,
    LinkState,
    LinkStateChanged,
    PairedWithElder,
    PairingCodeIssued,
    Unpaired,
    Welcomed,
)
from tvbox.home.view import HOME_TILES, HomeViewModel, Tile
from tvbox.notice.view import NoticeKind
from tvbox.outbox import Outbox
from tvbox.speech import Priority
from tvbox.store import BoxStore
from tvbox.ui.keys import RemoteAction as A

SOON = datetime.now(UTC) + timedelta(minutes=10)


def test_view_models_import_no_kivy() -> None:
    code = (
        "import sys, tvbox.box, tvbox.home.view, tvbox.link.pairing,"
        " tvbox.settings.view, tvbox.notice.view, tvbox.link.server_link;"
        " print('kivy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_home_grid_moves_with_arrows_and_stops_at_edges() -> None:
    home = HomeViewModel()
    assert home.focused is Tile.DOCTOR
    assert home.move(A.LEFT) is False and home.move(A.UP) is False
    assert home.move(A.RIGHT) and home.focused is Tile.MEDICINES
    assert home.move(A.RIGHT) and home.focused is Tile.APPOINTMENTS
    assert home.move(A.RIGHT) is False and home.focused is Tile.APPOINTMENTS
    assert home.move(A.DOWN) and home.focused is Tile.SOS
    assert home.move(A.DOWN) is False
    assert home.move(A.LEFT) and home.focused is Tile.FAMILY
    assert home.move(A.UP) and home.focused is Tile.MEDICINES
    assert len(HOME_TILES) == 6


def test_home_has_six_big_tiles_with_sos_in_red(paired_vm: AppViewModel) -> None:
    view = paired_vm.home.view(Lang.EN, "王秀英")
    labels = [t.label for t in view.tiles]
    assert labels == ["See a doctor", "Medicines", "Appointments", "Meals", "Family", "SOS"]
    assert [t.alert for t in view.tiles] == [False] * 5 + [True]
    assert [t.focused for t in view.tiles] == [True] + [False] * 5
    assert view.greeting == "Hello, 王秀英"


def test_arrows_announce_the_focused_tile(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    paired_vm.handle(A.RIGHT)
    assert paired_vm.focus_name() == "medicines"
    assert speaker.said[-1] == ("Medicines", "en", Priority.LOW)


def test_ok_on_meals_opens_it_and_back_returns_home(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    paired_vm.handle(A.DOWN)  # Meals
    paired_vm.handle(A.OK)
    assert paired_vm.screen is Screen.MEALS
    assert "No meal point serves your home yet." in speaker.last
    paired_vm.handle(A.BACK)
    assert paired_vm.screen is Screen.HOME
    assert paired_vm.focus_name() == "meals"  # focus is kept where the elder left it


def test_a_feature_not_built_yet_says_coming_soon(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    paired_vm.coming_soon("tile.meals")
    assert paired_vm.screen is Screen.NOTICE
    assert paired_vm.notice.kind is NoticeKind.COMING_SOON
    assert "Coming soon" in speaker.last
    paired_vm.handle(A.BACK)
    assert paired_vm.screen is Screen.HOME


def test_digits_open_the_numbered_tile(paired_vm: AppViewModel) -> None:
    paired_vm.handle(A.DIGIT_4)
    assert paired_vm.screen is Screen.MEALS
    paired_vm.handle(A.BACK)
    paired_vm.handle(A.DIGIT_3)
    assert paired_vm.screen is Screen.APPOINTMENTS
    paired_vm.handle(A.BACK)
    paired_vm.handle(A.DIGIT_9)  # no tile 9: nothing happens
    assert paired_vm.screen is Screen.HOME


def test_back_never_leaves_home_or_pairing(vm: AppViewModel, paired_vm: AppViewModel) -> None:
    for _ in range(3):
        paired_vm.handle(A.BACK)
        vm.handle(A.BACK)
    assert paired_vm.screen is Screen.HOME
    assert vm.screen is Screen.PAIRING


def test_home_and_yellow_keys_go_home_from_anywhere(paired_vm: AppViewModel) -> None:
    paired_vm.handle(A.BLUE)
    assert paired_vm.screen is Screen.SETTINGS
    paired_vm.handle(A.HOME)
    assert paired_vm.screen is Screen.HOME
    paired_vm.handle(A.DIGIT_1)
    paired_vm.handle(A.YELLOW)
    assert paired_vm.screen is Screen.HOME


def test_green_repeats_the_prompt(vm: AppViewModel, speaker: RecordingSpeaker) -> None:
    vm.handle_link_event(PairingCodeIssued("483920", SOON))
    speaker.said.clear()
    vm.handle(A.GREEN)
    vm.handle(A.OK)
    assert [s[0] for s in speaker.said] == [
        "To connect this TV, ask your family to enter this code: 4, 8, 3, 9, 2, 0."
    ] * 2


def test_pairing_flow_shows_code_then_goes_home(
    vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    vm.start()
    assert vm.screen is Screen.PAIRING
    assert speaker.last == "Getting a pairing code. Please wait."
    vm.handle_link_event(LinkStateChanged(LinkState.CONNECTING))
    assert vm.pairing.view(vm.lang, server_reachable=True).status == "Getting a code…"
    vm.handle_link_event(PairingCodeIssued("483920", SOON))
    assert vm.snapshot()["pairing_code"] == "483920"
    assert vm.pairing.view(vm.lang, server_reachable=True).code == "4 8 3 9 2 0"
    assert "4, 8, 3, 9, 2, 0" in speaker.last

    vm.store.save_pairing(3, "tok", ELDER)  # the link stores the token before telling the app
    vm.handle_link_event(PairedWithElder(3, ELDER))
    assert vm.screen is Screen.HOME
    assert vm.lang is Lang.ZH  # the elder's language, as the box had no choice of its own
    assert speaker.said[-2][0] == "已连接。欢迎您，王秀英。"
    assert vm.pairing.code is None


def test_revocation_returns_to_pairing_and_says_why(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    paired_vm.store.forget_pairing()
    paired_vm.handle_link_event(Unpaired("revoked"))
    assert paired_vm.screen is Screen.PAIRING
    assert paired_vm.elder is None
    assert speaker.last == "Your family disconnected this TV. Getting a new code."
    assert paired_vm.pairing.view(Lang.EN, server_reachable=True).title == (
        "This TV was disconnected. Connect it again"
    )
    paired_vm.handle_link_event(PairingCodeIssued("111222", SOON))
    assert "1, 1, 1, 2, 2, 2" in speaker.last


def test_service_ended_by_the_care_centre_is_said_so(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    # The operator deactivated the elder: the box is unpaired, and says who did it and why.
    paired_vm.store.forget_pairing()
    paired_vm.handle_link_event(Unpaired("service_ended"))
    assert paired_vm.screen is Screen.PAIRING
    assert speaker.last.startswith("The care centre has ended the service for this TV.")
    title = "The care service for this TV has ended"
    assert paired_vm.pairing.view(Lang.EN, server_reachable=True).title == title
    paired_vm.handle_link_event(PairingCodeIssued("111222", SOON))
    assert paired_vm.pairing.view(Lang.EN, server_reachable=True).title == title


def test_unreachable_server_is_said_on_the_pairing_screen(vm: AppViewModel) -> None:
    view = vm.pairing.view(vm.lang, server_reachable=False)
    assert view.status == "Cannot reach the Anxin server. Trying again…"
    assert vm.badge().label == "Offline — reconnecting"


def test_switching_language_is_stored_queued_and_spoken(
    paired_vm: AppViewModel, speaker: RecordingSpeaker
) -> None:
    woken: list[bool] = []
    paired_vm.on_outbox_added = lambda: woken.append(True)
    paired_vm.handle(A.BLUE)
    assert paired_vm.focus_name() == "en"
    paired_vm.handle(A.UP)
    paired_vm.handle(A.OK)
    assert paired_vm.lang is Lang.ZH
    assert paired_vm.store.ui_lang is Lang.ZH
    pending = paired_vm.outbox.pending()
    assert len(pending) == 1 and isinstance(pending[0].message, BoxSettings)
    assert pending[0].message.lang is Lang.ZH
    assert woken == [True]
    assert speaker.said[-1][:2] == ("已切换为中文。", "zh")
    assert paired_vm.badge().label == "断线 — 正在重连"
    paired_vm.handle(A.BACK)
    assert paired_vm.screen is Screen.HOME


def test_explicit_choice_beats_the_elder_record(paired_vm: AppViewModel) -> None:
    paired_vm.handle_link_event(ElderChanged(ELDER.model_copy(update={"lang": Lang.ZH})))
    assert paired_vm.lang is Lang.ZH  # no choice on the box: follow the elder record
    paired_vm.choose_lang(Lang.EN)
    paired_vm.handle_link_event(ElderChanged(ELDER.model_copy(update={"lang": Lang.ZH})))
    assert paired_vm.lang is Lang.EN


def test_welcome_updates_the_elder_and_badge(paired_vm: AppViewModel) -> None:
    changes: list[str] = []
    paired_vm.subscribe(lambda: changes.append(paired_vm.badge().label))
    renamed = ELDER.model_copy(update={"name": "王阿姨", "lang": Lang.EN})
    paired_vm.handle_link_event(Welcomed(7, renamed))
    paired_vm.handle_link_event(LinkStateChanged(LinkState.ONLINE))
    assert paired_vm.home.view(paired_vm.lang, paired_vm.elder.name).greeting == "Hello, 王阿姨"  # type: ignore[union-attr]
    assert changes[-1] == "Online"


def test_the_tv_speaks_at_the_elders_rate_and_volume(
    store: BoxStore, speaker: RecordingSpeaker
) -> None:
    # Unpaired: the box's own default, slower than espeak-ng's 175 words a minute.
    AppViewModel(store, Outbox(store), speaker)
    assert speaker.voice == (140, 1.0)
    slow = ELDER.model_copy(update={"speech_rate_wpm": 100, "speech_volume_pct": 70})
    vm = AppViewModel(store, Outbox(store), speaker)
    vm.handle_link_event(PairedWithElder(7, slow))
    assert speaker.voice == (100, 0.7)
    vm.handle_link_event(ElderChanged(slow.model_copy(update={"speech_rate_wpm": 170})))
    assert speaker.voice == (170, 0.7)
    assert vm.snapshot()["speech"] == {"rate_wpm": 170, "volume_pct": 70}
    vm.handle_link_event(Welcomed(7, slow))
    assert speaker.voice == (100, 0.7)
    # A box that starts from its stored record speaks so before it reaches the server.
    store.save_pairing(7, "token-7", slow)
    AppViewModel(store, Outbox(store), speaker)
    assert speaker.voice == (100, 0.7)


def test_starting_unpaired_or_paired_picks_the_first_screen(store: BoxStore) -> None:
    speaker = RecordingSpeaker()
    assert AppViewModel(store, Outbox(store), speaker).screen is Screen.PAIRING
    store.save_pairing(1, "t", ELDER)
    assert AppViewModel(store, Outbox(store), speaker).screen is Screen.HOME


def test_no_screen_offers_more_than_six_choices(paired_vm: AppViewModel) -> None:
    assert len(paired_vm.home.view(Lang.ZH, None).tiles) <= 6
    assert len(paired_vm.settings.view(Lang.ZH).options) <= 6


def test_config_derives_the_socket_url_and_refuses_bad_sizes() -> None:
    import pytest

    from tvbox.config import BoxConfig

    config = BoxConfig(server_url="https://anxin.example/", size="1280x720")
    assert config.ws_url == "wss://anxin.example/ws/box"
    assert config.window_size == (1280, 720)
    assert BoxConfig(server_url="http://127.0.0.1:8000").ws_url == "ws://127.0.0.1:8000/ws/box"
    with pytest.raises(ValueError):
        BoxConfig(size="big")

"""The family home, read as a family member reads it: what is urgent on top (an open SOS, a
missed dose, an unreturned call), then each elder's today, then closed panels; pairing first
for an elder with no TV box. Server-rendered, no browser (see test_family_home_browser.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from protocol import CallEndReason, CallKind, DoseOutcome, SosRaise, SosSource
from server.calls import pages as call_pages
from server.models import Call, CallStatus, Device, Elder, MedicationPlan
from server.reminders import pages as reminder_pages
from server.reminders.doses import record_outcome
from server.runtime import Runtime
from server.sos.alerts import store_alert
from tests.server.test_reminders_sweep import add_plan
from tests.support.world import PASSWORD, World, make_device

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 12:30 in Shanghai: the 08:00 dose is past, the 20:00 one still to come.
NOW = datetime(2026, 11, 22, 12, 30, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def family(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """Elder A's daughter, logged in, at NOW, reading the page in English."""
    monkeypatch.setattr(reminder_pages, "utcnow", lambda: NOW)
    monkeypatch.setattr(call_pages, "utcnow", lambda: NOW)
    client.post("/login", data={"email": world.family_a.email, "password": PASSWORD})
    return client


def home(client: TestClient) -> str:
    response = client.get("/family?lang=en", headers={"accept": "text/html"})
    assert response.status_code == 200
    return response.text


def position(page: str, element_id: str) -> int:
    match = re.search(rf'id="{re.escape(element_id)}"', page)
    assert match is not None, f"#{element_id} is not on the page"
    return match.start()


def text_of(page: str, element_id: str) -> str:
    """The words inside the element (tags dropped, spaces squeezed) up to its closing tag."""
    start = position(page, element_id)
    tag = re.match(r"<(\w+)", page[page.rfind("<", 0, start) :])
    assert tag is not None
    end = page.index(f"</{tag[1]}>", start)
    words = re.sub(r"<[^>]+>", " ", page[start:end].split(">", 1)[1])
    return " ".join(words.split())


def paired(rt: Runtime, elder: Elder) -> int:
    with rt.db.session() as db:
        return make_device(db, elder)[1]


def plan_0800_2000(rt: Runtime, elder: Elder) -> int:
    return add_plan(rt, elder.id, (time(8, 0), time(20, 0)), since=NOW - timedelta(days=3))


def missed_0800(rt: Runtime, plan_id: int) -> None:
    local = datetime(2026, 11, 22, 8, 0)
    with rt.db.session() as db:
        plan = db.get(MedicationPlan, plan_id)
        assert plan is not None
        at = local.replace(tzinfo=SHANGHAI).astimezone(UTC)
        record_outcome(db, plan, local, at, DoseOutcome.MISSED, None)


def test_an_elder_without_a_box_gets_pairing_first(family: TestClient, world: World) -> None:
    page = home(family)
    assert position(page, "pair") < position(page, f"elder-{world.elder_a.id}")
    assert position(page, "pair-code") < position(page, "panels")
    assert f"Pair {world.elder_a.name}&#39;s TV box" in page or "Pair " in text_of(page, "pair")
    assert text_of(page, f"box-state-{world.elder_a.id}") == "No TV box yet"
    # No call link to a TV that does not exist.
    assert f'id="glance-call-{world.elder_a.id}"' not in page


def test_with_a_box_pairing_moves_into_a_closed_panel(
    family: TestClient, world: World, rt: Runtime
) -> None:
    paired(rt, world.elder_a)
    page = home(family)
    assert position(page, f"elder-{world.elder_a.id}") < position(page, "panel-pair")
    assert '<details class="panel" id="panel-pair">' in page  # closed until asked for
    assert text_of(page, f"box-state-{world.elder_a.id}").startswith("TV box offline")
    assert f'href="/family/call/{world.elder_a.id}?start=1"' in page


def test_the_glance_counts_todays_doses_and_names_the_next(
    family: TestClient, world: World, rt: Runtime
) -> None:
    paired(rt, world.elder_a)
    plan_0800_2000(rt, world.elder_a)
    page = home(family)
    doses = text_of(page, f"glance-doses-{world.elder_a.id}")
    assert doses == "Medicines today: 0 of 1 taken"  # 08:00 due and unanswered, 20:00 to come
    assert text_of(page, f"glance-next-{world.elder_a.id}").startswith("Next dose 20:00 Metformin")
    assert "urgent-dose" not in page  # due is not missed yet


def test_a_missed_dose_is_a_banner_above_the_glance_with_a_call(
    family: TestClient, world: World, rt: Runtime
) -> None:
    paired(rt, world.elder_a)
    missed_0800(rt, plan_0800_2000(rt, world.elder_a))
    page = home(family)
    banner = text_of(page, f"urgent-dose-{world.elder_a.id}")
    assert f"{world.elder_a.name} missed a medicine today" in banner
    assert "Metformin · 08:00" in banner
    assert position(page, f"urgent-dose-{world.elder_a.id}") < position(
        page, f"elder-{world.elder_a.id}"
    )
    assert (
        f'id="urgent-dose-call-{world.elder_a.id}" href="/family/call/{world.elder_a.id}?start=1"'
        in page
    )
    assert text_of(page, f"glance-doses-{world.elder_a.id}") == (
        "Medicines today: 0 of 1 taken 1 missed"
    )


def test_yesterdays_missed_dose_is_no_banner_today(
    family: TestClient, world: World, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    paired(rt, world.elder_a)
    missed_0800(rt, plan_0800_2000(rt, world.elder_a))
    monkeypatch.setattr(reminder_pages, "utcnow", lambda: NOW + timedelta(days=1))
    assert "urgent-dose" not in home(family)


def test_an_open_sos_is_the_top_banner_until_resolved(
    family: TestClient, world: World, rt: Runtime
) -> None:
    device_id = paired(rt, world.elder_a)
    with rt.db.session() as db:
        elder, device = db.get(Elder, world.elder_a.id), db.get(Device, device_id)
        assert elder is not None and device is not None
        alert, _ = store_alert(
            db, elder, device, SosRaise(key="sos-home-0001", source=SosSource.RED_KEY), 60
        )
        alert_id = alert.id
    page = home(family)
    banner = text_of(page, f"urgent-sos-{alert_id}")
    assert banner.startswith(f"SOS from {world.elder_a.name}")
    assert "Nobody has acknowledged it yet." in banner
    for action in ("call", "map", "ack"):
        assert position(page, f"urgent-sos-{action}-{alert_id}") < position(page, "glance")
    assert f'href="#sos-alert-{alert_id}"' in page  # the map, in the alerts panel

    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    family.post(f"/sos/alerts/{alert_id}/acknowledge", data={"csrf": csrf[1]})
    page = home(family)
    assert f"{world.family_a.name} is on it." in text_of(page, f"urgent-sos-{alert_id}")
    assert f'id="urgent-sos-ack-{alert_id}"' not in page

    family.post(
        f"/sos/alerts/{alert_id}/resolve",
        data={"csrf": csrf[1], "outcome": "false_alarm", "note": ""},
    )
    assert f'id="urgent-sos-{alert_id}"' not in home(family)


def test_another_familys_sos_is_not_shown(family: TestClient, world: World, rt: Runtime) -> None:
    device_id = paired(rt, world.elder_b)
    with rt.db.session() as db:
        elder, device = db.get(Elder, world.elder_b.id), db.get(Device, device_id)
        assert elder is not None and device is not None
        store_alert(db, elder, device, SosRaise(key="sos-other-001", source=SosSource.RED_KEY), 60)
    assert "urgent-sos" not in home(family)


def add_call(rt: Runtime, elder: Elder, device_id: int, at: datetime, answered: bool) -> int:
    with rt.db.session() as db:
        call = Call(
            kind=CallKind.FAMILY,
            status=CallStatus.ENDED,
            elder_id=elder.id,
            device_id=device_id,
            from_elder=True,
            requested_at=at,
            answered_at=at + timedelta(seconds=5) if answered else None,
            ended_at=at + timedelta(minutes=1),
            end_reason=CallEndReason.HUNG_UP if answered else CallEndReason.UNANSWERED,
        )
        db.add(call)
        db.flush()
        return call.id


def test_a_missed_call_is_a_banner_until_a_later_call_is_answered(
    family: TestClient, world: World, rt: Runtime
) -> None:
    device_id = paired(rt, world.elder_a)
    add_call(rt, world.elder_a, device_id, NOW - timedelta(hours=2), answered=False)
    page = home(family)
    banner = text_of(page, f"urgent-call-{world.elder_a.id}")
    assert banner.startswith(f"{world.elder_a.name} called and nobody answered 10:30")
    assert (
        f'id="urgent-call-back-{world.elder_a.id}" href="/family/call/{world.elder_a.id}?start=1"'
        in page
    )

    add_call(rt, world.elder_a, device_id, NOW - timedelta(hours=1), answered=True)
    assert "urgent-call-" not in home(family)


def test_a_missed_call_of_two_days_ago_is_no_banner(
    family: TestClient, world: World, rt: Runtime
) -> None:
    device_id = paired(rt, world.elder_a)
    add_call(rt, world.elder_a, device_id, NOW - timedelta(days=2), answered=False)
    page = home(family)
    assert "urgent-call-" not in page
    assert 'id="missed-call-' in page  # still listed in the calls panel


def test_panels_come_closed_after_the_glance(family: TestClient, world: World, rt: Runtime) -> None:
    paired(rt, world.elder_a)
    page = home(family)
    glance = position(page, "glance")
    for panel in (
        "panel-reminders",
        "panel-calls",
        "panel-sos",
        f"panel-box-{world.elder_a.id}",
        f"panel-speech-{world.elder_a.id}",
        f"panel-about-{world.elder_a.id}",
    ):
        assert position(page, panel) > glance
        assert f'<details class="panel" id="{panel}">' in page, f"{panel} is open"
    assert f'<details class="form-panel" id="med-form-panel-{world.elder_a.id}">' in page


def test_times_are_in_the_elders_zone_named_for_a_viewer_elsewhere(
    family: TestClient, world: World, rt: Runtime
) -> None:
    paired(rt, world.elder_a)
    plan_0800_2000(rt, world.elder_a)
    family.cookies.set("anxin_tz", "Europe/London")
    page = home(family)
    assert "(Beijing time)" in text_of(page, f"glance-next-{world.elder_a.id}")
    assert " UTC" not in page
    family.cookies.set("anxin_tz", "Asia/Shanghai")
    assert "Beijing time" not in text_of(home(family), f"glance-next-{world.elder_a.id}")

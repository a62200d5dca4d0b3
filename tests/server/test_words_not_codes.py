"""People read words, not codes: no page, e-mail or text shows a raw enum value.

A world with an open SOS from every source (one escalated to its last level), a closed alert
with every outcome, calls with every ending, a missed dose, and elders in both languages;
every page is rendered as each role in both languages, and everything in the outgoing queue
(texts, e-mail subjects and bodies) is read. A failure names the code and where it was seen.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import (
    CallEndReason,
    CallKind,
    DoseOutcome,
    Lang,
    PlanStatus,
    Role,
    Schedule,
    SosRaise,
    SosSource,
)
from server.calls.elder_call import end_unanswered
from server.meals import ordering
from server.meals.ordering import Orderer
from server.models import (
    Allergen,
    Call,
    CallStatus,
    Channel,
    Device,
    DishTag,
    Elder,
    ElderDiet,
    MealMode,
    MealOrderStatus,
    MedicationPlan,
    OrderedBy,
    OutgoingMessage,
    SosAlert,
    SosOutcome,
    SosStepKind,
    utcnow,
)
from server.reminders.sweep import run_sweep
from server.runtime import Runtime
from server.sos.alerts import acknowledge, resolve, store_alert
from server.sos.delivery import claim_escalation, claim_fanout, queue_handled
from server.sos.messages import SENSOR_KINDS
from tests.conftest import bearer
from tests.server.meals_world import ALWAYS_OPEN_TOMORROW, make_meal_point, make_menu
from tests.support.waiting import wait_until
from tests.support.world import PASSWORD, World, add_escalation_chain, make_device

# Enums whose values people must never read; values that are ordinary words ("open",
# "family", "active") cannot be told from prose, so only the code-like ones are scanned.
ENUMS: tuple[type[StrEnum], ...] = (
    SosSource,
    SosOutcome,
    SosStepKind,
    CallEndReason,
    CallStatus,
    DoseOutcome,
    PlanStatus,
    Channel,
    Role,
    CallKind,
    DishTag,
    Allergen,
    MealMode,
    MealOrderStatus,
)
ALSO = {"zh", "en", "sms", *(k for k in SENSOR_KINDS if "_" in k)}
# Codes in disguise: an escalation level or a device by number, raw UTC, a head count in brackets.
SHAPES = {
    "escalation level as a number": re.compile(r"\blevel \d+\b|升级级别\s*\d"),
    "device by number": re.compile(r"\bdevice \d+\b|#\d+\b"),
    "a time in UTC": re.compile(r"\bUTC\b"),
    "a head count in brackets": re.compile(r"\(\d+ people\)"),
    "an IANA zone name": re.compile(r"\b(?:Asia|Europe|America)/[A-Z][a-z_]+"),
}


# The audit log's heading names its zone by IANA name for administrators (the staff-pages
# time-zone work owns that line).
ALLOWED = {("/admin/audit", "an IANA zone name")}


def codes() -> set[str]:
    """The raw values a person must not read."""
    values = {v.value for enum in ENUMS for v in enum if "_" in v.value} | ALSO
    return values


def offences(text: str) -> list[str]:
    """What in ``text`` is a code, by name."""
    found = [
        f"code {code!r}"
        for code in sorted(codes())
        if re.search(rf"(?<![\w/.-]){re.escape(code)}(?![\w/.-])", text)
    ]
    found += [f"{name} ({m.group(0)!r})" for name, p in SHAPES.items() if (m := p.search(text))]
    return found


class _Seen(HTMLParser):
    """What a person sees of a page: its text and its labels, not its scripts or values."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def seen(html: str) -> str:
    parser = _Seen()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def scene(rt: Runtime, world: World) -> dict[str, int]:
    """Open alerts from every source, closed ones with every outcome, calls, a missed dose."""
    now = utcnow()
    with rt.db.session() as db:
        add_escalation_chain(db, world)
        boxes = {}
        for elder in (world.elder_a, world.elder_b):
            boxes[elder.id] = db.get(Device, make_device(db, elder)[1])
        sources = list(SosSource)
        alerts = []
        for n, source in enumerate(sources + [SosSource.RED_KEY] * len(SosOutcome)):
            elder = world.elder_a if n % 2 == 0 else world.elder_b
            detail = "bed_exit 2" if source is SosSource.SENSOR else ""
            raised = SosRaise(key=f"words-{n:04d}", source=source, detail=detail, occurred_at=now)
            alert, _ = store_alert(db, elder, boxes[elder.id], raised, 60)
            alerts.append(alert.id)
        db.commit()
    base = rt.settings.public_base_url
    for alert_id in alerts:
        with rt.db.session() as db:
            assert claim_fanout(db, alert_id, now, base) is not None
    # The first alert (elder A's) escalates through both contacts to the supervisors.
    for step in range(1, 4):
        with rt.db.session() as db:
            later = now + timedelta(seconds=61 * step)
            assert claim_escalation(db, alerts[0], 60, later, base) is not None
    with rt.db.session() as db:
        operator = {world.elder_a.id: world.operator_a, world.elder_b.id: world.operator_b}
        acknowledge(db, world.family_a, alerts[2])
        for outcome, alert_id in zip(SosOutcome, alerts[len(sources) :], strict=True):
            elder_id = world.elder_a.id if alerts.index(alert_id) % 2 == 0 else world.elder_b.id
            resolve(db, operator[elder_id], alert_id, outcome, "")
        # The family hears who is handling an alert (here elder B's son, of the operator).
        handled = db.get(SosAlert, alerts[len(sources) + 1])
        assert handled is not None and handled.elder_id == world.elder_b.id
        assert queue_handled(db, handled, world.elder_b, base)
        for reason in CallEndReason:
            db.add(
                Call(
                    kind=CallKind.FAMILY,
                    status=CallStatus.ENDED,
                    elder_id=world.elder_a.id,
                    device_id=boxes[world.elder_a.id].id,
                    from_elder=True,
                    requested_at=now,
                    ended_at=now,
                    end_reason=reason,
                )
            )
        since = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
        plan = MedicationPlan(
            elder_id=world.elder_a.id,
            medicine="Metformin",
            schedule=Schedule(times=(time(8, 0),), start_date=since.date()).model_dump_json(),
            window_minutes=30,
            status=PlanStatus.ACTIVE,
            active_since=since,
            created_at=since,
            updated_at=since,
        )
        db.add(plan)
        db.commit()
    assert run_sweep(rt, datetime(2026, 11, 22, 0, 31, tzinfo=UTC))
    with rt.db.session() as db:  # a call from the TV nobody answered
        ringing = Call(
            kind=CallKind.FAMILY,
            status=CallStatus.RINGING,
            elder_id=world.elder_a.id,
            device_id=boxes[world.elder_a.id].id,
            from_elder=True,
            requested_at=now,
        )
        db.add(ringing)
        db.flush()
        ringing_id = ringing.id
    assert end_unanswered(rt.db, ringing_id) is not None
    with rt.db.session() as db:  # meals: a diet, tomorrow's offer, a delivered order
        elder = db.get(Elder, world.elder_a.id)
        assert elder is not None
        elder.latitude, elder.longitude = 39.905, 116.4
        db.add(ElderDiet(elder_id=elder.id, low_salt=True, soft=True, allergens="peanut,tree_nut"))
        point = make_meal_point(db, world.area_a.id, lunch_cutoff=ALWAYS_OPEN_TOMORROW)
        tomorrow = now.astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
        _, dishes = make_menu(db, point, tomorrow)
        family = Orderer(OrderedBy.FAMILY, "user:words", Lang.EN, user_id=world.family_a.id)
        ordering.place(db, family, elder, dishes["Tomato and egg"], MealMode.DELIVERY, "w", now)
        db.commit()
    return {"open": alerts[0], "handled": handled.id}


PAGES = {
    Role.FAMILY: ["/family", "/account", "/family/call/{elder}"],
    Role.OPERATOR: [
        "/operator",
        "/elders",
        "/elders/{elder}/edit",
        "/elders/new",
        "/account",
        "/meals/area",
    ],
    Role.DOCTOR: ["/doctor", "/doctor/consults", "/account"],
    Role.ADMIN: ["/admin", "/admin/staff", "/operator", "/elders", "/admin/audit", "/account"],
}


@pytest.fixture
def scenario(rt: Runtime, world: World) -> dict[str, int]:
    return scene(rt, world)


def test_no_page_shows_a_code_in_either_language(
    client: TestClient, world: World, scenario: dict[str, int]
) -> None:
    users = {
        Role.FAMILY: [world.family_a, world.family_b],
        Role.OPERATOR: [world.operator_a, world.operator_b],
        Role.DOCTOR: [world.doctor_a],
        Role.ADMIN: [world.admin],
    }
    problems = []
    looked = 0
    for role, people in users.items():
        for user in people:
            client.cookies.clear()
            login = {"email": user.email, "password": PASSWORD}
            assert client.post("/login", data=login, follow_redirects=False).status_code == 303
            elder = world.elder_a if user in (world.family_a, world.operator_a) else world.elder_b
            for lang in Lang:
                for path in PAGES[role]:
                    url = path.format(elder=elder.id) + f"?lang={lang.value}"
                    page = client.get(url)
                    assert page.status_code == 200, f"{url} as {role.value}: {page.status_code}"
                    looked += 1
                    text = seen(page.text)
                    problems += [
                        f"{url} as {user.name}: {o}"
                        for o in offences(text)
                        if not any(p == path and o.startswith(kind) for p, kind in ALLOWED)
                    ]
    assert looked > 20
    assert not problems, "codes shown to people:\n" + "\n".join(problems)


def test_the_operator_board_says_levels_sources_and_steps_in_words(
    client: TestClient, world: World, scenario: dict[str, int]
) -> None:
    login = {"email": world.operator_a.email, "password": PASSWORD}
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303
    text = seen(client.get("/operator?lang=en").text)
    assert "Now alerting: Area supervisors" in text
    assert "Emergency contact 2: 王强" in text
    assert "red key" in text and "voice" in text
    # the unanswered alert comes before the one someone is handling
    assert text.index("SOS — not yet acknowledged") < text.index("SOS — acknowledged")
    zh = seen(client.get("/operator?lang=zh").text)
    assert "正在通知：片区主管" in zh and "红色按键" in zh


def test_nothing_sent_to_a_person_shows_a_code(
    rt: Runtime, world: World, scenario: dict[str, int]
) -> None:
    with rt.db.session() as db:
        sent = db.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)).all()
        messages = [(m.key, m.channel, m.recipient, m.subject, m.body) for m in sent]
    kinds = {key.split(":")[0] for key, *_ in messages}
    assert {"sos", "dose-missed", "call-missed"} <= kinds, kinds
    assert any(channel is Channel.TEXT for _, channel, *_ in messages)
    problems = [
        f"{key} to {to}: {o}"
        for key, _, to, subject, body in messages
        for o in offences(f"{subject}\n{body}")
    ]
    assert not problems, "codes sent to people:\n" + "\n".join(problems)


def test_an_sos_message_says_who_what_when_who_knows_and_where_to_press(
    rt: Runtime, world: World, scenario: dict[str, int]
) -> None:
    with rt.db.session() as db:
        mails = {
            m.recipient: m
            for m in db.scalars(
                select(OutgoingMessage).where(
                    OutgoingMessage.key.like(f"sos:{scenario['open']}:L0:email:%")
                )
            )
        }
        daughter = mails[world.family_a.email]
        texts = db.scalars(
            select(OutgoingMessage.body).where(
                OutgoingMessage.key.like(f"sos:{scenario['open']}:L1:text:%")
            )
        ).all()
    # family_a reads English: who, what, when in Beijing time, who knows, a link to the alert
    assert daughter.subject == "SOS: 王秀英 pressed the red SOS key"
    assert "(Beijing time)" in daughter.body
    assert "operators on duty and 1 family member(s) have been told" in daughter.body
    assert f"/family#sos-alert-{scenario['open']}" in daughter.body
    assert daughter.body.startswith("王秀英 pressed the red SOS key at ")
    # the first contact (no account) is told in the elder's language that nobody answered yet
    assert texts and "紧急联系人" in texts[0] and "北京时间" in texts[0]


def test_the_call_pages_have_words_for_every_ending_and_language(
    client: TestClient, world: World
) -> None:
    """calls.js shows why a call ended and the queue's language from words the page carries."""
    pages = {world.family_a: f"/family/call/{world.elder_a.id}", world.doctor_a: "/doctor/consults"}
    for user, path in pages.items():
        client.cookies.clear()
        login = {"email": user.email, "password": PASSWORD}
        assert client.post("/login", data=login, follow_redirects=False).status_code == 303
        for lang in Lang:
            page = client.get(f"{path}?lang={lang.value}").text
            wanted = [f"end-{r.value.replace('_', '-')}" for r in CallEndReason]
            wanted += [f"lang-{code.value}" for code in Lang]
            for name in wanted:
                found = re.search(rf'data-text-{name}="([^"]+)"', page)
                assert found, f"{path} ({lang.value}) has no words for {name}"
                assert not offences(found.group(1)), (path, name, found.group(1))


def test_the_family_hears_who_is_handling_an_sos(
    rt: Runtime, world: World, scenario: dict[str, int]
) -> None:
    with rt.db.session() as db:
        mails = db.scalars(
            select(OutgoingMessage).where(
                OutgoingMessage.key.like(f"sos:{scenario['handled']}:handled:email:%")
            )
        ).all()
        seen_by = [(m.recipient, m.subject, m.body) for m in mails]
    assert [to for to, *_ in seen_by] == [world.family_b.email], "the son, once"
    _, subject, body = seen_by[0]
    assert subject == f"Margaret's SOS: {world.operator_b.name} is handling it"
    assert f"{world.operator_b.name} (Care-centre operator) acknowledged Margaret's SOS" in body
    assert "(Beijing time)" in body and f"/family#sos-alert-{scenario['handled']}" in body


def test_an_operator_taking_an_sos_e_mails_the_family_once(
    rt: Runtime, client: TestClient, world: World
) -> None:
    with rt.db.session() as db:
        device = db.get(Device, make_device(db, world.elder_b)[1])
        raised = SosRaise(key="handled-0001", source=SosSource.VOICE)
        alert, _ = store_alert(db, world.elder_b, device, raised, 60)
        alert_id = alert.id
    headers = bearer(client, world.operator_b.email)
    for _ in range(2):  # a second press changes nothing
        taken = client.post(f"/api/sos/alerts/{alert_id}/acknowledge", headers=headers)
        assert taken.status_code == 200, taken.text

    def sent() -> list[tuple[str, str]]:
        with rt.db.session() as db:
            rows = db.scalars(
                select(OutgoingMessage).where(
                    OutgoingMessage.key.like(f"sos:{alert_id}:handled:%"),
                    OutgoingMessage.sent_at.is_not(None),
                )
            ).all()
            return [(m.recipient, m.subject) for m in rows]

    mails = wait_until(sent, what="the family e-mailed who is handling it")
    assert mails == [
        (world.family_b.email, f"Margaret's SOS: {world.operator_b.name} is handling it")
    ]

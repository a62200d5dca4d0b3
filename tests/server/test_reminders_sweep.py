"""Missed doses: found on time (any timezone, across DST), alerted exactly once by e-mail
and live, and dose answers from a box stored exactly once however often they are resent."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from protocol import (
    Ack,
    ClientKind,
    DoseAlert,
    DoseAnswer,
    DoseOutcome,
    Hello,
    PlanStatus,
    Role,
    Schedule,
    Welcome,
    answer_key,
)
from server.core.config import Settings
from server.models import DoseRecord, MedicationPlan, User
from server.reminders.doses import record_outcome
from server.reminders.sweep import run_sweep
from server.runtime import Runtime
from tests.server.test_box_socket import pair_box, recv, send
from tests.support.smtp import smtp_server
from tests.support.world import World, make_user
from tests.support.world import link as link_family


def add_plan(
    rt: Runtime,
    elder_id: int,
    times: tuple[time, ...],
    since: datetime,
    start: date = date(2026, 1, 1),
    window: int = 30,
) -> int:
    with rt.db.session() as db:
        plan = MedicationPlan(
            elder_id=elder_id,
            medicine="Metformin",
            schedule=Schedule(times=times, start_date=start).model_dump_json(),
            window_minutes=window,
            status=PlanStatus.ACTIVE,
            active_since=since,
            created_at=since,
            updated_at=since,
        )
        db.add(plan)
        db.flush()
        return plan.id


def outcomes(rt: Runtime, plan_id: int) -> list[tuple[str, str]]:
    with rt.db.session() as db:
        rows = db.execute(
            select(DoseRecord.scheduled_local, DoseRecord.outcome)
            .where(DoseRecord.plan_id == plan_id)
            .order_by(DoseRecord.scheduled_at)
        ).all()
    return [(local, outcome.value) for local, outcome in rows]


def test_missed_only_after_the_window_and_taken_doses_are_not_missed(
    rt: Runtime, world: World
) -> None:
    since = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    plan_id = add_plan(rt, world.elder_a.id, (time(8, 0), time(9, 0)), since)
    # 08:00 Shanghai = 00:00 UTC. At 00:29 nothing is missed yet; at 00:31 the 08:00 dose is.
    assert run_sweep(rt, datetime(2026, 11, 22, 0, 29, tzinfo=UTC)) == []
    with rt.db.session() as db:
        plan = db.get(MedicationPlan, plan_id)
        assert plan is not None
        record_outcome(
            db,
            plan,
            datetime(2026, 11, 22, 9, 0),
            datetime(2026, 11, 22, 1, 0, tzinfo=UTC),
            DoseOutcome.TAKEN,
            datetime(2026, 11, 22, 1, 2, tzinfo=UTC),
        )
    missed = run_sweep(rt, datetime(2026, 11, 22, 1, 31, tzinfo=UTC))
    assert [m.scheduled_local for m in missed] == ["2026-11-22T08:00:00"]
    assert outcomes(rt, plan_id)[-2:] == [
        ("2026-11-22T08:00:00", "missed"),
        ("2026-11-22T09:00:00", "taken"),
    ]
    # Late "taken" from the box overrides missed; "missed" never overrides "taken".
    with rt.db.session() as db:
        plan = db.get(MedicationPlan, plan_id)
        assert plan is not None
        record_outcome(
            db,
            plan,
            datetime(2026, 11, 22, 8, 0),
            datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
            DoseOutcome.TAKEN,
            datetime(2026, 11, 22, 1, 40, tzinfo=UTC),
        )
        record_outcome(
            db,
            plan,
            datetime(2026, 11, 22, 9, 0),
            datetime(2026, 11, 22, 1, 0, tzinfo=UTC),
            DoseOutcome.MISSED,
            None,
        )
    assert outcomes(rt, plan_id)[-2:] == [
        ("2026-11-22T08:00:00", "taken"),
        ("2026-11-22T09:00:00", "taken"),
    ]


def test_doses_before_a_plan_existed_or_while_paused_are_never_missed(
    rt: Runtime, world: World
) -> None:
    created = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    plan_id = add_plan(rt, world.elder_a.id, (time(8, 0),), created)
    assert run_sweep(rt, datetime(2026, 11, 22, 3, 0, tzinfo=UTC)) == []
    assert outcomes(rt, plan_id) == []


def test_after_an_outage_the_sweep_catches_up_on_the_doses_it_slept_through(
    rt: Runtime, world: World
) -> None:
    # 08:00 and 20:00 in Shanghai are 00:00 and 12:00 UTC.
    since = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    plan_id = add_plan(rt, world.elder_a.id, (time(8, 0), time(20, 0)), since)
    # The first sweep ever looks back LOOKBACK only: no flood of history on a new install.
    assert [
        m.scheduled_local for m in run_sweep(rt, datetime(2026, 11, 10, 12, 40, tzinfo=UTC))
    ] == ["2026-11-10T20:00:00"]
    # The server is down from 12:40 UTC until 15:00 UTC the next day. Nobody answered
    # at 08:00 or 20:00 Shanghai time: both are found, though 08:00 is 15 h ago.
    missed = run_sweep(rt, datetime(2026, 11, 11, 15, 0, tzinfo=UTC))
    assert [m.scheduled_local for m in missed] == ["2026-11-11T08:00:00", "2026-11-11T20:00:00"]
    assert run_sweep(rt, datetime(2026, 11, 11, 15, 1, tzinfo=UTC)) == []
    # Down for ten days: a week of doses is recorded as missed (the family sees them in
    # the history) and only the last day's are alerted.
    missed = run_sweep(rt, datetime(2026, 11, 21, 15, 0, tzinfo=UTC))
    assert [m.scheduled_local for m in missed] == ["2026-11-21T08:00:00", "2026-11-21T20:00:00"]
    recorded = [local for local, outcome in outcomes(rt, plan_id) if outcome == "missed"]
    assert recorded[:3] == ["2026-11-10T20:00:00", "2026-11-11T08:00:00", "2026-11-11T20:00:00"]
    # CATCH_UP is 7 days back from 15:00 UTC on the 21st: the first dose whose window
    # closed after 15:00 UTC on the 14th is 08:00 Shanghai (00:00 UTC) on the 15th.
    assert recorded[3] == "2026-11-15T08:00:00"
    assert recorded[-1] == "2026-11-21T20:00:00" and len(recorded) == 3 + 14


def test_london_and_shanghai_missed_at_local_times_across_dst(rt: Runtime, world: World) -> None:
    since = datetime(2026, 3, 27, tzinfo=UTC)
    london = add_plan(rt, world.elder_b.id, (time(8, 0),), since)
    with rt.db.session() as db:
        db.get(type(world.elder_b), world.elder_b.id).timezone = "Europe/London"  # type: ignore[union-attr]
    shanghai = add_plan(rt, world.elder_a.id, (time(8, 0),), since)
    # Sweep every 10 minutes across the European spring-forward weekend.
    now = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    while now < datetime(2026, 3, 30, 12, 0, tzinfo=UTC):
        run_sweep(rt, now)
        now += timedelta(minutes=10)
    with rt.db.session() as db:
        rows = db.execute(
            select(
                DoseRecord.plan_id, DoseRecord.scheduled_local, DoseRecord.scheduled_at
            ).order_by(DoseRecord.plan_id, DoseRecord.scheduled_at)
        ).all()
    got = {(pid, local, at.strftime("%d %H:%M")) for pid, local, at in rows}
    assert {
        (london, "2026-03-28T08:00:00", "28 08:00"),
        (london, "2026-03-29T08:00:00", "29 07:00"),
        (london, "2026-03-30T08:00:00", "30 07:00"),
    } <= got
    assert {(shanghai, f"2026-03-{d}T08:00:00", f"{d} 00:00") for d in ("28", "29", "30")} <= got
    assert len(rows) == len(got)  # one record per dose, never two


def test_missed_dose_mails_the_family_and_alerts_their_page_once(
    db_url: str, tmp_path: object, world: World, rt: Runtime
) -> None:
    with smtp_server() as (mailbox, port):
        settings = Settings(
            database_url=db_url,
            data_dir=tmp_path / "d",
            smtp_host="127.0.0.1",  # type: ignore[operator]
            smtp_port=port,
            scheduler_enabled=False,
        )
        with rt.db.session() as db:
            quiet = make_user(db, Role.FAMILY, email="quiet@test.anxin")
            link_family(db, quiet, db.get(type(world.elder_a), world.elder_a.id))  # type: ignore[arg-type]
        from server.app import create_app

        rt1 = Runtime.from_settings(settings)
        rt2 = Runtime.from_settings(settings)
        with TestClient(create_app(runtime=rt1)) as client:
            from tests.conftest import bearer

            quiet_headers = bearer(client, "quiet@test.anxin")
            resp = client.put(
                f"/api/elders/{world.elder_a.id}/reminder-alerts",
                json={"email_missed": False, "live_missed": False},
                headers=quiet_headers,
            )
            assert resp.status_code == 200
            since = datetime.now(UTC) - timedelta(hours=2)
            local_now = datetime.now(UTC) + timedelta(hours=8) - timedelta(minutes=40)
            add_plan(
                rt1,
                world.elder_a.id,
                (local_now.time().replace(microsecond=0),),
                since,
                start=local_now.date(),
            )
            family_headers = bearer(client, world.family_a.email)
            with client.websocket_connect("/ws/web") as page:
                page.send_text(
                    Hello(
                        client=ClientKind.WEB, token=family_headers["Authorization"][7:]
                    ).model_dump_json()
                )
                assert isinstance(recv(page), Welcome)
                # The page is connected to the first process, which sweeps first; live
                # pushes do not cross processes (a page hears the process it is connected to).
                now = datetime.now(UTC)
                assert len(run_sweep(rt1, now)) == 1
                # Then both processes sweep the same database at the same moment: neither
                # finds anything left to send.
                results: list[int] = []
                threads = [
                    threading.Thread(target=lambda r=r: results.append(len(run_sweep(r, now))))
                    for r in (rt1, rt2)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=30)
                assert results == [0, 0], "an alert is claimed once across processes"
                alert = recv(page)
                while not isinstance(alert, DoseAlert):
                    alert = recv(page)
                assert alert.medicine == "Metformin" and alert.elder_id == world.elder_a.id
            mails = mailbox.wait(1)
            assert [m["To"] for m in mails] == [world.family_a.email]
            assert "Metformin" in mails[0]["Subject"]
            assert run_sweep(rt1) == [] and run_sweep(rt2) == []
        assert len(mailbox.messages) == 1
        rt2.db.dispose()


def test_dose_answers_are_stored_once_however_often_resent(
    client: TestClient, world: World, rt: Runtime
) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    plan_id = add_plan(rt, world.elder_a.id, (time(8, 0),), since)
    token, _ = pair_box(client, world)
    local = datetime(2026, 11, 22, 8, 0)
    answers = [
        DoseAnswer(
            key=answer_key(plan_id, local, o) + suffix,
            plan_id=plan_id,
            scheduled_local=local,
            scheduled_at=datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
            outcome=o,
        )
        for o, suffix in ((DoseOutcome.SNOOZED, "#1"), (DoseOutcome.TAKEN, ""))
    ]
    acks: list[Ack] = []
    for _round in range(3):  # reconnect and resend everything, as an outbox does
        with client.websocket_connect("/ws/box") as ws:
            send(ws, Hello(client=ClientKind.BOX, device_token=token))
            assert isinstance(recv(ws), Welcome)
            for answer in answers:
                send(ws, answer)
                reply = recv(ws)
                while not isinstance(reply, Ack):
                    reply = recv(ws)
                acks.append(reply)
    assert [a.duplicate for a in acks] == [False, False] + [True] * 4
    with rt.db.session() as db:
        rows = db.scalars(select(DoseRecord).where(DoseRecord.plan_id == plan_id)).all()
        assert [(r.outcome, r.snoozes) for r in rows] == [(DoseOutcome.TAKEN, 1)]
        assert db.scalar(select(func.count()).select_from(User)) > 0


def test_a_dose_still_snoozed_when_its_window_closes_is_missed(rt: Runtime, world: World) -> None:
    since = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    plan_id = add_plan(rt, world.elder_a.id, (time(8, 0),), since)
    with rt.db.session() as db:
        plan = db.get(MedicationPlan, plan_id)
        assert plan is not None
        record_outcome(
            db,
            plan,
            datetime(2026, 11, 22, 8, 0),
            datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
            DoseOutcome.SNOOZED,
            None,
        )
    assert run_sweep(rt, datetime(2026, 11, 22, 0, 20, tzinfo=UTC)) == []
    missed = run_sweep(rt, datetime(2026, 11, 22, 0, 31, tzinfo=UTC))
    assert [m.plan_id for m in missed] == [plan_id]
    assert outcomes(rt, plan_id) == [("2026-11-22T08:00:00", "missed")]


def test_a_box_cannot_answer_for_another_elders_plan_or_send_nonsense(
    client: TestClient, world: World, rt: Runtime
) -> None:
    from protocol import Error

    other_plan = add_plan(rt, world.elder_b.id, (time(8, 0),), datetime.now(UTC))
    token, _ = pair_box(client, world)  # a box of elder A
    local = datetime(2026, 11, 22, 8, 0)
    with client.websocket_connect("/ws/box") as ws:
        send(ws, Hello(client=ClientKind.BOX, device_token=token))
        assert isinstance(recv(ws), Welcome)
        send(
            ws,
            DoseAnswer(
                key=answer_key(other_plan, local, DoseOutcome.TAKEN),
                plan_id=other_plan,
                scheduled_local=local,
                scheduled_at=datetime(2026, 11, 22, 0, 0, tzinfo=UTC),
                outcome=DoseOutcome.TAKEN,
            ),
        )
        reply = recv(ws)
        while not isinstance(reply, Ack):
            reply = recv(ws)
        ws.send_text('{"type": "dose_answer", "key": "short", "plan_id": "x"}')
        error = recv(ws)
        while not isinstance(error, Error):
            error = recv(ws)
        assert error.code.value == "invalid"
    assert outcomes(rt, other_plan) == [], "another elder's dose is never touched"


def test_two_processes_racing_claim_a_missed_dose_once(
    db_url: str, tmp_path: object, world: World, rt: Runtime
) -> None:
    settings = Settings(database_url=db_url, data_dir=tmp_path / "race", scheduler_enabled=False)  # type: ignore[operator]
    since = datetime.now(UTC) - timedelta(hours=2)
    local_now = datetime.now(UTC) + timedelta(hours=8) - timedelta(minutes=40)
    add_plan(
        rt,
        world.elder_a.id,
        (local_now.time().replace(microsecond=0),),
        since,
        start=local_now.date(),
    )
    rt1, rt2 = Runtime.from_settings(settings), Runtime.from_settings(settings)
    now = datetime.now(UTC)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda r=r: results.append(len(run_sweep(r, now))))
        for r in (rt1, rt2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [0, 1], "exactly one process claims the alert"
    rt1.db.dispose()
    rt2.db.dispose()

"""The daily check-in rule: the family sets a time; the elder's box keeps the rule and asks.

The rule is stored per elder and pushed to the elder's boxes when it changes and each time
a box connects, so a box that was off still gets it. The box does the asking (it knows
whether the remote or the voice was used); a missed check-in reaches the server as an SOS.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import CheckInRuleSet
from server import audit
from server.models import CheckInRule, Device, User, utcnow
from server.permissions import elder_for_sos_action
from server.runtime import Runtime

TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"


def rule_of(db: Session, elder_id: int) -> CheckInRule | None:
    """The elder's check-in rule row (``local_time`` None when switched off), or None."""
    return db.get(CheckInRule, elder_id)


def set_rule(db: Session, user: User, elder_id: int, time_local: str | None) -> set[int]:
    """Store the rule (family, operators, admin); the elder's live device ids."""
    elder = elder_for_sos_action(db, user, elder_id)
    row = db.get(CheckInRule, elder.id)
    if row is None:
        db.add(CheckInRule(elder_id=elder.id, local_time=time_local, updated_by_id=user.id))
    else:
        row.local_time, row.updated_at, row.updated_by_id = time_local, utcnow(), user.id
    audit.record(db, "sos.check_in.set", elder.id, user=user, detail=time_local or "off")
    return set(
        db.scalars(
            select(Device.id).where(Device.elder_id == elder.id, Device.revoked_at.is_(None))
        )
    )


def push_rule(rt: Runtime, devices: set[int], time_local: str | None) -> None:
    """Tell the boxes (from any thread, never waits)."""

    async def send() -> None:
        for device_id in devices:
            await rt.hub.to_device(device_id, CheckInRuleSet(time_local=time_local))

    rt.hub.push(send())


def rule_on_connect(db: Session, elder_id: int) -> CheckInRuleSet | None:
    """A box that connects gets the rule, if one was ever set (it may have been off then)."""
    # Every box runs this on connect (thousands after a restart): one primary-key read.
    found = db.execute(
        select(CheckInRule.local_time).where(CheckInRule.elder_id == elder_id)
    ).one_or_none()
    return CheckInRuleSet(time_local=found[0]) if found is not None else None

"""Which missed-dose alerts each family member gets for an elder (e-mail, live on the page)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import Role
from server.errors import Forbidden
from server.models import Elder, ReminderAlertSetting, User
from server.permissions import elder_for_viewing
from server.reminders.schemas import AlertSettingsUpdate


def alert_setting(db: Session, user_id: int, elder_id: int) -> ReminderAlertSetting | None:
    """The member's stored choice (None: the defaults, both on)."""
    return db.scalar(
        select(ReminderAlertSetting).where(
            ReminderAlertSetting.user_id == user_id, ReminderAlertSetting.elder_id == elder_id
        )
    )


def save_alert_setting(db: Session, user_id: int, elder_id: int, body: AlertSettingsUpdate) -> None:
    """Store one family member's alert choice."""
    row = alert_setting(db, user_id, elder_id)
    if row is None:
        row = ReminderAlertSetting(user_id=user_id, elder_id=elder_id)
        db.add(row)
    row.email_missed, row.live_missed = body.email_missed, body.live_missed
    db.flush()


def family_elder(db: Session, user: User, elder_id: int) -> Elder:
    """The elder, if the caller is one of their family (alert settings are theirs alone)."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role is not Role.FAMILY:
        raise Forbidden("alert settings are for the elder's family")
    return elder

"""An elder's family: who is linked, who is invited, joining, leaving and removing.

Who may invite and see the family: a family member linked to the elder, an operator of the
elder's area, an administrator. A doctor sees the elder but not this (403); anyone else does
not see the elder at all (404).

The last family link of an elder cannot go by its owner leaving (someone must be told when
the box calls for help); the care centre can remove it. Two members leaving at once must
not both succeed when they are the last two: the elder's row is locked first (PostgreSQL;
SQLite has one writer at a time) and the links are counted after the delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server import audit
from server.accounts import normalise_email
from server.core.security import hash_password
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.links import LinkRefusal, LinkRefused, issue_link, link_url, peek_link, use_link
from server.models import CareLink, Elder, LinkPurpose, OneTimeLink, User, utcnow
from server.notify import Email
from server.outgoing import queue_email
from server.permissions import elder_for_viewing
from server.runtime import Runtime
from server.web.i18n import translate

RELATIONS = ("daughter", "son", "spouse", "grandchild")  # and free text ("other")
MANAGERS = (Role.FAMILY, Role.OPERATOR, Role.ADMIN)


@dataclass(frozen=True)
class Member:
    """A family member linked to an elder."""

    user_id: int
    name: str
    email: str
    relation: str
    since: datetime


def elder_for_family(db: Session, user: User, elder_id: int) -> Elder:
    """The elder whose family ``user`` may see and invite to: 404 unseen, 403 a doctor's."""
    elder = elder_for_viewing(db, user, elder_id)
    if user.role not in MANAGERS:
        raise Forbidden("only the elder's family, the care centre or an administrator can do this")
    return elder


def members(db: Session, elder_id: int) -> list[Member]:
    """The linked family members, oldest link first."""
    rows = db.execute(
        select(User, CareLink)
        .join(CareLink, CareLink.user_id == User.id)
        .where(CareLink.elder_id == elder_id)
        .order_by(CareLink.created_at, CareLink.id)
    ).all()
    return [Member(u.id, u.name, u.email, link.relation, link.created_at) for u, link in rows]


def pending(db: Session, elder_id: int) -> list[OneTimeLink]:
    """Invitations not yet accepted nor expired."""
    return list(
        db.scalars(
            select(OneTimeLink)
            .where(
                OneTimeLink.purpose == LinkPurpose.INVITE,
                OneTimeLink.elder_id == elder_id,
                OneTimeLink.used_at.is_(None),
                OneTimeLink.expires_at > utcnow(),
            )
            .order_by(OneTimeLink.id)
        )
    )


def relation_label(lang: Lang, relation: str) -> str:
    """A relation as shown: a known one translated, free text as typed."""
    return translate(lang, f"relation.{relation}") if relation in RELATIONS else relation


def invite(
    db: Session, rt: Runtime, inviter: User, elder: Elder, email: str, relation: str, lang: Lang
) -> tuple[OneTimeLink, int]:
    """Issue an invitation and queue its e-mail; returns the link row and the message id."""
    address = normalise_email(email)
    if "@" not in address or " " in address or len(address) > 255:
        raise InvalidInput(translate(inviter.lang, "admins.email_bad"))
    relation = relation.strip()[:60]
    if not relation:
        raise InvalidInput(translate(inviter.lang, "invite.relation_needed"))
    existing = db.scalar(select(User).where(func.lower(User.email) == address))
    if existing is not None and existing.role is not Role.FAMILY:
        raise Conflict(translate(inviter.lang, "invite.staff_address"))
    if existing is not None and db.scalar(
        select(CareLink.id).where(CareLink.user_id == existing.id, CareLink.elder_id == elder.id)
    ):
        raise Conflict(translate(inviter.lang, "invite.already_member", elder=elder.name))
    token, row = issue_link(
        db,
        rt.settings.secret_key,
        LinkPurpose.INVITE,
        address,
        elder_id=elder.id,
        relation=relation,
        created_by=inviter,
    )
    url = link_url(rt.settings.public_base_url, LinkPurpose.INVITE, token, lang.value)
    values = {
        "inviter": inviter.name,
        "elder": elder.name,
        "url": url,
        "expires": row.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    }
    subject = translate(lang, "invite.email_subject", **values)
    body = translate(lang, "invite.email_body", **values)
    message_id = queue_email(db, Email(address, subject, body), f"invite:{row.id}")
    audit.record(
        db,
        "family.invited",
        elder.id,
        user=inviter,
        detail=f"{address} ({relation})",
        target=f"invitation:{row.id}",
    )
    return row, message_id


def withdraw(db: Session, user: User, invitation_id: int) -> int:
    """Withdraw a pending invitation (its link then no longer works); returns the elder id."""
    row = db.get(OneTimeLink, invitation_id)
    if row is None or row.purpose is not LinkPurpose.INVITE or row.elder_id is None:
        raise NotFound(f"no invitation {invitation_id}")
    elder_for_family(db, user, row.elder_id)
    if row.used_at is not None:
        raise Conflict(translate(user.lang, "invite.already_accepted"))
    elder_id = row.elder_id
    audit.record(
        db,
        "family.invitation_withdrawn",
        elder_id,
        user=user,
        detail=row.email,
        target=f"invitation:{row.id}",
    )
    db.delete(row)
    return elder_id


def remove_member(db: Session, actor: User, elder: Elder, user_id: int) -> None:
    """Unlink ``user_id`` from the elder: the member themself, or the care centre/admin.

    A member leaving cannot remove the last link (Conflict); an operator or admin can.
    """
    leaving = user_id == actor.id
    if not leaving and actor.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the care centre or an administrator can remove a family member")
    # Lock the elder: concurrent leavings of one elder's family take turns (PostgreSQL).
    db.scalar(select(Elder.id).where(Elder.id == elder.id).with_for_update())
    gone = db.execute(
        delete(CareLink)
        .where(CareLink.elder_id == elder.id, CareLink.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id} is not in the family of elder {elder.id}")
    left = db.scalar(select(func.count(CareLink.id)).where(CareLink.elder_id == elder.id))
    if leaving and actor.role is Role.FAMILY and not left:
        raise Conflict(translate(actor.lang, "family.last_member", elder=elder.name))
    audit.record(
        db,
        "family.left" if leaving else "family.member_removed",
        elder.id,
        user=actor,
        target=f"user:{user_id}",
    )


@dataclass(frozen=True)
class Invitation:
    """A link that can still be accepted, and what it offers."""

    link: OneTimeLink
    elder: Elder
    inviter_name: str
    account: User | None  # an existing family account of the invited address


def open_invitation(db: Session, rt: Runtime, token: str) -> Invitation:
    """The invitation behind ``token``; LinkRefused (or Conflict: another role's address)."""
    link = peek_link(db, rt.settings.secret_key, LinkPurpose.INVITE, token)
    elder = db.get(Elder, link.elder_id) if link.elder_id is not None else None
    inviter = db.get(User, link.created_by_id) if link.created_by_id is not None else None
    if elder is None or not elder.is_active or inviter is None or not inviter.is_active:
        raise LinkRefused(LinkRefusal.INACTIVE)
    account = db.scalar(select(User).where(func.lower(User.email) == link.email))
    if account is not None and (account.role is not Role.FAMILY or not account.is_active):
        raise Conflict("invite.other_account")
    return Invitation(link, elder, inviter.name, account)


def _join(db: Session, user: User, invitation: Invitation) -> None:
    already = db.scalar(
        select(CareLink.id).where(
            CareLink.user_id == user.id, CareLink.elder_id == invitation.elder.id
        )
    )
    if already is None:
        db.add(
            CareLink(
                user_id=user.id, elder_id=invitation.elder.id, relation=invitation.link.relation
            )
        )
    audit.record(
        db,
        "family.joined",
        invitation.elder.id,
        user=user,
        detail=invitation.link.relation,
        target=f"user:{user.id}",
    )


def accept_as(db: Session, rt: Runtime, token: str, user: User) -> Invitation:
    """Accept with the logged-in family account the invitation was sent to."""
    invitation = open_invitation(db, rt, token)
    if invitation.account is None or invitation.account.id != user.id:
        raise Forbidden("invite.wrong_account")
    use_link(db, rt.settings.secret_key, LinkPurpose.INVITE, token)
    _join(db, user, invitation)
    return invitation


def accept_new(db: Session, rt: Runtime, token: str, name: str, password: str, lang: Lang) -> User:
    """Accept by making a family account for the invited address (password already checked)."""
    invitation = open_invitation(db, rt, token)
    if invitation.account is not None:
        raise Conflict("invite.has_account")
    hashed = hash_password(password)
    use_link(db, rt.settings.secret_key, LinkPurpose.INVITE, token)
    user = User(
        email=invitation.link.email,
        name=name.strip()[:120],
        password_hash=hashed,
        role=Role.FAMILY,
        lang=lang,
        password_changed_at=utcnow(),
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as err:  # the address got an account at the same moment
        raise Conflict("invite.has_account") from err
    invitation.link.user_id = user.id
    _join(db, user, invitation)
    return user

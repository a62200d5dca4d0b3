"""Creating an administrator: the first one (the set-up page) or any (the command line).

The first administrator of an empty database is made by whoever reaches ``/setup`` first;
two set-ups racing each other must make one administrator, not two. Writes are serialised
before the count: PostgreSQL takes a transaction-scoped advisory lock; SQLite has one writer
at a time, and the insert comes first, so the count that follows sees every committed row.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server import audit
from server.accounts import normalise_email
from server.core.security import hash_password
from server.models import User, utcnow
from server.password_policy import password_problem

_SETUP_LOCK = 0x616E78  # any constant: the advisory lock key of first set-ups


class AdminRefused(Exception):
    """Why no administrator was made: a message key (``admins.*`` / ``password.*``) and values."""

    def __init__(self, key: str, **values: int | str) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def has_users(db: Session) -> bool:
    """Whether anyone has an account yet (an empty database goes to ``/setup``)."""
    return db.scalar(select(User.id).limit(1)) is not None


def check_new_admin(email: str, name: str, password: str, repeat: str) -> None:
    """Refuse (AdminRefused) a form that cannot make an account, before any database work."""
    if not name.strip():
        raise AdminRefused("admins.name_needed")
    address = normalise_email(email)
    if "@" not in address or len(address) > 255 or " " in address:
        raise AdminRefused("admins.email_bad")
    if password != repeat:
        raise AdminRefused("admins.repeat_differs")
    problem = password_problem(password, email=address, name=name.strip())
    if problem is not None:
        raise AdminRefused(problem.key, **problem.values)


def create_admin(
    db: Session, *, email: str, name: str, password: str, lang: Lang, first: bool
) -> User:
    """A new administrator (in the caller's transaction); AdminRefused if not.

    ``first``: only while the database has no users at all (``admins.already_set_up``).
    The password must already have passed `check_new_admin`.
    """
    address = normalise_email(email)
    hashed = hash_password(password)  # before any lock: argon2 takes a while
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK})
    if not first and db.scalar(select(User.id).where(func.lower(User.email) == address)):
        raise AdminRefused("admins.email_taken", email=address)
    user = User(
        email=address,
        name=name.strip()[:120],
        password_hash=hashed,
        role=Role.ADMIN,
        lang=lang,
        password_changed_at=utcnow(),
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as err:  # the e-mail was taken at the same moment
        raise AdminRefused("admins.email_taken", email=address) from err
    if first and db.scalar(select(func.count(User.id))) != 1:
        raise AdminRefused("admins.already_set_up")
    audit.record(
        db,
        "account.first_admin_created" if first else "account.admin_created",
        None,
        user=user,
        target=f"user:{user.id}",
    )
    return user

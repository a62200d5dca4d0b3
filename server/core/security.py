"""Password hashing (argon2), opaque tokens and their hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's default
# (64 MiB, 3 passes, 4 lanes): on a 2-core box each check then costs ~19 MiB and one core
# for a few tens of milliseconds, and `server.password_checks` bounds how many run at once.
# Hashes carry their own parameters, so older hashes still verify; `needs_rehash` tells the
# log-in to upgrade them.
PASSWORD_TIME_COST = 2
PASSWORD_MEMORY_KIB = 19 * 1024
PASSWORD_PARALLELISM = 1
_hasher = PasswordHasher(
    time_cost=PASSWORD_TIME_COST,
    memory_cost=PASSWORD_MEMORY_KIB,
    parallelism=PASSWORD_PARALLELISM,
)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether ``password_hash`` was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def new_token() -> str:
    """A fresh unguessable token for sessions, devices and pairing secrets."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token: tokens are kept only as SHA-256 digests."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_pairing_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(1_000_000):06d}"


def csrf_token(secret_key: str, session_token: str) -> str:
    """The CSRF token bound to one session (double-submit through the page's forms)."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), "sha256").hexdigest()

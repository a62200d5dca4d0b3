"""Password hashing (argon2), opaque tokens and their hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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

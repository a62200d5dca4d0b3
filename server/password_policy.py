"""What makes a password acceptable: long enough and not guessable, without rules that annoy.

No "one capital, one digit, one symbol": a daughter setting up her father's box picks a
phrase she remembers. A password is refused only when it is short, is one of the common or
breached-style passwords zxcvbn knows (its frequency lists come from leaked password sets),
is guessable from the person's own e-mail or name, or is made of an obvious pattern
("aaaaaaaaaa", "1234567890", "qwertyuiop").
"""

from __future__ import annotations

from dataclasses import dataclass

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 200  # argon2 is fine with more; a limit keeps the check cheap
MIN_SCORE = 2  # zxcvbn: 0 too guessable ... 4 very unguessable; 2 = "somewhat guessable"


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password is refused: a message key of the pages, and its values."""

    key: str
    values: dict[str, int | str]


def password_problem(password: str, *, email: str = "", name: str = "") -> PasswordProblem | None:
    """None if ``password`` is acceptable for this person, else why not.

    Message keys (server/web/locales/<lang>.json): ``password.too_short``,
    ``password.too_long``, ``password.personal``, ``password.common``.
    """
    if len(password) < MIN_LENGTH:
        return PasswordProblem("password.too_short", {"min": MIN_LENGTH})
    if len(password) > MAX_LENGTH:
        return PasswordProblem("password.too_long", {"max": MAX_LENGTH})
    personal = [part for part in (email, email.split("@")[0], name) if part]
    lowered = password.lower()
    if any(len(part) >= 4 and part.lower() in lowered for part in personal):
        return PasswordProblem("password.personal", {})
    if zxcvbn(password, user_inputs=personal)["score"] < MIN_SCORE:
        return PasswordProblem("password.common", {})
    return None

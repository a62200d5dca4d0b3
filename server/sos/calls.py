"""The hook to the consult feature's video calls: an SOS call is answered by the box itself.

The call feature (another branch) sets `call_starter` when it lands; until then the board's
Call action is shown disabled and `POST /api/sos/alerts/{id}/call` answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.models import SosAlert, User
    from server.runtime import Runtime

# call_starter(rt, user, alert) starts a video call from ``user`` to the alert's box with
# auto-answer, and returns a URL for the caller's page.
CallStarter = Callable[["Runtime", "User", "SosAlert"], str]
call_starter: CallStarter | None = None


def calls_available() -> bool:
    """Whether a call feature is installed."""
    return call_starter is not None

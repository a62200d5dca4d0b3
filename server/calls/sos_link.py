"""Calls from an SOS alert: the responder's page rings the box, which answers by itself.

Importing this module installs the call path into the SOS feature's hook.
"""

from __future__ import annotations

from server.models import SosAlert, User
from server.runtime import Runtime
from server.sos import calls as sos_calls


def start_sos_call(rt: Runtime, user: User, alert: SosAlert) -> str:
    """The call page that rings the elder's TV with auto-answer (operators, admins, family)."""
    return f"/family/call/{alert.elder_id}?sos={alert.id}"


sos_calls.call_starter = start_sos_call

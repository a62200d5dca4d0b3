"""Calls from an SOS alert: the responder's page rings the box, which answers by itself."""

from __future__ import annotations

from server.models import SosAlert


def start_sos_call(alert: SosAlert) -> str:
    """The call page that rings the elder's TV with auto-answer (operators, admins, family)."""
    return f"/family/call/{alert.elder_id}?sos={alert.id}"

"""Enumerations carried on the wire; their values are part of the protocol."""

from __future__ import annotations

from enum import StrEnum


class ClientKind(StrEnum):
    """Who is on the other end of a WebSocket."""

    BOX = "box"
    WEB = "web"


class Lang(StrEnum):
    """Languages the product speaks and shows."""

    ZH = "zh"
    EN = "en"


class Role(StrEnum):
    """Roles of people who log in."""

    FAMILY = "family"
    DOCTOR = "doctor"
    OPERATOR = "operator"  # care-centre operator or community worker of one service area
    ADMIN = "admin"
    # Staff of the coming features, each scoped to one organisation (server/roles.py).
    CLINIC_STAFF = "clinic_staff"
    MEAL_STAFF = "meal_staff"
    SERVICE_WORKER = "service_worker"


class RevokeReason(StrEnum):
    """Why a box was disconnected from its elder (the TV says it in words)."""

    UNPAIRED = "unpaired"  # the family (or an administrator) removed this box
    SERVICE_ENDED = "service_ended"  # the care centre ended the elder's service


class ErrorCode(StrEnum):
    """Machine-readable reasons carried by an `error` message."""

    MALFORMED = "malformed"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    # HTTP only: a change made with the page's cookie that may come from another site.
    CSRF_FAILED = "csrf_failed"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_LARGE = "too_large"
    BUSY = "busy"
    INTERNAL = "internal"
    # Appointments: the slot filled up, the elder has a visit then, the hold ran out, the
    # time is outside the bookable window, the clinic or doctor is closed then.
    SLOT_TAKEN = "slot_taken"
    OVERLAP = "overlap"
    HOLD_EXPIRED = "hold_expired"
    OUTSIDE_WINDOW = "outside_window"
    CLINIC_CLOSED = "clinic_closed"
    # A clinic that runs its own system did not answer, or answered what cannot be used.
    CLINIC_UNAVAILABLE = "clinic_unavailable"
    # Meals: orders for that meal closed at its cut-off; its portions are all ordered.
    TOO_LATE = "too_late"
    SOLD_OUT = "sold_out"


class Topic(StrEnum):
    """What a `changed` push is about."""

    ELDER = "elder"
    DEVICE = "device"
    PAIRING = "pairing"
    SOS = "sos"
    MEDICATION = "medication"
    CALL = "call"
    APPOINTMENT = "appointment"
    MEAL = "meal"

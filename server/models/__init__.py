"""SQLAlchemy models of the server, one module per concept."""

from server.models.appointments import (
    Appointment,
    AppointmentLock,
    AppointmentStatus,
    BookedBy,
    Closure,
    Department,
    OpeningHours,
    Slot,
    SlotHold,
    VisitKind,
)
from server.models.audit import AuditEntry, ReceivedMessage
from server.models.base import Base, UTCDateTime, utcnow
from server.models.calls import LIVE_STATUSES, Call, CallPreference, CallRing, CallStatus
from server.models.devices import Device, PairingRequest, SessionKind, UserSession
from server.models.outgoing import Channel, OutgoingMessage
from server.models.people import (
    CareLink,
    Elder,
    EmergencyContact,
    LinkPurpose,
    OneTimeLink,
    User,
)
from server.models.places import Clinic, ServiceArea, ServicePoint, ServicePointKind
from server.models.reminders import DoseRecord, MedicationPlan, ReminderAlertSetting, SweepMark
from server.models.sos import (
    AreaSupervisor,
    CheckInRule,
    SosAlert,
    SosOutcome,
    SosStep,
    SosStepKind,
)

__all__ = [
    "Appointment",
    "AppointmentLock",
    "AppointmentStatus",
    "BookedBy",
    "Closure",
    "Department",
    "OpeningHours",
    "Slot",
    "SlotHold",
    "VisitKind",
    "AreaSupervisor",
    "AuditEntry",
    "Base",
    "Call",
    "CallPreference",
    "CallRing",
    "CallStatus",
    "LIVE_STATUSES",
    "CareLink",
    "Channel",
    "CheckInRule",
    "Clinic",
    "Device",
    "DoseRecord",
    "Elder",
    "EmergencyContact",
    "LinkPurpose",
    "MedicationPlan",
    "OneTimeLink",
    "OutgoingMessage",
    "PairingRequest",
    "ReceivedMessage",
    "ReminderAlertSetting",
    "SweepMark",
    "ServiceArea",
    "ServicePoint",
    "ServicePointKind",
    "SessionKind",
    "SosAlert",
    "SosOutcome",
    "SosStep",
    "SosStepKind",
    "UTCDateTime",
    "User",
    "UserSession",
    "utcnow",
]

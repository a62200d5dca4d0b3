"""Encoding and decoding of wire messages, discriminated by ``type``.

Feature modules add their message classes to ``MESSAGE_TYPES``; the discriminated
union is built from that tuple.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from protocol.call import CALL_MESSAGES
from protocol.enums import ErrorCode
from protocol.errors import ProtocolError
from protocol.messages import (
    Ack,
    BoxSettings,
    Changed,
    Error,
    Heartbeat,
    Hello,
    Message,
    Paired,
    Revoked,
    Welcome,
)
from protocol.reminders import DoseAlert, DoseAnswer, MedPlans, MedPlansRequest
from protocol.sos import (
    CheckInRuleSet,
    SosAcknowledged,
    SosAlertPush,
    SosRaise,
    SosResolved,
)

MESSAGE_TYPES: tuple[type[Message], ...] = (
    Hello,
    Welcome,
    Heartbeat,
    Error,
    Paired,
    Revoked,
    Changed,
    Ack,
    BoxSettings,
    SosRaise,
    SosAlertPush,
    SosAcknowledged,
    SosResolved,
    CheckInRuleSet,
    MedPlans,
    MedPlansRequest,
    DoseAnswer,
    DoseAlert,
    *CALL_MESSAGES,
)

AnyMessage = Annotated[Union[MESSAGE_TYPES], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
_adapter: TypeAdapter[Message] = TypeAdapter(AnyMessage)
KNOWN_TYPES = frozenset(cls.model_fields["type"].default for cls in MESSAGE_TYPES)
MAX_MESSAGE_BYTES = 64 * 1024


def parse_message(raw: str | bytes | dict[str, Any]) -> Message:
    """Decode one message; raise `ProtocolError` saying exactly what is wrong."""
    if isinstance(raw, str | bytes):
        if len(raw) > MAX_MESSAGE_BYTES:
            raise ProtocolError(
                ErrorCode.MALFORMED, f"message larger than {MAX_MESSAGE_BYTES} bytes"
            )
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ProtocolError(ErrorCode.MALFORMED, f"not JSON: {err}") from err
    else:
        data = raw
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.MALFORMED, "a message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.MALFORMED, "a message needs a string 'type'")
    if kind not in KNOWN_TYPES:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind!r}")
    try:
        return _adapter.validate_python(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        raise ProtocolError(ErrorCode.INVALID, f"{kind}: {where}: {first['msg']}") from err


def dump_message(message: Message) -> str:
    """Encode one message as compact JSON text."""
    return message.model_dump_json(exclude_none=True)


def message_ref(raw: str | bytes | dict[str, Any]) -> str | None:
    """Best-effort ``id`` of a raw message, so an error about it can name it."""
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    ref = data.get("id") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) else None

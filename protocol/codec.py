"""Encoding and decoding of wire messages, discriminated by ``type``.

Feature modules add their message classes to ``MESSAGE_TYPES``; the discriminated
union is built from that tuple.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, ValidationError

from protocol.appointments import APPOINTMENT_MESSAGES
from protocol.call import CALL_MESSAGES
from protocol.enums import ErrorCode
from protocol.errors import ProtocolError
from protocol.meals import MEAL_MESSAGES
from protocol.messages import (
    Ack,
    BoxSettings,
    Changed,
    ElderUpdated,
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
    ElderUpdated,
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
    *APPOINTMENT_MESSAGES,
    *MEAL_MESSAGES,
)

AnyMessage = Annotated[Union[MESSAGE_TYPES], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
_adapter: TypeAdapter[Message] = TypeAdapter(AnyMessage)
KNOWN_TYPES = frozenset(cls.model_fields["type"].default for cls in MESSAGE_TYPES)
MAX_MESSAGE_BYTES = 64 * 1024
# No message nests deeper than a handful of levels; 32 leaves room to grow while keeping
# the JSON decoder (which recurses per level) far from Python's recursion limit.
MAX_MESSAGE_DEPTH = 32

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _frame_size(raw: str | bytes) -> int:
    if isinstance(raw, bytes) or len(raw) * 4 <= MAX_MESSAGE_BYTES:
        return len(raw)  # a str this short cannot exceed the limit even as UTF-8
    return len(raw.encode("utf-8", "surrogatepass"))


def _nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text``, without decoding it (C-speed scans)."""
    if text.count("[") + text.count("{") <= MAX_MESSAGE_DEPTH:
        return 0  # too few brackets to nest too deep: the common case, two scans
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))  # brackets in strings don't nest
    return max(accumulate(map(_STEP.__getitem__, brackets.encode())), default=0)


def check_frame(raw: str | bytes) -> None:
    """Refuse a frame too big or nested too deep, before any decoding of it.

    Raises `ProtocolError` (``too_large`` or ``malformed``).
    """
    size = _frame_size(raw)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            f"message of {size} bytes is larger than the limit of {MAX_MESSAGE_BYTES} bytes",
        )
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if _nesting_depth(text) > MAX_MESSAGE_DEPTH:
        raise ProtocolError(
            ErrorCode.MALFORMED, f"message nests deeper than {MAX_MESSAGE_DEPTH} levels"
        )


def _decode(raw: str | bytes) -> Any:
    check_frame(raw)
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ProtocolError(ErrorCode.MALFORMED, f"not JSON: {err}") from err
    except RecursionError as err:  # a second line of defence behind the depth check
        raise ProtocolError(ErrorCode.MALFORMED, "message nests too deep") from err


def parse_message(raw: str | bytes | dict[str, Any]) -> Message:
    """Decode one message; raise `ProtocolError` saying exactly what is wrong."""
    data = _decode(raw) if isinstance(raw, str | bytes) else raw
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
    except RecursionError as err:  # a dict handed in directly, never through the checks
        raise ProtocolError(ErrorCode.MALFORMED, "message nests too deep") from err


def dump_message(message: Message) -> str:
    """Encode one message as compact JSON text."""
    return message.model_dump_json(exclude_none=True)


def message_ref(raw: str | bytes | dict[str, Any]) -> str | None:
    """Best-effort ``id`` of a raw message, so an error about it can name it.

    Never decodes a frame that `check_frame` refuses: naming a 16 MiB or 30 000-deep frame
    is not worth the decoding (nor the recursion) it would take.
    """
    try:
        data = _decode(raw) if isinstance(raw, str | bytes) else raw
    except ProtocolError:
        return None
    ref = data.get("id") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) else None

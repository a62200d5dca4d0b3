"""Round trips and refusals of the pairing HTTP bodies the box and the server share."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from protocol import (
    ElderInfo,
    Lang,
    PairingCode,
    PairingCodeRequest,
    PairingState,
    PairingStatus,
    PairingStatusRequest,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ELDER = ElderInfo(id=7, name="王秀英", lang=Lang.ZH, timezone="Asia/Shanghai", speech_rate_wpm=110)

SAMPLES: list[BaseModel] = [
    PairingCodeRequest(app_version="0.1.0"),
    PairingCodeRequest(),
    PairingCode(code="123456", pairing_secret="s" * 43, expires_at=T0),
    PairingStatusRequest(pairing_secret="s" * 43),
    PairingStatus(state=PairingState.WAITING),
    PairingStatus(state=PairingState.EXPIRED),
    PairingStatus(state=PairingState.PAIRED, device_id=3, device_token="s" * 43, elder=ELDER),
]


@pytest.mark.parametrize("body", SAMPLES, ids=lambda b: type(b).__name__)
def test_round_trip(body: BaseModel) -> None:
    assert type(body).model_validate_json(body.model_dump_json()) == body


def test_status_as_the_server_sends_it() -> None:
    # The server leaves out what is unset (response_model_exclude_none); the box reads that.
    waiting = PairingStatus.model_validate_json('{"state": "waiting"}')
    assert waiting == PairingStatus(state=PairingState.WAITING)
    paired = PairingStatus(state=PairingState.PAIRED, device_id=3, device_token="t", elder=ELDER)
    text = paired.model_dump_json(exclude_none=True)
    back = PairingStatus.model_validate_json(text)
    assert back.elder is not None and back.elder.speech_rate_wpm == 110


@pytest.mark.parametrize(
    ("model", "raw", "fragment"),
    [
        (PairingCodeRequest, '{"app_version": "' + "x" * 65 + '"}', "app_version"),
        (PairingCodeRequest, '{"nope": 1}', "nope"),
        (PairingStatusRequest, '{"pairing_secret": "short"}', "pairing_secret"),
        (PairingStatusRequest, "{}", "pairing_secret"),
        (PairingStatus, '{"state": "lost"}', "state"),
        (PairingStatus, '{"state": "paired", "device_id": 0}', "device_id"),
        (PairingCode, '{"code": "123456", "pairing_secret": "s"}', "expires_at"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(
    model: type[BaseModel], raw: str, fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        model.model_validate_json(raw)

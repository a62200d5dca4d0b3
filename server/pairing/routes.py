"""Pairing TV boxes (code on the TV, claimed by family) and revoking them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from protocol import (
    Paired,
    PairingCode,
    PairingCodeRequest,
    PairingState,
    PairingStatus,
    PairingStatusRequest,
    Topic,
)
from server.accounts import device_for_token, elder_of
from server.api.deps import CurrentDevice, CurrentUser, RuntimeDep, SessionDep, client_ip
from server.api.responses import answers
from server.errors import NotFound
from server.ids import RowId
from server.models import Device, User
from server.pairing import codes as pairing
from server.pairing import devices
from server.pairing.schemas import BoxPublic, PairingClaimCreate, PairingClaimPublic
from server.push import elder_info, notify_elder
from server.runtime import Runtime

router = APIRouter(tags=["devices"])


@router.post(
    "/api/pairing/requests",
    response_model=PairingCode,
    status_code=201,
    responses=answers(400, 409, 422, 429),
)
def request_code(
    request: Request, rt: RuntimeDep, db: SessionDep, body: PairingCodeRequest | None = None
) -> PairingCode:
    """A new box asks for a 6-digit code to show on the TV (valid 10 minutes)."""
    rt.pairing_request_limiter.hit(f"request:{client_ip(request)}", "pairing code")
    new = pairing.create_request(db, rt.settings, body.app_version if body else "")
    return PairingCode(code=new.code, pairing_secret=new.secret, expires_at=new.expires_at)


@router.post(
    "/api/pairing/status",
    response_model=PairingStatus,
    response_model_exclude_none=True,
    responses=answers(400, 404, 422),
)
def pairing_status(body: PairingStatusRequest, db: SessionDep) -> PairingStatus:
    """A waiting box asks whether its code was entered (fallback to the WebSocket push)."""
    row = pairing.request_for_secret(db, body.pairing_secret)
    if row is None:
        raise NotFound("unknown pairing secret; ask for a new code")
    state = pairing.state_of(row)
    if state is PairingState.PAIRED:
        device = device_for_token(db, body.pairing_secret)
        if device is None:
            return PairingStatus(state=PairingState.EXPIRED)
        return PairingStatus(
            state=state,
            device_id=device.id,
            device_token=body.pairing_secret,
            elder=elder_info(elder_of(db, device)),
        )
    return PairingStatus(state=state)


def claim_code(rt: Runtime, db: Session, user: User, ip: str, code: str, elder_id: int) -> Device:
    """Bind the box showing ``code`` to the elder, under the guessing limit; tell the box."""
    key = f"claim:{user.id}"
    ip_key = f"claim-ip:{ip}"
    rt.pairing_limiter.check(key, "pairing")
    rt.pairing_limiter.check(ip_key, "pairing")
    try:
        request, device = pairing.claim(db, user, code, elder_id)
    except NotFound:
        rt.pairing_limiter.hit(key, "pairing")
        rt.pairing_limiter.hit(ip_key, "pairing")
        raise
    elder = elder_of(db, device)
    secret = rt.hub.pairing_secret(request.id)
    db.commit()
    if secret is not None:
        paired = Paired(device_id=device.id, device_token=secret, elder=elder_info(elder))
        rt.hub.push(rt.hub.to_pairing(request.id, paired))
    notify_elder(db, rt.hub, elder, Topic.DEVICE, {"device_id": device.id, "paired": True})
    return device


@router.post(
    "/api/pairing/claim",
    response_model=PairingClaimPublic,
    status_code=201,
    responses=answers(400, 401, 403, 404, 409, 422, 429),
)
def claim(
    body: PairingClaimCreate, request: Request, user: CurrentUser, db: SessionDep, rt: RuntimeDep
) -> PairingClaimPublic:
    """A family member enters the code shown on the elder's TV."""
    device = claim_code(rt, db, user, client_ip(request), body.code, body.elder_id)
    return PairingClaimPublic(device_id=device.id, elder_id=device.elder_id)


@router.delete(
    "/api/devices/{device_id}", status_code=204, responses=answers(400, 401, 403, 404, 422)
)
def revoke_device(device_id: RowId, user: CurrentUser, db: SessionDep, rt: RuntimeDep) -> Response:
    """Revoke a TV box (the elder's family or an admin)."""
    devices.revoke(rt, db, user, device_id)
    return Response(status_code=204)


@router.get("/api/box/me", response_model=BoxPublic, responses=answers(401))
def box_me(device: CurrentDevice, db: SessionDep) -> BoxPublic:
    """A box asks who it serves."""
    return BoxPublic(device_id=device.id, elder=elder_info(elder_of(db, device)))

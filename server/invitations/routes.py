"""The family API: an elder's members and invitations, inviting, leaving, removing."""

from __future__ import annotations

from fastapi import APIRouter, Response

from server.api.deps import CurrentUser, RuntimeDep
from server.api.responses import answers
from server.ids import RowId
from server.invitations.family import (
    elder_for_family,
    invite,
    members,
    pending,
    remove_member,
    withdraw,
)
from server.invitations.schemas import (
    FamilyPublic,
    InvitationCreate,
    InvitationPublic,
    MemberPublic,
)
from server.models import OneTimeLink, User
from server.outgoing import deliver

router = APIRouter(prefix="/api", tags=["family"])


def _invitation(row: OneTimeLink) -> InvitationPublic:
    return InvitationPublic(
        id=row.id, email=row.email, relation=row.relation, expires_at=row.expires_at
    )


@router.get(
    "/elders/{elder_id}/family", response_model=FamilyPublic, responses=answers(401, 403, 404, 422)
)
def family(elder_id: RowId, user: CurrentUser, rt: RuntimeDep) -> FamilyPublic:
    """The elder's linked family members and pending invitations."""
    with rt.db.session() as db:
        elder = elder_for_family(db, user, elder_id)
        return FamilyPublic(
            elder_id=elder.id,
            elder_name=elder.name,
            members=[
                MemberPublic(**m.__dict__, you=m.user_id == user.id) for m in members(db, elder.id)
            ],
            invitations=[_invitation(row) for row in pending(db, elder.id)],
        )


@router.post(
    "/elders/{elder_id}/invitations",
    status_code=201,
    response_model=InvitationPublic,
    responses=answers(400, 401, 403, 404, 409, 422),
)
def create_invitation(
    elder_id: RowId, body: InvitationCreate, user: CurrentUser, rt: RuntimeDep
) -> InvitationPublic:
    """Invite a relative by e-mail to follow the elder (a link valid for 7 days)."""
    with rt.db.session() as db:
        elder = elder_for_family(db, user, elder_id)
        row, message_id = invite(db, rt, user, elder, body.email, body.relation, body.lang)
        out = _invitation(row)
    deliver(rt, [message_id])
    return out


@router.delete(
    "/invitations/{invitation_id}", status_code=204, responses=answers(401, 403, 404, 409, 422)
)
def delete_invitation(invitation_id: RowId, user: CurrentUser, rt: RuntimeDep) -> Response:
    """Withdraw a pending invitation: its link stops working."""
    with rt.db.session() as db:
        withdraw(db, user, invitation_id)
    return Response(status_code=204)


def _remove(rt: RuntimeDep, user: User, elder_id: int, user_id: int) -> Response:
    with rt.db.session() as db:
        elder = elder_for_family(db, user, elder_id)
        remove_member(db, user, elder, user_id)
    return Response(status_code=204)


@router.delete(
    "/elders/{elder_id}/family/me", status_code=204, responses=answers(401, 403, 404, 409, 422)
)
def leave(elder_id: RowId, user: CurrentUser, rt: RuntimeDep) -> Response:
    """Leave the elder's family (not as its last member: 409)."""
    return _remove(rt, user, elder_id, user.id)


@router.delete(
    "/elders/{elder_id}/family/{user_id}",
    status_code=204,
    responses=answers(401, 403, 404, 409, 422),
)
def remove(elder_id: RowId, user_id: RowId, user: CurrentUser, rt: RuntimeDep) -> Response:
    """Remove a member from the elder's family (the care centre or an administrator)."""
    return _remove(rt, user, elder_id, user_id)

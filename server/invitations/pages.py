"""Pages: ``/elders/{id}/family`` (members, invitations, invite form) and ``/invite/{token}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server.admins import AdminRefused, check_new_admin
from server.api.deps import RuntimeDep, SessionDep
from server.errors import AppError
from server.ids import RowId
from server.invitations.family import (
    RELATIONS,
    accept_as,
    accept_new,
    elder_for_family,
    invite,
    members,
    open_invitation,
    pending,
    relation_label,
    remove_member,
    withdraw,
)
from server.links import REFUSAL_STATUS, LinkRefused
from server.models import User
from server.outgoing import deliver
from server.runtime import Runtime
from server.web.i18n import translate
from server.web.pages import (
    AnyForm,
    AnyUser,
    check_form,
    page_lang,
    page_user,
    render,
    same_origin_post,
)
from server.web.sessions import set_session_cookie, start_page_session

router = APIRouter(include_in_schema=False)
NOTICES = {
    "invited": "family.invited",
    "withdrawn": "family.withdrawn",
    "removed": "family.removed",
}


def family_page(
    request: Request, db: Session, user: User, elder_id: int, status: int = 200, **extra: Any
) -> HTMLResponse:
    """The family page of one elder, with a form's error and input if any."""
    elder = elder_for_family(db, user, elder_id)
    lang = page_lang(request, user)
    extra.setdefault("form", {"relation": "daughter", "lang": lang.value})
    return render(
        request,
        "invitations/family.html",
        user,
        status=status,
        elder=elder,
        members=members(db, elder.id),
        invitations=pending(db, elder.id),
        relations=RELATIONS,
        label=lambda relation: relation_label(lang, relation),
        can_remove=user.role in (Role.OPERATOR, Role.ADMIN),
        notice=NOTICES.get(request.query_params.get("done", "")),
        **extra,
    )


@router.get("/elders/{elder_id}/family")
def family(request: Request, db: SessionDep, user: AnyUser, elder_id: RowId) -> HTMLResponse:
    """Family of an elder: who follows them, who is invited, and inviting someone."""
    return family_page(request, db, user, elder_id)


@router.post("/elders/{elder_id}/family/invite")
def family_invite(
    request: Request,
    rt: RuntimeDep,
    db: SessionDep,
    user: AnyForm,
    elder_id: RowId,
    email: str = Form(""),
    relation: str = Form("daughter"),
    relation_other: str = Form(""),
    lang: str = Form("zh"),
) -> Response:
    """Send an invitation e-mail; the page shows it among the pending ones."""
    chosen = relation if relation in RELATIONS else relation_other
    language = Lang.EN if lang == "en" else Lang.ZH
    try:
        with rt.db.session() as work:
            elder = elder_for_family(work, user, elder_id)
            _, message_id = invite(work, rt, user, elder, email, chosen, language)
    except AppError as err:
        if err.status not in (409, 422):
            raise
        form = {"email": email, "relation": relation, "other": relation_other, "lang": lang}
        return family_page(
            request, db, user, elder_id, status=400, invite_error=err.message, form=form
        )
    deliver(rt, [message_id])
    return RedirectResponse(f"/elders/{elder_id}/family?done=invited", status_code=303)


@router.post("/elders/{elder_id}/family/invitations/{invitation_id}/withdraw")
def family_withdraw(
    db: SessionDep, user: AnyForm, elder_id: RowId, invitation_id: RowId
) -> Response:
    """Withdraw an invitation: its link stops working."""
    withdrawn_from = withdraw(db, user, invitation_id)
    return RedirectResponse(f"/elders/{withdrawn_from}/family?done=withdrawn", status_code=303)


@router.post("/elders/{elder_id}/family/leave")
def family_leave(request: Request, rt: RuntimeDep, user: AnyForm, elder_id: RowId) -> Response:
    """Stop following this elder (not as the last family member)."""
    try:
        with rt.db.session() as work:
            elder = elder_for_family(work, user, elder_id)
            remove_member(work, user, elder, user.id)
    except AppError as err:
        if err.status != 409:
            raise
        with rt.db.session() as db:
            return family_page(request, db, user, elder_id, status=409, leave_error=err.message)
    return RedirectResponse("/", status_code=303)


@router.post("/elders/{elder_id}/family/{user_id}/remove")
def family_remove(rt: RuntimeDep, user: AnyForm, elder_id: RowId, user_id: RowId) -> Response:
    """Remove a member (the care centre or an administrator)."""
    with rt.db.session() as work:
        elder = elder_for_family(work, user, elder_id)
        remove_member(work, user, elder, user_id)
    return RedirectResponse(f"/elders/{elder_id}/family?done=removed", status_code=303)


# --- accepting an invitation ---


def _refused(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "invitations/accept.html", None, status=status, refused=message)


def _link_refused(request: Request, err: LinkRefused) -> HTMLResponse:
    message = translate(page_lang(request, None), f"link.{err.reason.value}")
    return _refused(request, REFUSAL_STATUS[err.reason], message)


def _accept_page(
    request: Request, db: Session, rt: Runtime, token: str, status: int = 200, **extra: Any
) -> HTMLResponse:
    try:
        invitation = open_invitation(db, rt, token)
    except LinkRefused as err:
        return _link_refused(request, err)
    except AppError as err:
        return _refused(request, err.status, translate(page_lang(request, None), err.message))
    viewer = page_user(request, db)
    lang = page_lang(request, viewer)
    extra.setdefault("form", {"lang": lang.value})
    return render(
        request,
        "invitations/accept.html",
        viewer,
        status=status,
        token=token,
        invitation=invitation,
        relation=relation_label(lang, invitation.link.relation),
        signed_in_as_invitee=(
            viewer is not None
            and invitation.account is not None
            and viewer.id == invitation.account.id
        ),
        **extra,
    )


@router.get("/invite/{token}")
def accept_form(request: Request, rt: RuntimeDep, db: SessionDep, token: str) -> HTMLResponse:
    """Who invites whom, and how to accept: a new account, or log in to an existing one."""
    return _accept_page(request, db, rt, token)


@router.post("/invite/{token}")
def accept_submit(
    request: Request,
    rt: RuntimeDep,
    db: SessionDep,
    token: str,
    name: str = Form(""),
    password: str = Form(""),
    repeat: str = Form(""),
    lang: str = Form("zh"),
    csrf: str = Form(""),
) -> Response:
    """Accept: with the logged-in invited account, or by making the account."""
    viewer = page_user(request, db)
    lang_now = page_lang(request, viewer)
    try:
        if viewer is not None:
            check_form(request, csrf)
            with rt.db.session() as work:
                accept_as(work, rt, token, viewer)
            return RedirectResponse("/family", status_code=303)
        same_origin_post(request)
        chosen = Lang.EN if lang == "en" else Lang.ZH
        with rt.db.session() as work:
            invitation = open_invitation(work, rt, token)
            try:
                check_new_admin(invitation.link.email, name, password, repeat)
            except AdminRefused as err:
                message = translate(lang_now, err.key, **err.values)
                form = {"name": name, "lang": chosen.value}
                return _accept_page(request, db, rt, token, status=400, error=message, form=form)
            user = accept_new(work, rt, token, name, password, chosen)
            session_token = start_page_session(work, request, user)
    except LinkRefused as err:
        return _link_refused(request, err)
    except AppError as err:
        if err.status not in (403, 409):
            raise
        return _refused(request, err.status, translate(lang_now, err.message))
    response = RedirectResponse("/family", status_code=303)
    return set_session_cookie(response, rt, session_token)

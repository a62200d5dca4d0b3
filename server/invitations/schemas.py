"""Bodies of the family and invitation API (separate Create / Public shapes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from protocol import Lang
from server.schemas import Strict


class InvitationCreate(Strict):
    email: str = Field(min_length=3, max_length=255)
    relation: str = Field(min_length=1, max_length=60)
    lang: Lang = Lang.ZH


class InvitationPublic(BaseModel):
    id: int
    email: str
    relation: str
    expires_at: datetime


class MemberPublic(BaseModel):
    user_id: int
    name: str
    email: str
    relation: str
    since: datetime
    you: bool


class FamilyPublic(BaseModel):
    elder_id: int
    elder_name: str
    members: list[MemberPublic]
    invitations: list[InvitationPublic]

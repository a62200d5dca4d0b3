"""Bodies of the log-in API (separate Create / Public shapes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from protocol import Lang, Role
from server.schemas import Strict


class LoginCreate(Strict):
    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=200)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    name: str
    role: Role
    lang: Lang


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserPublic


class PasswordUpdate(Strict):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=400)


class PasswordResetCreate(Strict):
    email: str = Field(min_length=3, max_length=255)


class SessionPublic(BaseModel):
    id: int
    kind: str
    browser: str
    system: str
    user_agent: str
    ip: str
    started_at: datetime
    last_seen_at: datetime | None
    current: bool


class PasswordChangedPublic(BaseModel):
    other_sessions_ended: int

"""Server settings: one pydantic-settings class, read from ``ANXIN_*`` variables and ``.env``."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-secret-change-me"


class Environment(StrEnum):
    """Where the server runs; only development accepts the built-in secret key."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the server process."""

    model_config = SettingsConfigDict(env_prefix="ANXIN_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in data_dir"
    )
    secret_key: str = DEVELOPMENT_SECRET
    public_base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="lowest level logged (sweeps say what they did at INFO)"
    )
    session_hours: float = Field(default=12.0, gt=0)
    pairing_code_minutes: float = Field(default=10.0, gt=0)
    ws_heartbeat_seconds: float = Field(default=10.0, gt=0)
    ws_dead_after_seconds: float = Field(default=30.0, gt=0)
    login_attempts_per_minute: int = Field(default=10, gt=0)
    login_failures_per_minute_per_address: int = Field(
        default=30, gt=0, description="failed log-ins per address, whatever the accounts tried"
    )
    login_concurrent_hashes: int = Field(
        default=2, gt=0, description="password checks at once (argon2: ~19 MiB, one core each)"
    )
    login_queue: int = Field(
        default=256, ge=0, description="log-ins waiting for a password check; beyond: 503"
    )
    login_queue_wait_seconds: float = Field(
        default=5.0, gt=0, description="longest wait for a password check before a 503"
    )
    login_refusal_delay_seconds: float = Field(
        default=1.0, ge=0, description="a refused log-in (429/503) is answered after this long"
    )
    rate_limit_max_keys: int = Field(
        default=10_000, gt=0, description="addresses/accounts each rate limiter remembers"
    )
    max_body_bytes: int = Field(
        default=256 * 1024, gt=0, description="largest HTTP request body (413 beyond)"
    )
    ws_max_frame_bytes: int = Field(
        default=1024 * 1024, gt=0, description="largest WebSocket frame before the socket closes"
    )
    pairing_attempts_per_minute: int = Field(default=10, gt=0)
    pairing_requests_per_minute: int = Field(default=30, gt=0)
    default_lang: str = "zh"
    # Map tiles of the admin and elder forms ({z}/{x}/{y}); empty: no tiles, the map still
    # shows its marker and boundary on a plain background. Its host is allowed in the CSP.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "Anxin <noreply@anxin.local>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    scheduler_enabled: bool = True
    presence_push_seconds: float = Field(
        default=1.0,
        ge=0,
        description="at most one box online/offline push per page per this many seconds",
    )
    sos_escalation_seconds: float = Field(
        default=60.0, gt=0, description="SOS: seconds without acknowledgement before escalating"
    )
    # TEST ONLY: exit the process right after an SOS is committed, before its fan-out.
    fault_crash_after_sos_store: bool = False
    sweep_interval_scale: float = Field(
        default=1.0, gt=0, description="multiplies every periodic job's interval (tests: < 1)"
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env is not Environment.DEVELOPMENT and self.secret_key in ("", DEVELOPMENT_SECRET):
            raise ValueError(
                "ANXIN_SECRET_KEY must be set to a long random value outside development"
            )
        if self.env is not Environment.DEVELOPMENT and len(self.secret_key) < 32:
            raise ValueError("ANXIN_SECRET_KEY must be at least 32 characters outside development")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL actually used."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'anxin.sqlite3').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()

"""Everything one server process holds: settings, database, socket hub, threads, wiring, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.core.config import Settings
from server.core.db import Database
from server.features import Wiring
from server.notify import LogTextGateway, Notifier, TextGateway, make_notifier
from server.password_checks import PasswordCheckGate
from server.ratelimit import RateLimiter
from server.threads import Threads
from server.ws.hub import Hub
from server.ws.presence import Presence

RESETS_PER_HOUR = 5


@dataclass
class Runtime:
    """The process-wide objects, stored on ``app.state.rt``."""

    settings: Settings
    db: Database
    hub: Hub = field(default_factory=Hub)
    # What the listed features add (handler tables, hooks, sweeps, sections); set by create_app.
    wiring: Wiring = field(default_factory=Wiring)
    threads: Threads = field(init=False)
    presence: Presence = field(init=False)
    notifier: Notifier | None = None
    texts: TextGateway = field(default_factory=LogTextGateway)
    login_limiter: RateLimiter = field(init=False)
    login_address_limiter: RateLimiter = field(init=False)
    password_checks: PasswordCheckGate = field(init=False)
    pairing_limiter: RateLimiter = field(init=False)
    pairing_request_limiter: RateLimiter = field(init=False)
    reset_limiter: RateLimiter = field(init=False)  # password-reset e-mails asked for

    def __post_init__(self) -> None:
        if self.notifier is None:
            self.notifier = make_notifier(self.settings)
        self.threads = Threads(
            self.settings.login_concurrent_hashes, self.db.url.startswith("sqlite")
        )
        self.presence = Presence(
            self.db, self.hub, self.settings.presence_push_seconds, self.threads
        )
        cap = self.settings.rate_limit_max_keys
        self.login_limiter = RateLimiter(self.settings.login_attempts_per_minute, max_keys=cap)
        self.login_address_limiter = RateLimiter(
            self.settings.login_failures_per_minute_per_address, max_keys=cap
        )
        self.password_checks = PasswordCheckGate(
            self.settings.login_concurrent_hashes,
            self.settings.login_queue,
            self.settings.login_queue_wait_seconds,
            threads=lambda: self.threads.password_checks,
        )
        self.pairing_limiter = RateLimiter(self.settings.pairing_attempts_per_minute, max_keys=cap)
        self.pairing_request_limiter = RateLimiter(
            self.settings.pairing_requests_per_minute, max_keys=cap
        )
        # A few reset e-mails an hour per address asked about and per caller: enough for
        # someone who lost the first one, too few to flood a mailbox.
        self.reset_limiter = RateLimiter(RESETS_PER_HOUR, window=3600.0, max_keys=cap)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """A runtime with a database opened from ``settings``."""
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings=settings, db=Database(settings.sqlalchemy_url))

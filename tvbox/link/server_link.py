"""`ServerLink`: the box's one long-lived connection to the server.

One asyncio task runs a reconnect loop. Unpaired, it asks for a pairing code over HTTP
and waits on the WebSocket for ``paired``; paired, it says hello with its device token,
sends heartbeats, flushes the outbox and applies pushes. A link that hears nothing for
``heartbeat_misses`` heartbeat periods is dead: it is closed and re-opened after an
exponential backoff with jitter. Everything the app needs to know arrives as
`tvbox.events` objects through the ``on_event`` callback, on the loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from protocol import (
    Ack,
    ClientKind,
    ElderInfo,
    ElderUpdated,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    Message,
    Paired,
    PairingCode,
    PairingCodeRequest,
    PairingState,
    PairingStatus,
    PairingStatusRequest,
    ProtocolError,
    Revoked,
    RevokeReason,
    Welcome,
    dump_message,
    parse_message,
)
from tvbox.config import BoxConfig
from tvbox.errors import LinkClosed, PairingError
from tvbox.events import (
    ElderChanged,
    LinkEvent,
    LinkState,
    LinkStateChanged,
    OutboxAcked,
    PairedWithElder,
    PairingCodeIssued,
    ServerMessage,
    Unpaired,
    Welcomed,
)
from tvbox.outbox import Outbox
from tvbox.store import BoxStore

if TYPE_CHECKING:
    import httpx

_Body = TypeVar("_Body", bound=BaseModel)

log = logging.getLogger(__name__)

REVOKED_CLOSE_CODE = 4401
PAIRING_CODE_LIFETIME_S = 600.0
_NETWORK_ERRORS = (OSError, TimeoutError, ConnectionClosed, InvalidHandshake)


class Backoff:
    """Exponential backoff with jitter: initial, ×factor each failure, capped at maximum."""

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.25,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.initial, self.maximum, self.factor, self.jitter = initial, maximum, factor, jitter
        self.rng = rng
        self.failures = 0

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; each call counts one more failure."""
        base = min(self.maximum, self.initial * self.factor**self.failures)
        self.failures += 1
        spread = 1.0 - self.jitter + 2.0 * self.jitter * self.rng()
        return min(self.maximum, base * spread)

    def reset(self) -> None:
        """A connection succeeded: start again from `initial`."""
        self.failures = 0


@dataclass
class _PendingPairing:
    code: str
    secret: str
    expires_at: datetime
    deadline: float  # time.monotonic() after which the code is no longer valid

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline


class ServerLink:
    """The reconnecting client of ``/ws/box`` and the pairing HTTP calls."""

    def __init__(
        self,
        config: BoxConfig,
        store: BoxStore,
        outbox: Outbox,
        on_event: Callable[[LinkEvent], None],
    ) -> None:
        self.config = config
        self.store = store
        self.outbox = outbox
        self.on_event = on_event
        self.state = LinkState.OFFLINE
        self.backoff = Backoff(config.reconnect_initial_seconds, config.reconnect_max_seconds)
        self._pairing: _PendingPairing | None = None
        self._outbox_changed = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._live_ws: ClientConnection | None = None
        self._http: httpx.AsyncClient | None = None  # only while unpaired

    # -- factories (tests may swap these) ----------------------------------

    def _make_http_client(self) -> httpx.AsyncClient:
        # Imported here: only an unpaired box speaks HTTP, and httpx with its client (TLS
        # context, httpcore) is ~11 MB that a paired box, i.e. nearly every box, does without.
        import httpx

        return httpx.AsyncClient(
            base_url=self.config.server_url, timeout=self.config.http_timeout_seconds
        )

    def _make_websocket(self) -> Any:
        return connect(
            self.config.ws_url,
            open_timeout=self.config.http_timeout_seconds,
            close_timeout=2.0,
            ping_interval=None,  # liveness is the protocol's own heartbeat
            max_size=64 * 1024,
        )

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Start the link task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name="server-link")
        return self._task

    def stop(self) -> None:
        """Stop reconnecting and close the connection."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()

    async def wait_stopped(self) -> None:
        """Wait until the link task has finished after `stop()`."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def send_now(self, message: Message) -> bool:
        """Send a live message (e.g. call signaling) if online; False when it could not go.

        Anything that must not be lost goes through the outbox instead.
        """
        ws = self._live_ws
        if ws is None:
            return False
        try:
            await ws.send(dump_message(message))
        except _NETWORK_ERRORS:
            return False
        return True

    def outbox_changed(self) -> None:
        """Tell the link a new outbox item is waiting to be sent."""
        self._outbox_changed.set()

    async def run(self) -> None:
        """The reconnect loop; returns only when stopped."""
        try:
            while not self._stopping:
                try:
                    if self.store.device_token:
                        await self._close_http()
                        await self._paired_session()
                    else:
                        await self._pairing_session()
                    continue  # paired or unpaired just now: switch mode at once
                except (*_NETWORK_ERRORS, LinkClosed, PairingError) as err:
                    log.info("server link down: %s", err)
                except Exception:  # a box must keep trying whatever the server sent
                    log.exception("server link failed unexpectedly")
                self._set_state(LinkState.OFFLINE)
                await asyncio.sleep(self.backoff.next_delay())
        finally:
            self._set_state(LinkState.OFFLINE)
            await self._close_http()

    async def _close_http(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    # -- state and events ----------------------------------------------------

    def _set_state(self, state: LinkState) -> None:
        if state is not self.state:
            self.state = state
            self._emit(LinkStateChanged(state))

    def _emit(self, event: LinkEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a broken listener must not kill the link
            log.exception("link event handler failed on %r", event)

    # -- pairing -------------------------------------------------------------

    async def _pairing_session(self) -> None:
        self._set_state(LinkState.CONNECTING)
        if self._http is None:
            self._http = self._make_http_client()
        import httpx  # loaded by _make_http_client

        try:
            if self._pairing is not None and not self._pairing.expired:
                if await self._check_pairing_status(self._http):
                    return
            if self._pairing is None or self._pairing.expired:
                self._pairing = await self._request_code(self._http)
                self._emit(PairingCodeIssued(self._pairing.code, self._pairing.expires_at))
        except httpx.HTTPError as err:  # unreachable, timed out, or a 5xx on status
            raise PairingError("http", str(err) or type(err).__name__) from err
        pairing = self._pairing
        async with self._make_websocket() as ws:
            hello = Hello(
                client=ClientKind.BOX,
                pairing_secret=pairing.secret,
                app_version=self.config.app_version,
            )
            welcome = await self._hello(ws, hello)
            if welcome is None:
                # Keep the code: the next attempt asks /api/pairing/status first and drops it
                # only if the server says it is unknown or expired. (A server may refuse a
                # code it handed out a moment ago while its database commit is in flight.)
                raise PairingError("unauthorized", "server refused this pairing code")
            self.backoff.reset()
            self._set_state(LinkState.PAIRING)

            async def on_message(message: Message) -> bool:
                if isinstance(message, Paired):
                    self._adopt(message.device_id, message.device_token, message.elder)
                    return True
                return False

            finished = await self._converse(ws, welcome.heartbeat_seconds, on_message, pairing)
            if not finished:  # the code expired while we waited
                self._pairing = None

    async def _request_code(self, http: httpx.AsyncClient) -> _PendingPairing:
        body = PairingCodeRequest(app_version=self.config.app_version)
        response = await http.post("/api/pairing/requests", json=body.model_dump(mode="json"))
        if response.status_code == 429:
            raise PairingError("rate_limited", _detail(response))
        if response.status_code != 201:
            raise PairingError("pairing_refused", f"{response.status_code}: {_detail(response)}")
        issued = _parse_body(PairingCode, response)
        expires_at = issued.expires_at
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        remaining = (expires_at - datetime.now(UTC)).total_seconds()
        if not 0 < remaining <= PAIRING_CODE_LIFETIME_S:
            remaining = PAIRING_CODE_LIFETIME_S  # clocks disagree: trust the documented lifetime
        return _PendingPairing(
            code=issued.code,
            secret=issued.pairing_secret,
            expires_at=expires_at,
            deadline=time.monotonic() + remaining,
        )

    async def _check_pairing_status(self, http: httpx.AsyncClient) -> bool:
        """HTTP fallback after a reconnect: True if a family member paired us meanwhile."""
        assert self._pairing is not None
        body = PairingStatusRequest(pairing_secret=self._pairing.secret)
        response = await http.post("/api/pairing/status", json=body.model_dump(mode="json"))
        if response.status_code == 404:
            self._pairing = None
            return False
        response.raise_for_status()
        status = _parse_body(PairingStatus, response)
        if status.state is PairingState.PAIRED:
            if status.device_id is None or status.device_token is None or status.elder is None:
                raise PairingError("pairing_refused", "paired status without token or elder")
            self._adopt(status.device_id, status.device_token, status.elder)
            return True
        if status.state is PairingState.EXPIRED:
            self._pairing = None
        return False

    def _adopt(self, device_id: int, device_token: str, elder: ElderInfo) -> None:
        self.store.save_pairing(device_id, device_token, elder)
        self._pairing = None
        self._emit(PairedWithElder(device_id, elder))

    # -- paired --------------------------------------------------------------

    async def _paired_session(self) -> None:
        token = self.store.device_token
        assert token is not None
        self._set_state(LinkState.CONNECTING)
        try:
            async with self._make_websocket() as ws:
                hello = Hello(
                    client=ClientKind.BOX,
                    device_token=token,
                    app_version=self.config.app_version,
                    lang=self.store.ui_lang,
                )
                welcome = await self._hello(ws, hello)
                if welcome is None:
                    self._unpair("unauthorized")
                    return
                if welcome.elder is not None:
                    self.store.save_elder(welcome.elder)
                self._emit(Welcomed(welcome.device_id, welcome.elder))
                self.backoff.reset()
                self._set_state(LinkState.ONLINE)
                pump = asyncio.create_task(self._pump_outbox(ws), name="outbox-pump")
                self._live_ws = ws
                try:
                    await self._converse(ws, welcome.heartbeat_seconds, self._on_paired_message)
                finally:
                    self._live_ws = None
                    pump.cancel()
                    with contextlib.suppress(asyncio.CancelledError, *_NETWORK_ERRORS):
                        await pump
        except ConnectionClosed as err:
            if err.rcvd is not None and err.rcvd.code == REVOKED_CLOSE_CODE:
                self._unpair("revoked")
                return
            raise

    async def _on_paired_message(self, message: Message) -> bool:
        if isinstance(message, Ack):
            if self.outbox.mark_acked(message.key) or message.duplicate:
                self._emit(OutboxAcked(message.key, message.duplicate))
        elif isinstance(message, ElderUpdated):
            self.store.save_elder(message.elder)
            self._emit(ElderChanged(message.elder))
        elif isinstance(message, Revoked):
            ended = message.reason is RevokeReason.SERVICE_ENDED
            self._unpair(RevokeReason.SERVICE_ENDED.value if ended else "revoked")
            return True
        elif isinstance(message, Error):
            if message.code is ErrorCode.UNAUTHORIZED:
                self._unpair("unauthorized")
                return True
            log.warning("server error %s: %s (ref %s)", message.code, message.message, message.ref)
            self._emit(ServerMessage(message))
        elif not isinstance(message, Heartbeat):
            self._emit(ServerMessage(message))
        return False

    def _unpair(self, reason: str) -> None:
        self.store.forget_pairing()
        # Queued messages were meant for the elder of the old pairing; after a new pairing
        # they could reach someone else's record, so they go with the token.
        dropped = self.outbox.discard_pending()
        if dropped:
            log.warning("unpaired (%s): dropped %d undelivered outbox items", reason, dropped)
        self._pairing = None
        self._emit(Unpaired(reason))

    async def _pump_outbox(self, ws: ClientConnection) -> None:
        """Send pending outbox items in order: all of them now, then each new one."""
        sent: set[str] = set()
        while True:
            self._outbox_changed.clear()
            for item in self.outbox.pending():
                if item.key not in sent:
                    await ws.send(dump_message(item.message))
                    sent.add(item.key)
            await self._outbox_changed.wait()

    # -- shared conversation -------------------------------------------------

    async def _hello(self, ws: ClientConnection, hello: Hello) -> Welcome | None:
        """Send `hello`; the Welcome, or None if the credential was refused."""
        await ws.send(dump_message(hello))
        while True:
            raw = await asyncio.wait_for(ws.recv(), self.config.http_timeout_seconds)
            message = _parse(raw)
            if isinstance(message, Welcome):
                return message
            if isinstance(message, Error) and message.code is ErrorCode.UNAUTHORIZED:
                return None
            if isinstance(message, Error):
                raise LinkClosed("hello_refused", f"{message.code}: {message.message}")

    async def _converse(
        self,
        ws: ClientConnection,
        heartbeat_seconds: float,
        on_message: Callable[[Message], Awaitable[bool]],
        pairing: _PendingPairing | None = None,
    ) -> bool:
        """Heartbeat and receive until `on_message` returns True (→ True) or the code expires."""
        silence_limit = heartbeat_seconds * self.config.heartbeat_misses
        beat = asyncio.create_task(self._heartbeat(ws, heartbeat_seconds), name="heartbeat")
        try:
            while True:
                timeout = silence_limit
                if pairing is not None:
                    timeout = min(timeout, max(0.0, pairing.deadline - time.monotonic()))
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout)
                except TimeoutError:
                    if pairing is not None and pairing.expired:
                        return False
                    raise LinkClosed("dead", f"nothing heard for {silence_limit:.0f} s") from None
                message = _parse(raw)
                if message is not None and await on_message(message):
                    return True
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, *_NETWORK_ERRORS):
                await beat

    async def _heartbeat(self, ws: ClientConnection, period: float) -> None:
        while True:
            await asyncio.sleep(period)
            await ws.send(dump_message(Heartbeat()))


def _parse(raw: str | bytes) -> Message | None:
    try:
        return parse_message(raw)
    except ProtocolError as err:
        log.warning("ignoring bad message from server: %s", err)
        return None


def _parse_body(model: type[_Body], response: httpx.Response) -> _Body:
    """The response's body as the protocol model it must be; a wrong body is a refusal."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as err:
        raise PairingError("pairing_refused", f"unexpected answer from the server: {err}") from err


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text

"""Refusing HTTP request bodies larger than any legitimate request, before they are read.

The largest body the server takes is a form or JSON document of a few kilobytes (care
notes are capped at 5 000 characters), except the CSV register of elders uploaded to the
paths given in ``larger``. Without a limit, a 40 MB body
sent to a log-in endpoint was buffered whole and cost 170 MB of memory.

A pure ASGI middleware, so that it sees the body as it streams: a declared
``Content-Length`` over the limit is answered 413 without reading a byte; a chunked body
is counted as it arrives and answered 413 as soon as it passes the limit.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from protocol import ErrorCode

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """Raised into the application when a streamed body passes the limit (already answered)."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP parser refuses these before we see them
    return None


class BodySizeLimit:
    """Answer 413 JSON ``{"detail", "code": "too_large"}`` to bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Upload routes (a city's CSV register of elders) take more: path -> their limit.
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body; refuse it once it is too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, declared, limit)
            return

        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started:
                        await self._refuse(scope, send, received, limit)
                    refused = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; whatever the app says after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, send: Send, size: int, limit: int) -> None:
        log.warning(
            "refused a request body of %s+ bytes to %s (limit %s)",
            size,
            scope.get("path"),
            limit,
        )
        body = json.dumps(
            {
                "detail": f"request body larger than the limit of {limit} bytes",
                "code": ErrorCode.TOO_LARGE.value,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

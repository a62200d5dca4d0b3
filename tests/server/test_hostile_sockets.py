"""Hostile frames on both sockets: each gets an `error`, and the same socket keeps answering.

Nested JSON (a RecursionError in the decoder), frames over the protocol's 64 KiB, random
frames and floods, on `/ws/box` and `/ws/web`, before and after hello; and the hard cap of
the real server (a frame over 1 MiB closes the socket instead of being buffered).
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from protocol import (
    ClientKind,
    Error,
    ErrorCode,
    Heartbeat,
    Hello,
    MedPlans,
    Welcome,
    dump_message,
    parse_message,
)
from protocol.codec import KNOWN_TYPES
from server.core.security import new_token, token_hash
from server.models import Device
from server.runtime import Runtime
from tests.conftest import bearer
from tests.server.test_box_socket import pair_box, recv, send
from tests.support.live_server import LiveServer
from tests.support.waiting import scaled
from tests.support.world import PASSWORD, World

NESTED = "[" * 30000 + "]" * 30000  # 60 KB: under the size limit, far over any depth
NESTED_OBJECT = '{"type": "heartbeat", "id": "n", "x": ' + '{"a": ' * 5000 + "1" + "}" * 5001
OVERSIZE_TEXT = json.dumps({"type": "heartbeat", "id": "big", "pad": "x" * 70_000})
OVERSIZE_BYTES = b"[" * 200_000


def _hello(client: TestClient, world: World, path: str) -> Hello:
    if path == "/ws/box":
        token, _ = pair_box(client, world)
        return Hello(client=ClientKind.BOX, device_token=token)
    return Hello(
        client=ClientKind.WEB, token=bearer(client, world.family_a.email)["Authorization"][7:]
    )


@pytest.mark.parametrize("path", ["/ws/box", "/ws/web"])
@pytest.mark.parametrize("logged_in", [False, True], ids=["before-hello", "after-hello"])
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (NESTED, ErrorCode.MALFORMED),
        (NESTED.encode(), ErrorCode.MALFORMED),
        (NESTED_OBJECT, ErrorCode.MALFORMED),
        (OVERSIZE_TEXT, ErrorCode.TOO_LARGE),
        (OVERSIZE_BYTES, ErrorCode.TOO_LARGE),
    ],
    ids=["nested-text", "nested-binary", "nested-object", "oversize-text", "oversize-binary"],
)
def test_hostile_frame_gets_an_error_and_the_socket_still_answers(
    client: TestClient,
    world: World,
    path: str,
    logged_in: bool,
    frame: str | bytes,
    code: ErrorCode,
) -> None:
    hello = _hello(client, world, path)
    with client.websocket_connect(path) as ws:
        if logged_in:
            send(ws, hello)
            assert isinstance(recv(ws), Welcome)
            if path == "/ws/box":
                assert isinstance(recv(ws), MedPlans)  # the state sent on connect
        if isinstance(frame, bytes):
            ws.send_bytes(frame)
        else:
            ws.send_text(frame)
        err = recv(ws)
        assert isinstance(err, Error) and err.code is code, err
        assert err.ref is None, "a refused frame is never decoded, not even for its id"
        if logged_in:
            send(ws, Heartbeat(id="after"))
            answer = recv(ws)
            assert isinstance(answer, Heartbeat) and answer.id == "after"
        else:
            send(ws, hello)
            assert isinstance(recv(ws), Welcome), "the same socket can still say hello"


# --- against the real server (uvicorn): hard cap, random frames, floods -----------------


@dataclass
class Credentials:
    """Hellos that log in on each socket of a live server."""

    box: Hello
    web: Hello


@pytest.fixture
def credentials(rt: Runtime, world: World, live_server: LiveServer) -> Credentials:
    """A paired box's and a family member's hello for the live server."""
    device_token = new_token()
    with rt.db.session() as db:
        db.add(Device(elder_id=world.elder_a.id, token_hash=token_hash(device_token)))
    resp = httpx.post(
        f"{live_server.url}/api/auth/login",
        json={"email": world.family_a.email, "password": PASSWORD},
    )
    assert resp.status_code == 200, resp.text
    return Credentials(
        box=Hello(client=ClientKind.BOX, device_token=device_token),
        web=Hello(client=ClientKind.WEB, token=resp.json()["access_token"]),
    )


@pytest.fixture
def sockets(live_server: LiveServer) -> Iterator[dict[str, str]]:
    """WebSocket URLs of the live server's two sockets."""
    yield {"box": f"{live_server.ws_url}/ws/box", "web": f"{live_server.ws_url}/ws/web"}


def _until_heartbeat(ws: ClientConnection, probe: str) -> list[object]:
    """Everything the server sends up to (and with) the answer to heartbeat ``probe``."""
    got: list[object] = []
    while True:
        message = parse_message(ws.recv(timeout=scaled(10)))
        got.append(message)
        if isinstance(message, Heartbeat) and message.id == probe:
            return got


def _random_json(rng: random.Random, depth: int) -> object:
    pick = rng.randrange(7 if depth < 60 else 4)
    if pick == 0:
        return rng.randint(-(2**70), 2**70)
    if pick == 1:
        return "".join(rng.choice(string.printable + "中文\u0000\ud7ff") for _ in range(8))
    if pick == 2:
        return rng.choice([None, True, False, 1.5e308, -0.0])
    if pick == 3:
        return {"type": rng.choice(sorted(KNOWN_TYPES)), "id": str(rng.random())[:10]}
    if pick in (4, 5):
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(["type", "id", "key", "x"]): _random_json(rng, depth + 1)}


def _random_frame(rng: random.Random) -> str | bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    if kind == 1:
        return "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 300)))
    if kind == 2:  # deep nesting of random opening brackets, closed or not
        depth = rng.randrange(20, 20000)
        opens = "".join(rng.choice("[{") if rng.random() < 0.9 else '{"a":' for _ in range(depth))
        return opens + ("]" * depth if rng.random() < 0.5 else "")
    if kind == 3:  # a known type with random (mostly wrong) fields
        fields = {"type": rng.choice(sorted(KNOWN_TYPES))}
        for _ in range(rng.randrange(4)):
            fields[rng.choice(["id", "key", "client", "source", "lang", "x"])] = _random_json(
                rng, 55
            )
        return json.dumps(fields)
    if kind == 4:  # oversize, under the hard cap
        return "x" * rng.randrange(65_537, 300_000)
    return json.dumps(_random_json(rng, 0))


@pytest.mark.parametrize("side", ["box", "web"])
@pytest.mark.parametrize("logged_in", [False, True], ids=["before-hello", "after-hello"])
def test_fuzzed_and_flooded_socket_stays_open_and_answers(
    credentials: Credentials, sockets: dict[str, str], side: str, logged_in: bool
) -> None:
    rng = random.Random(f"{side}-{logged_in}")  # seeded: a failure replays the same frames
    hello = credentials.box if side == "box" else credentials.web
    with connect(sockets[side], max_size=2**20, open_timeout=scaled(10)) as ws:
        if logged_in:
            ws.send(dump_message(hello))
            assert isinstance(parse_message(ws.recv(timeout=scaled(10))), Welcome)
        for n in range(200):
            frame = _random_frame(rng)
            ws.send(frame)
            ws.send(dump_message(Heartbeat(id=f"p{n}")))
            replies = _until_heartbeat(ws, f"p{n}") if logged_in else []
            if not logged_in:  # before hello a heartbeat is refused: read both errors
                replies = [parse_message(ws.recv(timeout=scaled(10))) for _ in range(2)]
                last = replies[-1]
                assert isinstance(last, Error) and last.code is ErrorCode.UNAUTHORIZED, replies
                assert last.ref == f"p{n}", (frame[:80], replies)
            internal = [r for r in replies if isinstance(r, Error) and r.code is ErrorCode.INTERNAL]
            assert not internal, (frame[:80], internal)

        # A flood: 300 frames sent without reading, then every answer, in order.
        for n in range(150):
            ws.send(NESTED if n % 2 else dump_message(Heartbeat(id=f"f{n}")))
        ws.send(dump_message(Heartbeat(id="last")))
        if logged_in:
            replies = _until_heartbeat(ws, "last")
            beats = [r.id for r in replies if isinstance(r, Heartbeat)]
            assert beats == [f"f{n}" for n in range(0, 150, 2)] + ["last"]
            assert sum(isinstance(r, Error) for r in replies) == 75
        else:
            replies = [parse_message(ws.recv(timeout=scaled(10))) for _ in range(151)]
            assert all(isinstance(r, Error) for r in replies)
            assert replies[-1].ref == "last"
        ws.send(dump_message(hello if not logged_in else Heartbeat(id="end")))
        assert isinstance(parse_message(ws.recv(timeout=scaled(10))), Welcome | Heartbeat)


@pytest.mark.parametrize("side", ["box", "web"])
# The server may reset the connection mid-frame; the test's websockets client logs that.
@pytest.mark.expect_error_log("^unexpected internal error$")
def test_real_server_closes_a_socket_sending_a_frame_over_the_hard_cap(
    live_server: LiveServer, sockets: dict[str, str], side: str
) -> None:
    with (
        pytest.raises(ConnectionClosed) as closed,  # raised by recv or by the closing handshake
        connect(sockets[side], open_timeout=scaled(10)) as ws,
    ):
        ws.send("[" * 500_000)  # over 64 KiB, under 1 MiB: an error, socket open
        assert parse_message(ws.recv(timeout=scaled(10))).code is ErrorCode.TOO_LARGE
        ws.send(dump_message(Heartbeat(id="still")))
        assert parse_message(ws.recv(timeout=scaled(10))).ref == "still"
        ws.send("x" * (2 * 2**20))  # over the hard cap: closed (1009), never buffered whole
        ws.recv(timeout=scaled(10))
    # 1009 (message too big), or a reset when the server hangs up while the frame streams in.
    assert closed.value.rcvd is None or closed.value.rcvd.code == 1009, closed.value
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200, "the server is fine"

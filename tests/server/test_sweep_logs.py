"""An idle server writes no log line per scheduler tick; a sweep that did something says what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.core.db import Database
from tests.support.live_server import LiveServer
from tests.support.waiting import wait_until
from tests.support.world import add_escalation_chain, make_device, make_world

pytestmark = pytest.mark.e2e

# What APScheduler says at INFO on every run ("Running job ...", "... executed successfully").
TICK = re.compile(r"Running job|executed successfully|Added job|nothing to do", re.IGNORECASE)


@pytest.fixture
def chatty_server(db_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """A server at DEBUG with sweeps every 50 ms, and a paired box's token."""
    database = Database(db_url)
    with database.session() as db:
        world = make_world(db)
        add_escalation_chain(db, world)
        token, _ = make_device(db, world.elder_a)
    database.dispose()
    server = LiveServer(
        db_url=db_url,
        data_dir=tmp_path / "server",
        extra_env={
            "ANXIN_LOG_LEVEL": "DEBUG",
            "ANXIN_SWEEP_INTERVAL_SCALE": "0.05",
            "ANXIN_SOS_ESCALATION_SECONDS": "1",
        },
    )
    server.start()
    yield server, token
    server.stop()


def lines(server: LiveServer, level: str) -> list[str]:
    """The server's log lines at ``level``."""
    assert server.log_path is not None
    text = server.log_path.read_text("utf-8", "replace")
    return [line for line in text.splitlines() if f" {level} " in line]


def test_idle_sweeps_log_nothing_at_info_and_busy_ones_say_what_they_did(
    chatty_server: tuple[LiveServer, str],
) -> None:
    server, box_token = chatty_server
    # The SOS sweep runs every 50 ms: forty idle runs, each a DEBUG line and no INFO line.
    wait_until(
        lambda: sum("sos_sweep: nothing to do" in line for line in lines(server, "DEBUG")) >= 40,
        what="forty idle SOS sweeps",
    )
    ticks = [line for line in lines(server, "INFO") if TICK.search(line) or "sweep" in line]
    assert ticks == [], "an idle server logs its scheduler's ticks:\n" + "\n".join(ticks)
    # An SOS nobody acknowledges is escalated by the sweep: that is worth a line at INFO.
    resp = httpx.post(
        f"{server.url}/api/box/sensor-events",
        json={"key": "fall-logs-0001", "kind": "fall"},
        headers={"Authorization": f"Bearer {box_token}"},
    )
    assert resp.status_code == 201, resp.text
    said = wait_until(
        lambda: [line for line in lines(server, "INFO") if "SOS steps sent" in line],
        what="the escalation said at INFO",
    )
    assert "sos_sweep: 1 SOS steps sent" in said[0]
    assert not [line for line in lines(server, "INFO") if TICK.search(line)]

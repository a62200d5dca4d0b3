"""Reconnect backoff: doubles from the initial delay, is capped, and is jittered."""

from __future__ import annotations

import random

from tvbox.link.server_link import Backoff


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    backoff = Backoff(initial=0.5, maximum=30, jitter=0.0)
    assert [backoff.next_delay() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_jitter_stays_within_bounds_and_spreads_boxes_apart() -> None:
    rng = random.Random(7)
    delays = []
    for _ in range(200):
        backoff = Backoff(initial=1.0, maximum=30, jitter=0.25, rng=rng.random)
        delays.append(backoff.next_delay())
    assert min(delays) >= 0.75 and max(delays) <= 1.25
    assert max(delays) - min(delays) > 0.3  # not every box retries at the same instant


def test_jitter_never_exceeds_the_cap() -> None:
    backoff = Backoff(initial=20, maximum=30, jitter=0.5, rng=lambda: 1.0)
    assert all(backoff.next_delay() <= 30 for _ in range(5))

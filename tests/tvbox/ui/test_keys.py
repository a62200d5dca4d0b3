"""The one key table: every remote key a TV remote or keyboard sends maps to its action."""

from __future__ import annotations

import pytest

from tvbox.ui.keys import KEY_TABLE, RemoteAction, action_for


@pytest.mark.parametrize(
    ("keycode", "action"),
    [
        (273, RemoteAction.UP),
        (274, RemoteAction.DOWN),
        (276, RemoteAction.LEFT),
        (275, RemoteAction.RIGHT),
        (13, RemoteAction.OK),
        (271, RemoteAction.OK),
        (27, RemoteAction.BACK),
        (8, RemoteAction.BACK),
        (278, RemoteAction.HOME),
        (48, RemoteAction.DIGIT_0),
        (57, RemoteAction.DIGIT_9),
        (256, RemoteAction.DIGIT_0),
        (265, RemoteAction.DIGIT_9),
        (282, RemoteAction.RED),
        (283, RemoteAction.GREEN),
        (284, RemoteAction.YELLOW),
        (285, RemoteAction.BLUE),
        (ord("r"), RemoteAction.RED),
        (ord("g"), RemoteAction.GREEN),
        (ord("y"), RemoteAction.YELLOW),
        (ord("b"), RemoteAction.BLUE),
    ],
)
def test_remote_keys_map_to_actions(keycode: int, action: RemoteAction) -> None:
    assert action_for(keycode) is action


def test_every_action_has_a_key() -> None:
    assert set(KEY_TABLE.values()) == set(RemoteAction)


def test_unknown_keys_do_nothing() -> None:
    assert action_for(ord("q")) is None
    assert action_for(32) is None


def test_digit_actions_know_their_digit() -> None:
    assert [action_for(48 + n).digit for n in range(10)] == list(range(10))  # type: ignore[union-attr]
    assert RemoteAction.OK.digit is None

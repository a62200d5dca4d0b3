"""THE one table mapping remote-control keycodes (Kivy numbering) to `RemoteAction`.

Kivy keycodes: arrows 273–276, Enter 13, keypad Enter 271, Escape 27, Backspace 8,
Home 278, digits 48–57, keypad digits 256–265.

Colour keys: TV remotes that present themselves as keyboards have no standard code for
the red/green/yellow/blue keys, so each is reachable two ways: F1–F4 (282–285, what most
USB/Bluetooth remotes and HDMI-CEC bridges can be configured to send) and the letters
r/g/y/b (a keyboard on the bench). What they do:

- RED    → SOS, from every screen (same path as the SOS tile).
- GREEN  → say the current prompt again.
- YELLOW → home.
- BLUE   → settings (language).
"""

from __future__ import annotations

from enum import Enum


class RemoteAction(Enum):
    """What the elder asked for with one key press."""

    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"
    OK = "ok"
    BACK = "back"
    HOME = "home"
    DIGIT_0 = "digit_0"
    DIGIT_1 = "digit_1"
    DIGIT_2 = "digit_2"
    DIGIT_3 = "digit_3"
    DIGIT_4 = "digit_4"
    DIGIT_5 = "digit_5"
    DIGIT_6 = "digit_6"
    DIGIT_7 = "digit_7"
    DIGIT_8 = "digit_8"
    DIGIT_9 = "digit_9"
    RED = "red"
    GREEN = "green"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def digit(self) -> int | None:
        """0–9 for the digit actions, None for the others."""
        if self.name.startswith("DIGIT_"):
            return int(self.name[-1])
        return None


_DIGITS = [getattr(RemoteAction, f"DIGIT_{n}") for n in range(10)]

KEY_TABLE: dict[int, RemoteAction] = {
    273: RemoteAction.UP,
    274: RemoteAction.DOWN,
    276: RemoteAction.LEFT,
    275: RemoteAction.RIGHT,
    13: RemoteAction.OK,
    271: RemoteAction.OK,
    27: RemoteAction.BACK,
    8: RemoteAction.BACK,
    278: RemoteAction.HOME,
    **{48 + n: _DIGITS[n] for n in range(10)},
    **{256 + n: _DIGITS[n] for n in range(10)},
    282: RemoteAction.RED,
    283: RemoteAction.GREEN,
    284: RemoteAction.YELLOW,
    285: RemoteAction.BLUE,
    ord("r"): RemoteAction.RED,
    ord("g"): RemoteAction.GREEN,
    ord("y"): RemoteAction.YELLOW,
    ord("b"): RemoteAction.BLUE,
}

# Keycodes by action, for tests and the local API (first listed code wins).
KEYCODE_FOR: dict[RemoteAction, int] = {}
for _code, _action in KEY_TABLE.items():
    KEYCODE_FOR.setdefault(_action, _code)


def action_for(keycode: int) -> RemoteAction | None:
    """The action for a Kivy keycode, or None if the key means nothing on this box."""
    return KEY_TABLE.get(keycode)

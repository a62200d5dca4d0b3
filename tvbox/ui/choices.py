"""What a screen of numbered choices shows (appointments, meals): a title, a body, at most six
numbered choices and a hint, already in words, and the focus among the choices. No Kivy."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import MAX_CHOICES
from tvbox.ui.keys import RemoteAction


@dataclass(frozen=True)
class Choice:
    """One numbered choice on a screen."""

    number: int
    label: str
    focused: bool


@dataclass(frozen=True)
class PageView:
    """Everything one screen of choices shows; ``alert``: drawn as a reminder over the rest."""

    title: str
    body: str
    choices: tuple[Choice, ...]
    hint: str
    alert: bool = False


class Focus:
    """The focused one of at most six choices; arrows stop at the ends."""

    def __init__(self) -> None:
        self.index = 0

    def move(self, action: RemoteAction, count: int) -> bool:
        """Up/Left go back one, Down/Right forward one; False at an end."""
        step = -1 if action in (RemoteAction.UP, RemoteAction.LEFT) else 1
        target = self.index + step
        if not 0 <= target < min(count, MAX_CHOICES):
            return False
        self.index = target
        return True

    def clamp(self, count: int) -> None:
        """Keep the focus on an existing choice."""
        self.index = max(0, min(self.index, min(count, MAX_CHOICES) - 1))


def choices(labels: list[str], focus: int) -> tuple[Choice, ...]:
    """Numbered choices (at most six) with one focused."""
    return tuple(
        Choice(number=i + 1, label=label, focused=i == focus)
        for i, label in enumerate(labels[:MAX_CHOICES])
    )

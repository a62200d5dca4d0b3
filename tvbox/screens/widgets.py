"""Widgets shared by the screens: the big focusable tile, the option bar and the link badge.

Sizes are design pixels at 1080p multiplied by ``app.scale`` in the kv rules.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget


class Tile(Widget):
    """A home tile: number, label, alert colour; focused tiles grow and wear a thick ring."""

    number = StringProperty("")
    label = StringProperty("")
    focused = BooleanProperty(False)
    alert = BooleanProperty(False)
    grow = NumericProperty(0)

    def on_focused(self, _instance: object, focused: bool) -> None:
        """Grow when focused so the focus can be seen across the room."""
        self.grow = 0.03 if focused else 0


class OptionBar(Widget):
    """A full-width choice (settings): number, label, focus ring."""

    number = StringProperty("")
    label = StringProperty("")
    focused = BooleanProperty(False)


class LinkBadge(Widget):
    """The always-visible connection state in the top right corner."""

    label = StringProperty("")
    state = StringProperty("offline")

"""Widgets shared by the screens: big text, the focusable tile, the option bar, the link badge,
and the screen of numbered choices (appointments, meals).

Sizes are design pixels at 1080p multiplied by ``app.scale`` in the kv rules.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from tvbox.ui.choices import PageView
from tvbox.ui.linebreak import has_cjk, wrap_cjk


class BigLabel(Label):
    """Large centred text; Chinese is broken into lines by `tvbox.ui.linebreak` (Kivy would
    break it at any character, full stops included)."""

    text: str  # Label's StringProperty, typed for mypy

    def __init__(self, **kwargs: Any) -> None:
        self._source = ""  # the text as set, before line breaks were added
        self._wrapped = ""  # the text this label set itself
        self._rewrap = Clock.create_trigger(self._wrap, -1)
        super().__init__(**kwargs)
        self.bind(text=self._rewrap, width=self._rewrap, font_size=self._rewrap)
        self._rewrap()

    def _wrap(self, *_args: object) -> None:
        if self.text != self._wrapped:
            self._source = self.text
        if self.width <= 1 or not has_cjk(self._source):
            self._wrapped = self._source
            return
        core = CoreLabel(font_size=self.font_size, font_name=self.font_name, bold=self.bold)
        room = self.width - self.padding[0] - self.padding[2] - 2  # spare for Kivy's rounding
        self._wrapped = wrap_cjk(self._source, room, lambda part: core.get_extents(part)[0])
        self.text = self._wrapped


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


class ChoicePage(Screen):
    """A screen of numbered choices: a title, a body, up to six choices and a hint. Each
    feature's screens say which controller's `PageView` they show (`show`)."""

    title = StringProperty("")
    body = StringProperty("")
    hint = StringProperty("")
    alert = BooleanProperty(False)
    choices = ListProperty([])
    # A long body (a menu) gets smaller text beside five or six choices, so all of it fits.
    body_shrinks = BooleanProperty(False)

    def show(self, page: PageView) -> None:
        """Copy ``page`` into the kv properties; the choice bars are rebuilt only if changed."""
        self.title = page.title
        self.body = page.body
        self.hint = page.hint
        self.alert = page.alert
        self.choices = [
            {"number": str(c.number), "label": c.label, "focused": c.focused} for c in page.choices
        ]
        container = self.ids.choices
        if getattr(container, "_filled_with", None) == self.choices:
            return  # unchanged: refresh runs on every state change
        container._filled_with = list(self.choices)
        container.clear_widgets()
        for values in self.choices:
            bar = Factory.NumberedChoice()
            for name, value in values.items():
                setattr(bar, name, value)
            container.add_widget(bar)

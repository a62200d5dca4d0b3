"""The home screen's controller: arrows move between the six tiles, OK or a digit opens one.

What a tile opens belongs to other features (SOS, calls, reminders): the app hands the
controller one action per tile when it builds it, so home imports none of them. No Kivy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from protocol import SosSource
from tvbox.context import BoxContext, FeatureHost
from tvbox.home.view import HomeViewModel, Tile
from tvbox.router import ARROWS, Controller, Screen
from tvbox.speech import Priority
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction


class HomeController(Controller):
    """The tiles and what they open."""

    screens = (Screen.HOME,)

    def __init__(
        self,
        ctx: BoxContext,
        home: HomeViewModel,
        tiles: Mapping[Tile, Callable[[], None]],
        otherwise: Callable[[Tile], None],
    ) -> None:
        self.ctx = ctx
        self.home = home
        self.tiles = tiles
        self.otherwise = otherwise  # a tile no feature has taken yet ("coming soon")

    def prompt(self, screen: Screen) -> str:
        return self.home.prompt(self.ctx.lang)

    def focus_name(self, screen: Screen) -> str | None:
        return self.home.focused.value

    def reset(self, screen: Screen) -> None:
        self.home.reset()

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """Arrows, OK, Back (already home: it says where we are) and digits."""
        if action in ARROWS:
            if self.home.move(action):
                label = text(self.ctx.lang, self.home.focused.label_key)
                self.ctx.say(label, Priority.LOW, cut=True)
        elif action is RemoteAction.OK:
            self.activate(self.home.focused)
        elif action is RemoteAction.BACK:
            self.ctx.repeat_prompt()
        elif action.digit is not None:
            tile = self.home.focus_number(action.digit)
            if tile is not None:
                self.activate(tile)
        else:
            return False
        return True

    def activate(self, tile: Tile) -> None:
        """Open a tile: SOS raises SOS, doctor and family open calls, others say "soon"."""
        action = self.tiles.get(tile)
        if action is not None:
            action()
        else:
            self.otherwise(tile)


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The home screen's controller; its tiles call the other features through the app's
    hooks (see `tvbox.features`)."""
    tiles: dict[Tile, Callable[[], None]] = {
        Tile.SOS: lambda: host.raise_sos(SosSource.RED_KEY),
        Tile.DOCTOR: host.request_consult,
        Tile.FAMILY: host.call_family,
        Tile.MEDICINES: lambda: host.show(Screen.MEDICINES),
        Tile.APPOINTMENTS: lambda: host.show(Screen.APPOINTMENTS, reset=True),
        Tile.MEALS: lambda: host.show(Screen.MEALS, reset=True),
    }
    return (HomeController(host, HomeViewModel(), tiles, lambda t: host.coming_soon(t.label_key)),)

"""Which screen is up, and where keys and server messages go.

The `Router` holds the current screen and the features' controllers. A remote key goes
first to the controllers that may take any key whatever the screen (an SOS question
waiting for an answer), then to the controller that owns the current screen, and last to
the global keys the controllers declared (red = SOS, blue = settings) and the router's own
(Home/Yellow = home, Green = say it again). A message the server pushes goes to the
controllers that declared its type. Back is always safe: every screen's controller leads
back to the base screen (home once paired, pairing before). No Kivy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from protocol import ElderInfo
from tvbox.ui.keys import RemoteAction

ARROWS = frozenset({RemoteAction.UP, RemoteAction.DOWN, RemoteAction.LEFT, RemoteAction.RIGHT})


@dataclass(frozen=True)
class Screen:
    """One screen of the box, named by ``value`` (the name `/state` and the window use).

    A feature declares its screens where it lives (``MEALS = Screen("meals")`` in its
    folder) and lists them in `tvbox.features`; the screens of the first features are
    also reachable here as ``Screen.HOME``… for the code and tests that name them.
    """

    value: str

    PAIRING: ClassVar[Screen]
    HOME: ClassVar[Screen]
    SETTINGS: ClassVar[Screen]
    NOTICE: ClassVar[Screen]
    CALL: ClassVar[Screen]
    SOS: ClassVar[Screen]
    REMINDER: ClassVar[Screen]
    MEDICINES: ClassVar[Screen]
    APPOINTMENTS: ClassVar[Screen]
    MEALS: ClassVar[Screen]


Screen.PAIRING = Screen("pairing")
Screen.HOME = Screen("home")
Screen.SETTINGS = Screen("settings")
Screen.NOTICE = Screen("notice")
Screen.CALL = Screen("call")
Screen.SOS = Screen("sos")
Screen.REMINDER = Screen("reminder")
Screen.MEDICINES = Screen("medicines")
Screen.APPOINTMENTS = Screen("appointments")
Screen.MEALS = Screen("meals")


class Controller:
    """One feature's behaviour: the screens it owns, its keys and its messages. No Kivy.

    Every hook has a harmless default, so a controller states only what it does."""

    screens: tuple[Screen, ...] = ()

    def prompt(self, screen: Screen) -> str:
        """The spoken prompt of one of this controller's screens."""
        return ""

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """A key on one of this controller's screens; True if it used the key."""
        return False

    def intercept(self, screen: Screen, action: RemoteAction) -> bool:
        """A key on any screen, before the screen's controller; True takes it."""
        return False

    def global_keys(self) -> Mapping[RemoteAction, Callable[[], None]]:
        """Keys that do the same thing on every screen whose controller left them."""
        return {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        """What this controller does with each kind of server message or link event."""
        return {}

    def focus_name(self, screen: Screen) -> str | None:
        """A name for the focused item on one of this controller's screens."""
        return None

    def reset(self, screen: Screen) -> None:
        """Show one of this controller's screens afresh (focus back to its first item)."""

    def elder_changed(self, elder: ElderInfo) -> None:
        """A new elder record (paired, welcomed back, or changed by the family)."""


class Router:
    """The current screen and the dispatch of keys, prompts and messages to controllers."""

    def __init__(self, controllers: list[Controller], screen: Screen) -> None:
        self.controllers = controllers
        self.screen = screen
        self._owners: dict[Screen, Controller] = {}
        self._global: dict[RemoteAction, Callable[[], None]] = {}
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}
        for controller in controllers:
            for owned in controller.screens:
                if owned in self._owners:
                    raise ValueError(f"two controllers own the {owned.value} screen")
                self._owners[owned] = controller
            self._global.update(controller.global_keys())
            for kind, handler in controller.handlers().items():
                self._handlers.setdefault(kind, []).append(handler)

    def owner(self, screen: Screen) -> Controller:
        """The controller that owns `screen`."""
        return self._owners[screen]

    def prompt(self) -> str:
        """The spoken prompt of the current screen."""
        return self.owner(self.screen).prompt(self.screen)

    def focus_name(self) -> str | None:
        """A name for the focused item on the current screen."""
        return self.owner(self.screen).focus_name(self.screen)

    def dispatch_key(
        self, action: RemoteAction, fallback: Mapping[RemoteAction, Callable[[], None]]
    ) -> None:
        """Send one key to whoever takes it; `fallback` are the router owner's own keys."""
        screen = self.screen
        for controller in self.controllers:
            if controller.intercept(screen, action):
                return
        if self.owner(screen).handle_key(screen, action):
            return
        bound = self._global.get(action) or fallback.get(action)
        if bound is not None:
            bound()

    def add_handler(self, kind: type, handler: Callable[[Any], None]) -> None:
        """Also hand `kind` to `handler` (code outside the listed features)."""
        self._handlers.setdefault(kind, []).append(handler)

    def dispatch(self, item: object) -> bool:
        """Hand a server message or link event to the controllers that declared its type."""
        handlers = self._handlers.get(type(item), [])
        for handler in handlers:
            handler(item)
        return bool(handlers)

"""Home screen: six large tiles in a 3×2 grid, moved through with the arrows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from protocol import Lang
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction


class Tile(Enum):
    """The six things an elder can do from home, in reading order."""

    DOCTOR = "doctor"
    MEDICINES = "medicines"
    APPOINTMENTS = "appointments"
    MEALS = "meals"
    FAMILY = "family"
    SOS = "sos"

    @property
    def label_key(self) -> str:
        """Catalog key of the tile's label."""
        return f"tile.{self.value}"


HOME_TILES: tuple[Tile, ...] = tuple(Tile)
COLUMNS = 3
ROWS = (len(HOME_TILES) + COLUMNS - 1) // COLUMNS

_STEP = {
    RemoteAction.LEFT: (0, -1),
    RemoteAction.RIGHT: (0, 1),
    RemoteAction.UP: (-1, 0),
    RemoteAction.DOWN: (1, 0),
}


@dataclass(frozen=True)
class TileView:
    """What one tile shows."""

    tile: Tile
    number: int
    label: str
    focused: bool
    alert: bool


@dataclass(frozen=True)
class HomeView:
    """Everything the home screen shows, already translated."""

    greeting: str
    tiles: tuple[TileView, ...]
    hint: str


class HomeViewModel:
    """Focus on the home grid; arrows stop at the edges rather than wrap (less surprising)."""

    def __init__(self) -> None:
        self.focus = 0

    @property
    def focused(self) -> Tile:
        """The tile with the focus."""
        return HOME_TILES[self.focus]

    def move(self, action: RemoteAction) -> bool:
        """Move the focus one tile for an arrow key; False if it is already at that edge."""
        step = _STEP.get(action)
        if step is None:
            return False
        row, col = divmod(self.focus, COLUMNS)
        row, col = row + step[0], col + step[1]
        if not (0 <= row < ROWS and 0 <= col < COLUMNS):
            return False
        target = row * COLUMNS + col
        if target >= len(HOME_TILES):
            return False
        self.focus = target
        return True

    def focus_number(self, number: int) -> Tile | None:
        """Focus tile `number` (1–6, as printed on the tile); None if there is no such tile."""
        if not 1 <= number <= len(HOME_TILES):
            return None
        self.focus = number - 1
        return self.focused

    def reset(self) -> None:
        """Put the focus back on the first tile."""
        self.focus = 0

    def view(self, lang: Lang, elder_name: str | None) -> HomeView:
        """The translated home screen."""
        greeting = (
            text(lang, "home.greeting", name=elder_name)
            if elder_name
            else text(lang, "home.greeting_anon")
        )
        tiles = tuple(
            TileView(
                tile=tile,
                number=i + 1,
                label=text(lang, tile.label_key),
                focused=i == self.focus,
                alert=tile is Tile.SOS,
            )
            for i, tile in enumerate(HOME_TILES)
        )
        return HomeView(greeting=greeting, tiles=tiles, hint=text(lang, "home.hint"))

    def prompt(self, lang: Lang) -> str:
        """What is said on arriving home."""
        return text(lang, "home.spoken", tile=text(lang, self.focused.label_key))

"""Settings screen: the elder picks the language of the TV (中文 / English)."""

from __future__ import annotations

from dataclasses import dataclass

from protocol import Lang
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction

LANG_OPTIONS: tuple[Lang, ...] = (Lang.ZH, Lang.EN)


@dataclass(frozen=True)
class OptionView:
    """One choice on the settings screen."""

    lang: Lang
    number: int
    label: str
    focused: bool
    current: bool


@dataclass(frozen=True)
class SettingsView:
    """Everything the settings screen shows, already translated."""

    title: str
    options: tuple[OptionView, ...]
    hint: str


class SettingsViewModel:
    """A vertical list of languages; UP/DOWN (and LEFT/RIGHT) move, OK chooses."""

    def __init__(self) -> None:
        self.focus = 0

    @property
    def focused(self) -> Lang:
        """The language with the focus."""
        return LANG_OPTIONS[self.focus]

    def focus_lang(self, lang: Lang) -> None:
        """Put the focus on `lang` (used on opening, so it starts on the current one)."""
        self.focus = LANG_OPTIONS.index(lang)

    def move(self, action: RemoteAction) -> bool:
        """Move the focus for an arrow key; False at either end."""
        delta = {
            RemoteAction.UP: -1,
            RemoteAction.LEFT: -1,
            RemoteAction.DOWN: 1,
            RemoteAction.RIGHT: 1,
        }.get(action)
        if delta is None or not 0 <= self.focus + delta < len(LANG_OPTIONS):
            return False
        self.focus += delta
        return True

    def option_for_number(self, number: int) -> Lang | None:
        """The language printed with `number` (1, 2), or None."""
        if 1 <= number <= len(LANG_OPTIONS):
            self.focus = number - 1
            return self.focused
        return None

    def view(self, lang: Lang) -> SettingsView:
        """The translated settings screen."""
        options = tuple(
            OptionView(
                lang=option,
                number=i + 1,
                label=text(lang, f"lang.{option.value}")
                + (" " + text(lang, "settings.current") if option is lang else ""),
                focused=i == self.focus,
                current=option is lang,
            )
            for i, option in enumerate(LANG_OPTIONS)
        )
        return SettingsView(
            title=text(lang, "settings.title"), options=options, hint=text(lang, "settings.hint")
        )

    def prompt(self, lang: Lang) -> str:
        """What is said on opening settings."""
        return text(lang, "settings.spoken", option=text(lang, f"lang.{self.focused.value}"))

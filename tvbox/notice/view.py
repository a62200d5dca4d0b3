"""A one-message screen: 'coming soon' for features of later releases.

It says honestly what the box cannot do yet; OK or Back goes home.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from protocol import Lang
from tvbox.ui.i18n import text


class NoticeKind(Enum):
    """Why the notice is shown."""

    COMING_SOON = "coming_soon"
    VOICE_OFF = "voice_off"  # voice commands are unavailable; the body says why


@dataclass(frozen=True)
class NoticeView:
    """Everything the notice screen shows, already translated."""

    title: str
    body: str
    hint: str
    alert: bool


class NoticeViewModel:
    """Which notice is up: its kind and the catalog key of its title."""

    def __init__(self) -> None:
        self.kind = NoticeKind.COMING_SOON
        self.title_key = "app.title"
        self.body_text: str | None = None

    def show(self, kind: NoticeKind, title_key: str, body_text: str | None = None) -> None:
        """Show notice `kind` titled with catalog key `title_key` (and a ready-made body)."""
        self.kind = kind
        self.title_key = title_key
        self.body_text = body_text

    def _body_key(self) -> str:
        return "notice.coming_soon"

    def _body(self, lang: Lang) -> str:
        return self.body_text if self.body_text is not None else text(lang, self._body_key())

    def view(self, lang: Lang) -> NoticeView:
        """The translated notice."""
        return NoticeView(
            title=text(lang, self.title_key),
            body=self._body(lang),
            hint=text(lang, "notice.hint"),
            alert=False,
        )

    def prompt(self, lang: Lang) -> str:
        """What is said when the notice appears."""
        return text(
            lang,
            "notice.spoken",
            title=text(lang, self.title_key),
            body=self._body(lang),
        )

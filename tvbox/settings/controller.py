"""Language settings (the blue key from any screen): the choice is stored on the TV and
queued for the server through the outbox. No Kivy."""

from __future__ import annotations

from collections.abc import Callable

from protocol import BoxSettings, Lang
from tvbox.context import BoxContext, FeatureHost
from tvbox.outbox import new_key
from tvbox.router import ARROWS, Controller, Screen
from tvbox.settings.view import SettingsViewModel
from tvbox.speech import Priority
from tvbox.store import BoxStore
from tvbox.ui.i18n import text
from tvbox.ui.keys import RemoteAction


class SettingsController(Controller):
    """The settings screen and the blue key that opens it."""

    screens = (Screen.SETTINGS,)

    def __init__(self, ctx: BoxContext, settings: SettingsViewModel, store: BoxStore) -> None:
        self.ctx = ctx
        self.settings = settings
        self.store = store

    def prompt(self, screen: Screen) -> str:
        return self.settings.prompt(self.ctx.lang)

    def focus_name(self, screen: Screen) -> str | None:
        return self.settings.focused.value

    def global_keys(self) -> dict[RemoteAction, Callable[[], None]]:
        return {RemoteAction.BLUE: self.open_settings}

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        """Arrows, OK, Back (home) and the digits of the languages."""
        if action in ARROWS:
            if self.settings.move(action):
                label = text(self.ctx.lang, f"lang.{self.settings.focused.value}")
                self.ctx.say(label, Priority.LOW, cut=True)
        elif action is RemoteAction.OK:
            self.choose_lang(self.settings.focused)
        elif action is RemoteAction.BACK:
            self.ctx.go_home()
        elif action.digit is not None:
            lang = self.settings.option_for_number(action.digit)
            if lang is not None:
                self.choose_lang(lang)
        else:
            return False
        return True

    def open_settings(self) -> None:
        """Show the language settings, focused on the current language."""
        self.settings.focus_lang(self.ctx.lang)
        self.ctx.show(Screen.SETTINGS)

    def choose_lang(self, lang: Lang) -> None:
        """Store the elder's language choice and queue it for the server."""
        self.store.save_ui_lang(lang)
        self.ctx.send_durable(BoxSettings(key=new_key(), lang=lang))
        self.settings.focus_lang(lang)
        self.ctx.say(text(lang, "settings.changed"), cut=True)


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The language settings' controller (see `tvbox.features`)."""
    return (SettingsController(host, SettingsViewModel(), host.store),)

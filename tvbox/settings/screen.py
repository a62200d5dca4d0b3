"""Settings screen: choose the TV's language."""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.box import AppViewModel


class SettingsScreen(Screen):
    """Shows `SettingsView`: one bar per language, the focused one ringed."""

    title = StringProperty("")
    hint = StringProperty("")
    options = ListProperty([])

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the view-model's settings view into the kv properties."""
        view = vm.settings.view(vm.lang)
        self.title = view.title
        self.hint = view.hint
        self.options = [
            {"number": str(o.number), "label": o.label, "focused": o.focused} for o in view.options
        ]

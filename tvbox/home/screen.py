"""Home screen: greeting and the six tiles."""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.box import AppViewModel


class HomeScreen(Screen):
    """Shows `HomeView`; the tiles' state comes from the view-model's focus."""

    greeting = StringProperty("")
    hint = StringProperty("")
    tiles = ListProperty([])

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the view-model's home view into the kv properties."""
        view = vm.home.view(vm.lang, vm.elder.name if vm.elder else None)
        self.greeting = view.greeting
        self.hint = view.hint
        self.tiles = [
            {"number": str(t.number), "label": t.label, "focused": t.focused, "alert": t.alert}
            for t in view.tiles
        ]

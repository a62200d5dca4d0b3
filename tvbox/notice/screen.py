"""Notice screen: 'coming soon' for later features."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.box import AppViewModel


class NoticeScreen(Screen):
    """Shows `NoticeView`: a title, one message, and how to go back."""

    title = StringProperty("")
    body = StringProperty("")
    hint = StringProperty("")
    alert = BooleanProperty(False)

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the view-model's notice view into the kv properties."""
        view = vm.notice.view(vm.lang)
        self.title = view.title
        self.body = view.body
        self.hint = view.hint
        self.alert = view.alert

"""Call screen: the queue and ringing as big text; in a call, the other person full screen,
the elder's own picture small in a corner, and big labels on a dark band."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from tvbox.box import AppViewModel


class CallScreen(Screen):
    """Shows `CallView`; the two video widgets are fed by `tvbox.calls.call_media.BoxCallMedia`."""

    title = StringProperty("")
    body = StringProperty("")
    hint = StringProperty("")
    peer = StringProperty("")
    video = BooleanProperty(False)
    confirm = BooleanProperty(False)
    remote_widget = ObjectProperty(None, allownone=True)
    self_widget = ObjectProperty(None, allownone=True)

    def video_widgets(self) -> tuple[Any, Any]:
        """(remote picture, own picture) for the media layer, made on the first call
        (the renderer module brings in PyAV and aiortc, which an idle box does without)."""
        if self.remote_widget is None:
            from media.render import make_video_widget

            self.remote_widget = make_video_widget()
            self.self_widget = make_video_widget()
            self.ids.remote_slot.add_widget(self.remote_widget)
            self.ids.self_slot.add_widget(self.self_widget)
        return self.remote_widget, self.self_widget

    def refresh(self, vm: AppViewModel) -> None:
        """Copy the view-model's call view into the kv properties."""
        view = vm.call.view()
        self.title = view.title
        self.body = view.body
        self.hint = view.hint
        self.peer = view.peer
        self.video = view.video
        self.confirm = view.confirm
        if not view.video and self.remote_widget is not None:
            # The last picture must not linger into the next call.
            self.remote_widget.texture = None
            self.self_widget.texture = None

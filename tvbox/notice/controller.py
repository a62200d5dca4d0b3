"""Short notices ("coming soon", "voice commands are off"): shown and spoken, OK or Back
goes home. No Kivy."""

from __future__ import annotations

from tvbox.context import BoxContext, FeatureHost
from tvbox.notice.view import NoticeKind, NoticeViewModel
from tvbox.router import Controller, Screen
from tvbox.ui.keys import RemoteAction


class NoticeController(Controller):
    """The notice screen."""

    screens = (Screen.NOTICE,)

    def __init__(self, ctx: BoxContext, notice: NoticeViewModel) -> None:
        self.ctx = ctx
        self.notice = notice

    def prompt(self, screen: Screen) -> str:
        return self.notice.prompt(self.ctx.lang)

    def handle_key(self, screen: Screen, action: RemoteAction) -> bool:
        if action in (RemoteAction.OK, RemoteAction.BACK):
            self.ctx.go_home()
            return True
        return False

    def coming_soon(self, title_key: str) -> None:
        """Say that a feature is not there yet (a home tile no feature has taken)."""
        self.notice.show(NoticeKind.COMING_SOON, title_key)
        self.ctx.show(Screen.NOTICE)

    def show_silently(self, kind: NoticeKind, title_key: str, body_text: str) -> None:
        """Put up a notice without speaking it (its words were said already)."""
        self.notice.show(kind, title_key, body_text=body_text)
        self.ctx.show(Screen.NOTICE, None)


def build(host: FeatureHost) -> tuple[Controller, ...]:
    """The notices' controller (see `tvbox.features`)."""
    return (NoticeController(host, NoticeViewModel()),)

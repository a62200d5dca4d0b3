"""The call media layer, loaded on the first call.

aiortc and PyAV add ~60 MB to the box's memory; most of the day no call is under way, so
`LazyCallMedia` imports them and builds `tvbox.calls.call_media.BoxCallMedia` only when a call
starts. It implements the view-model's `CallMediaPort`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol import CallStart

WidgetSource = Callable[[], "tuple[Any, Any] | None"]


class LazyCallMedia:
    """`CallMediaPort` that creates the real media layer on first use."""

    def __init__(self, widgets: WidgetSource | None = None) -> None:
        self._widgets = widgets
        self._media: Any = None

    @property
    def loaded(self) -> bool:
        """Whether the real media layer (aiortc, PyAV) has been loaded."""
        return self._media is not None

    def _real(self) -> Any:
        if self._media is None:
            from media import MediaSettings
            from tvbox.calls.call_media import BoxCallMedia

            self._media = BoxCallMedia(MediaSettings(), self._widgets)
        return self._media

    def start(
        self,
        start: CallStart,
        on_local_sdp: Callable[[str, str], None],
        on_connected: Callable[[], None],
        on_lost: Callable[[str], None],
    ) -> None:
        """Load the media layer if needed and start the call's media."""
        self._real().start(start, on_local_sdp, on_connected, on_lost)

    def remote_description(self, kind: str, sdp: str) -> None:
        """Apply the peer's offer or answer."""
        self._real().remote_description(kind, sdp)

    def stop(self) -> None:
        """Hang up the media side (nothing to do before the first call)."""
        if self._media is not None:
            self._media.stop()

    def stats(self) -> dict[str, Any]:
        """Frame counters and timings; empty before the first call."""
        return self._media.stats() if self._media is not None else {}

    async def wait_stopped(self) -> None:
        """Wait until the media side has shut down."""
        if self._media is not None:
            await self._media.wait_stopped()

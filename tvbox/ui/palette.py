"""Colours and sizes of the TV UI, in one place so a test can check them for elders.

Sizes are in pixels of the 1920×1080 design; the app multiplies them by
``window height / 1080`` so a 1280×720 TV shows the same layout, smaller.
Every text/background pair used on screen is listed in `TEXT_PAIRS` and must reach a
contrast ratio of 7:1 (WCAG AAA).
"""

from __future__ import annotations

DESIGN_HEIGHT = 1080

BACKGROUND = "#0B0F14"
TEXT = "#FFFFFF"
TEXT_DIM = "#D8DEE6"
TILE = "#1E2A38"
TILE_FOCUSED = "#2F4560"
SOS = "#9E0B0B"
FOCUS_RING = "#FFD400"
ALERT_PANEL = "#5A0606"
BADGE_ONLINE = "#0E4D1C"
BADGE_OFFLINE = "#5A0606"
BADGE_WAITING = "#4A3A00"
CODE_PANEL = "#000000"
CODE_TEXT = "#FFD400"

# (foreground, background) of every piece of text the box draws.
TEXT_PAIRS: dict[str, tuple[str, str]] = {
    "body": (TEXT, BACKGROUND),
    "hint": (TEXT_DIM, BACKGROUND),
    "tile": (TEXT, TILE),
    "tile_focused": (TEXT, TILE_FOCUSED),
    "sos_tile": (TEXT, SOS),
    "alert": (TEXT, ALERT_PANEL),
    "badge_online": (TEXT, BADGE_ONLINE),
    "badge_offline": (TEXT, BADGE_OFFLINE),
    "badge_waiting": (TEXT, BADGE_WAITING),
    "code": (CODE_TEXT, CODE_PANEL),
}

# Sizes at 1080p.
TEXT_SMALLEST_PX = 48
TEXT_BODY_PX = 56
TEXT_TILE_PX = 72
TEXT_TITLE_PX = 80
TEXT_CODE_PX = 200
FOCUS_RING_PX = 14
FOCUS_SCALE = 1.06


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``"#RRGGBB"`` as a Kivy RGBA tuple of floats."""
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


def relative_luminance(hex_colour: str) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = rgba(hex_colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio between two colours (1.0 to 21.0)."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)

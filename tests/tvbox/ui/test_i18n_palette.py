"""Catalog parity and the elder-readability rules of the palette."""

from __future__ import annotations

import string

from protocol import Lang
from tvbox.ui import palette
from tvbox.ui.i18n import catalog, spaced_digits, spell_digits


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogs_have_the_same_keys_and_fields() -> None:
    zh, en = catalog(Lang.ZH), catalog(Lang.EN)
    assert zh.keys() == en.keys()
    for key in zh:
        assert _fields(zh[key]) == _fields(en[key]), key
        assert zh[key].strip() and en[key].strip(), key


def test_the_pairing_code_is_read_digit_by_digit() -> None:
    assert spell_digits(Lang.EN, "483920") == "4, 8, 3, 9, 2, 0"
    assert spell_digits(Lang.ZH, "483920") == "四，八，三，九，二，零"
    assert spaced_digits("483920") == "4 8 3 9 2 0"


def test_all_text_reaches_seven_to_one_contrast() -> None:
    for name, (foreground, background) in palette.TEXT_PAIRS.items():
        assert palette.contrast_ratio(foreground, background) >= 7.0, name


def test_the_focus_ring_stands_out_from_tiles_and_background() -> None:
    for background in (palette.BACKGROUND, palette.TILE, palette.TILE_FOCUSED, palette.SOS):
        assert palette.contrast_ratio(palette.FOCUS_RING, background) >= 3.0


def test_no_text_smaller_than_48_px_at_1080p() -> None:
    sizes = [
        palette.TEXT_SMALLEST_PX,
        palette.TEXT_BODY_PX,
        palette.TEXT_TILE_PX,
        palette.TEXT_TITLE_PX,
        palette.TEXT_CODE_PX,
    ]
    assert min(sizes) >= 48

"""Translation catalogs: every string the box shows or speaks comes from here.

Catalogs are flat JSON files with ``str.format`` fields: ``tvbox/locales/<lang>.json`` for
the shell, plus ``tvbox/locales/<feature>/<lang>.json`` for each feature (merged in; a key
defined twice is an error). A test checks every language has the same keys and fields.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from protocol import Lang

LOCALES_DIR = Path(__file__).parent.parent / "locales"


@cache
def catalog(lang: Lang) -> dict[str, str]:
    """The catalog of `lang`, loaded once."""
    merged: dict[str, str] = {}
    paths = [LOCALES_DIR / f"{lang.value}.json", *sorted(LOCALES_DIR.glob(f"*/{lang.value}.json"))]
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & data.keys()
        if clash:
            raise ValueError(f"{path}: keys defined twice: {sorted(clash)}")
        merged.update({str(k): str(v) for k, v in data.items()})
    return merged


def text(lang: Lang, key: str, **fields: object) -> str:
    """The string `key` in `lang`, formatted with `fields`; KeyError if the key is unknown."""
    return catalog(lang)[key].format(**fields)


def spell_digits(lang: Lang, digits: str) -> str:
    """Digits to be read one by one ("4, 8, 3" / "四，八，三"), for speech."""
    words = [text(lang, f"digit.{d}") for d in digits if d.isdigit()]
    return text(lang, "digit.separator").join(words)


def spaced_digits(digits: str) -> str:
    """Digits with a space between them, for the screen ("4 8 3 9 2 0")."""
    return " ".join(digits)

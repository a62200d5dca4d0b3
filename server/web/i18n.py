"""Translation catalog of the web pages (zh, en): one JSON file per language."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from protocol import Lang

LOCALES = Path(__file__).with_name("locales")


@lru_cache
def catalog(lang: Lang) -> dict[str, str]:
    """Every string of one language: the core file plus ``locales/<feature>/<lang>.json``."""
    merged: dict[str, str] = {}
    for path in [LOCALES / f"{lang.value}.json", *sorted(LOCALES.glob(f"*/{lang.value}.json"))]:
        data = json.loads(path.read_text("utf-8"))
        clash = merged.keys() & data.keys()
        if clash:
            raise ValueError(f"{path}: keys defined twice: {sorted(clash)}")
        merged.update(data)
    return merged


def translate(lang: Lang, key: str, **values: object) -> str:
    """The text for ``key``; falls back to English, then to the key itself."""
    text = catalog(lang).get(key) or catalog(Lang.EN).get(key) or key
    return text.format(**values) if values else text


def pick_lang(query: str | None, cookie: str | None, user_lang: Lang | None, accept: str) -> Lang:
    """The page language: explicit, remembered, the user's, then the browser's."""
    for candidate in (query, cookie):
        if candidate in (Lang.ZH.value, Lang.EN.value):
            return Lang(candidate)
    if user_lang is not None:
        return user_lang
    return Lang.EN if accept.lower().startswith("en") else Lang.ZH

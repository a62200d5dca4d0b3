"""The pages' catalogs: same keys in every language, features merged in, clashes refused."""

from __future__ import annotations

import json
import string

import pytest

from protocol import Lang
from server.web import i18n


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_keys_and_fields() -> None:
    zh, en = i18n.catalog(Lang.ZH), i18n.catalog(Lang.EN)
    assert zh.keys() == en.keys()
    for key in zh:
        assert fields(zh[key]) == fields(en[key]), key


def test_feature_catalogs_merge_and_clashes_are_refused(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "en.json").write_text(json.dumps({"a": "A"}))
    (tmp_path / "feature").mkdir()
    (tmp_path / "feature" / "en.json").write_text(json.dumps({"b": "B {n}"}))
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.catalog.cache_clear()
    try:
        assert i18n.translate(Lang.EN, "b", n=2) == "B 2"
        (tmp_path / "feature" / "en.json").write_text(json.dumps({"a": "again"}))
        i18n.catalog.cache_clear()
        with pytest.raises(ValueError, match="defined twice"):
            i18n.catalog(Lang.EN)
    finally:
        i18n.catalog.cache_clear()

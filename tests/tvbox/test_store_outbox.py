"""The box's own SQLite file: settings survive restarts; the outbox is ordered and durable."""

from __future__ import annotations

from pathlib import Path

from protocol import BoxSettings, Lang
from tests.support.viewmodels import ELDER
from tvbox.outbox import Outbox, new_key
from tvbox.store import BoxStore


def test_pairing_survives_a_restart_and_can_be_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "box.sqlite3"
    first = BoxStore(path)
    first.save_pairing(3, "secret-token", ELDER)
    first.save_ui_lang(Lang.EN)
    first.close()

    again = BoxStore(path)
    assert again.device_token == "secret-token"
    assert again.device_id == 3
    assert again.elder == ELDER
    assert again.ui_lang is Lang.EN
    assert again.as_dict()["device_token"] == "***"

    again.forget_pairing()
    assert again.device_token is None and again.device_id is None and again.elder is None
    assert again.ui_lang is Lang.EN  # the elder's own language choice stays
    again.close()


def test_outbox_keeps_order_until_acked(store: BoxStore) -> None:
    outbox = Outbox(store)
    keys = [
        outbox.add(BoxSettings(key=new_key(), lang=lang)).key
        for lang in (Lang.EN, Lang.ZH, Lang.EN)
    ]
    assert [item.key for item in outbox.pending()] == keys

    assert outbox.mark_acked(keys[1]) is True
    assert [item.key for item in outbox.pending()] == [keys[0], keys[2]]
    # A second Ack for the same key (a resend answered duplicate) changes nothing.
    assert outbox.mark_acked(keys[1]) is False
    assert outbox.mark_acked("no-such-key") is False
    assert outbox.get(keys[1]).acked_at is not None  # type: ignore[union-attr]


def test_outbox_items_survive_a_crash_before_the_ack(tmp_path: Path) -> None:
    path = tmp_path / "box.sqlite3"
    store = BoxStore(path)
    message = BoxSettings(key=new_key(), lang=Lang.EN)
    Outbox(store).add(message)
    store.close()  # the box dies before the server's Ack arrives

    reopened = BoxStore(path)
    pending = Outbox(reopened).pending()
    assert [item.message for item in pending] == [message]
    reopened.close()


def test_outbox_refuses_the_same_key_twice(store: BoxStore) -> None:
    import sqlite3

    import pytest

    outbox = Outbox(store)
    message = BoxSettings(key=new_key(), lang=Lang.ZH)
    outbox.add(message)
    with pytest.raises(sqlite3.IntegrityError):
        outbox.add(message)
    assert len(outbox.pending()) == 1


def test_unpairing_discards_only_undelivered_items(store: BoxStore) -> None:
    outbox = Outbox(store)
    delivered = outbox.add(BoxSettings(key=new_key(), lang=Lang.EN))
    outbox.add(BoxSettings(key=new_key(), lang=Lang.ZH))
    outbox.mark_acked(delivered.key)
    assert outbox.discard_pending() == 1
    assert outbox.pending() == []
    assert outbox.get(delivered.key) is not None

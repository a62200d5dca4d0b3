"""The box's own SQLite file: settings as key/value rows (device token, elder, UI language).

One file per box (``<data_dir>/box.sqlite3``) shared with the outbox table. Writes are a
few hundred bytes and go through the stdlib ``sqlite3`` on the loop thread; WAL mode and
``synchronous=NORMAL`` keep them to well under a millisecond, so they are not pushed to a
worker thread.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from protocol import ElderInfo, Lang
from tvbox.errors import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL UNIQUE,
    message    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acked_at   TEXT
);
"""

DEVICE_TOKEN = "device_token"
DEVICE_ID = "device_id"
ELDER = "elder"
UI_LANG = "ui_lang"


class BoxStore:
    """Key/value settings of this box in its own SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise StoreError("store_open", f"cannot open box store {path}: {err}") from err

    def close(self) -> None:
        """Close the SQLite connection."""
        self.db.close()

    def get(self, key: str) -> str | None:
        """The stored value of `key`, or None."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        """Store `value` under `key`, replacing any earlier value."""
        self.db.execute(
            "INSERT INTO settings(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete(self, *keys: str) -> None:
        """Forget the given keys."""
        self.db.executemany("DELETE FROM settings WHERE key = ?", [(k,) for k in keys])

    # -- typed accessors -------------------------------------------------

    @property
    def device_token(self) -> str | None:
        """The device token handed out at pairing, or None while unpaired."""
        return self.get(DEVICE_TOKEN)

    @property
    def device_id(self) -> int | None:
        """The server's id for this box, or None while unpaired."""
        value = self.get(DEVICE_ID)
        return None if value is None else int(value)

    @property
    def elder(self) -> ElderInfo | None:
        """The elder this box serves, as last told by the server."""
        value = self.get(ELDER)
        return None if value is None else ElderInfo.model_validate_json(value)

    def save_elder(self, elder: ElderInfo) -> None:
        """Remember the elder record."""
        self.put(ELDER, elder.model_dump_json())

    def save_pairing(self, device_id: int, device_token: str, elder: ElderInfo) -> None:
        """Remember the credential and elder from a successful pairing, atomically."""
        with self.db:
            self.db.execute("BEGIN")
            self.put(DEVICE_ID, str(device_id))
            self.put(DEVICE_TOKEN, device_token)
            self.save_elder(elder)

    def forget_pairing(self) -> None:
        """Forget token, device id and elder (the box was revoked)."""
        self.delete(DEVICE_TOKEN, DEVICE_ID, ELDER)

    @property
    def ui_lang(self) -> Lang | None:
        """The language the elder chose on this TV, or None if never chosen."""
        value = self.get(UI_LANG)
        return None if value is None else Lang(value)

    def save_ui_lang(self, lang: Lang) -> None:
        """Remember the elder's own language choice on this TV."""
        self.put(UI_LANG, lang.value)

    def as_dict(self) -> dict[str, str]:
        """All settings (for diagnostics; the token is masked)."""
        rows = self.db.execute("SELECT key, value FROM settings ORDER BY key").fetchall()
        data = {str(k): str(v) for k, v in rows}
        if DEVICE_TOKEN in data:
            data[DEVICE_TOKEN] = "***"
        return data

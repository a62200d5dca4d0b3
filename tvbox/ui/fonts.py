"""The CJK-capable font the whole UI uses (Kivy's default Roboto has no Chinese glyphs).

Debian's ``fonts-noto-cjk`` ships Noto Sans CJK as font *collections* (.ttc) whose first
face is the Japanese one; Kivy's SDL2 text provider can only open the first face, which
draws some Chinese characters in Japanese forms. So the Simplified Chinese face is copied
once out of the collection into a cache directory as a plain OpenType file.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

NOTO_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))
REGULAR_TTC = "NotoSansCJK-Regular.ttc"
BOLD_TTC = "NotoSansCJK-Bold.ttc"
SC_FAMILY = "Noto Sans CJK SC"


@dataclass(frozen=True)
class UiFont:
    """Paths of the regular and bold font files handed to Kivy."""

    regular: str
    bold: str


def _face_offsets(data: bytes) -> list[int]:
    if data[:4] != b"ttcf":
        return [0]
    (count,) = struct.unpack_from(">I", data, 8)
    return list(struct.unpack_from(f">{count}I", data, 12))


def _face_names(data: bytes, offset: int) -> str:
    """The face's name table strings run together (enough to find the family)."""
    (num_tables,) = struct.unpack_from(">H", data, offset + 4)
    for i in range(num_tables):
        tag, _, table_off, length = struct.unpack_from(">4sIII", data, offset + 12 + 16 * i)
        if tag == b"name":
            blob = data[table_off : table_off + length]
            return blob.decode("utf-16-be", errors="ignore") + blob.decode("latin-1")
    return ""


def extract_face(collection: Path, family: str, target: Path) -> Path:
    """Copy the face of `collection` whose names contain `family` into `target` (an .otf)."""
    data = collection.read_bytes()
    for offset in _face_offsets(data):
        if family in _face_names(data, offset):
            break
    else:
        raise LookupError(f"{family!r} not found in {collection}")
    sfnt_version, num_tables = struct.unpack_from(">4sH", data, offset)
    records = [struct.unpack_from(">4sIII", data, offset + 12 + 16 * i) for i in range(num_tables)]
    header = bytearray(data[offset : offset + 12])
    directory = bytearray()
    body = bytearray()
    position = 12 + 16 * num_tables
    for tag, checksum, table_off, length in records:
        directory += struct.pack(">4sIII", tag, checksum, position + len(body), length)
        body += data[table_off : table_off + length]
        body += b"\0" * (-len(body) % 4)
    assert header[:4] == sfnt_version
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")  # boxes may start side by side
    partial.write_bytes(bytes(header) + bytes(directory) + bytes(body))
    partial.replace(target)
    return target


def ui_font(cache_dir: Path) -> UiFont | None:
    """The UI font: Noto Sans CJK SC extracted into `cache_dir`, or None if not installed."""
    for folder in NOTO_DIRS:
        regular_ttc, bold_ttc = folder / REGULAR_TTC, folder / BOLD_TTC
        if not regular_ttc.exists():
            continue
        paths = []
        for ttc, name in (
            (regular_ttc, "NotoSansCJKsc-Regular.otf"),
            (bold_ttc if bold_ttc.exists() else regular_ttc, "NotoSansCJKsc-Bold.otf"),
        ):
            target = cache_dir / name
            if not target.exists():
                try:
                    extract_face(ttc, SC_FAMILY, target)
                except (LookupError, OSError, struct.error) as err:
                    log.warning("using %s as is (%s)", ttc, err)
                    target = ttc
            paths.append(str(target))
        return UiFont(regular=paths[0], bold=paths[1])
    log.warning("fonts-noto-cjk is not installed: Chinese text will not render")
    return None

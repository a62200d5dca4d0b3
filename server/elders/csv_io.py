"""A city's register of elders as CSV: import (row by row, in batches) and export (streamed).

Import: the upload is read as a stream (the web framework spools it to a temporary file),
checked row by row with the register form's checks, and written in batches of `BATCH`
rows: one SELECT of the batch's register numbers already in the area, one INSERT of the new
ones (``ON CONFLICT DO NOTHING`` on the unique index (area, register number): an import
racing another inserts each elder once; the loser's rows are compared again as existing),
one UPDATE per changed elder, one commit per batch. If the server dies mid-import, the
batches committed stay; importing the same file again finishes the job (rows already in
are "unchanged"). One audit entry per import, with the counts.

Refused rows: the first `KEEP_REFUSED` are kept for the report page; all of them are
written, as CSV with a reason column, to a temporary file the operator can download.
"""

from __future__ import annotations

import codecs
import csv
import io
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from protocol import Lang, Role
from server import audit
from server.elders.register import FIELDS, Places, Problem, check_fields
from server.errors import AppError, Forbidden
from server.models import Elder, User, utcnow
from server.runtime import Runtime
from server.web.i18n import translate

BATCH = 1000
KEEP_REFUSED = 1000
_IN_CHUNK = 500  # SQLite caps bound parameters per statement
SNIFF_BYTES = 64 * 1024
REFUSED_DIR = Path(tempfile.gettempdir()) / "anxin-refused-rows"
REFUSED_TTL_S = 24 * 3600

# Column names: English, Chinese; either is accepted on import, the viewer's on export.
HEADERS: dict[str, tuple[str, str]] = {
    "register_ref": ("register_ref", "登记号"),
    "name": ("name", "姓名"),
    "phone": ("phone", "电话"),
    "birth_year": ("birth_year", "出生年份"),
    "lang": ("lang", "语言"),
    "timezone": ("timezone", "时区"),
    "address": ("address", "地址"),
    "latitude": ("latitude", "纬度"),
    "longitude": ("longitude", "经度"),
    "lives_alone": ("lives_alone", "独居"),
    "clinic": ("clinic", "诊所"),
    "care_notes": ("care_notes", "照护备注"),
    "area": ("area", "区域"),
}
_BY_HEADER = {n.casefold(): f for f, names in HEADERS.items() for n in names}
REASON_HEADER = ("reason", "原因")
# The columns the record holds (elder attribute), compared to see if a row changes anything.
_COLUMNS = {
    "name": "name",
    "phone": "phone",
    "birth_year": "birth_year",
    "lang": "lang",
    "timezone": "timezone",
    "address": "address",
    "latitude": "latitude",
    "longitude": "longitude",
    "lives_alone": "lives_alone",
    "clinic": "clinic_id",
    "care_notes": "care_notes",
}


class ImportRefused(AppError):
    """The whole file cannot be read as a register of elders (400, with why)."""


@dataclass
class RefusedRow:
    """A row that was not imported, and why (a message key with values)."""

    line: int
    register_ref: str
    name: str
    problem: Problem


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    refused_rows: list[RefusedRow] = field(default_factory=list)  # the first KEEP_REFUSED
    refused_file: str = ""  # token of the CSV of every refused row ("" if none)
    seconds: float = 0.0


def columns_for(user: User) -> list[str]:
    """The columns of the register for ``user`` (an admin also names each elder's area)."""
    return [f for f in FIELDS if f != "area" or user.role is Role.ADMIN]


def header_row(user: User, lang: Lang) -> list[str]:
    """The header of a CSV in ``lang``."""
    index = 1 if lang is Lang.ZH else 0
    return [HEADERS[f][index] for f in columns_for(user)]


def template_csv(user: User, lang: Lang) -> str:
    """A template with the header and one example row."""
    example = {
        "register_ref": "310101-000123",
        "name": "王秀英" if lang is Lang.ZH else "Wang Xiuying",
        "phone": "13800138000",
        "birth_year": "1941",
        "lang": "zh",
        "timezone": "Asia/Shanghai",
        "address": "上海市黄浦区南京东路100号" if lang is Lang.ZH else "100 Nanjing Road East",
        "latitude": "31.235000",
        "longitude": "121.485000",
        "lives_alone": "是" if lang is Lang.ZH else "yes",
        "clinic": "",
        "care_notes": "",
        "area": "",
    }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header_row(user, lang))
    writer.writerow([example[f] for f in columns_for(user)])
    return "\ufeff" + out.getvalue()


# --- reading --------------------------------------------------------------------------


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes) or GB18030; else the file is refused."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in head:
        raise ImportRefused("this is not a CSV text file (it holds binary data)")
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            decoder.decode(head, final=False)  # a character cut at the end is fine
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportRefused("this is not a CSV text file in UTF-8 or GB18030")


def read_rows(upload: IO[bytes]) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The fields named by the header, and the rows as (line number, field -> text)."""
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if not head.strip(codecs.BOM_UTF8 + b" \r\n\t"):
        raise ImportRefused("the file is empty: it needs a header row and one row per elder")
    text = io.TextIOWrapper(upload, encoding=_encoding(head), newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except (csv.Error, UnicodeDecodeError) as err:
        raise ImportRefused(f"the first line cannot be read as CSV: {err}") from err
    fields = [_BY_HEADER.get(cell.strip().strip("\ufeff").casefold(), "") for cell in header]
    if "register_ref" not in fields or "name" not in fields:
        raise ImportRefused(
            "the first line must name the columns, at least register_ref and name "
            "(登记号, 姓名); see the template"
        )

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as err:
                yield line + 1, {"": str(err)}
                return
            line, start = reader.line_num, line + 1
            if not any(c.strip() for c in cells):
                continue
            row = {f: c for f, c in zip(fields, cells, strict=False) if f}
            if len(cells) > len(fields):
                row[""] = "extra"
            yield start, row

    return [f for f in fields if f], rows()


# --- importing ------------------------------------------------------------------------


@dataclass
class _Checked:
    line: int
    area_id: int | None
    ref: str
    values: dict[str, Any]
    raw: dict[str, str]


class _RefusedSink:
    """Every refused row as CSV in a temporary file; the first few also kept for the page."""

    def __init__(self, user: User, columns: list[str], lang: Lang) -> None:
        self.user, self.columns, self.lang = user, columns, lang
        self.kept: list[RefusedRow] = []
        self.count = 0
        self.token = ""
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, line: int, raw: dict[str, str], problem: Problem) -> None:
        self.count += 1
        row = RefusedRow(line, raw.get("register_ref", ""), raw.get("name", ""), problem)
        if len(self.kept) < KEEP_REFUSED:
            self.kept.append(row)
        if self._file is None:
            REFUSED_DIR.mkdir(mode=0o700, exist_ok=True)
            _forget_old_files()
            self.token = f"{self.user.id}-{secrets.token_urlsafe(16)}"
            self._file = (REFUSED_DIR / f"{self.token}.csv").open("w", encoding="utf-8-sig")
            self._writer = csv.writer(self._file)
            reason = REASON_HEADER[1 if self.lang is Lang.ZH else 0]
            self._writer.writerow([*header_row(self.user, self.lang), reason])
        reason_text = translate(self.lang, problem.key, **problem.values)
        self._writer.writerow([*(raw.get(c, "") for c in self.columns), reason_text])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _forget_old_files() -> None:
    cutoff = time.time() - REFUSED_TTL_S
    for path in REFUSED_DIR.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # another import removed it first


def refused_file(user: User, token: str) -> Path | None:
    """The CSV of refused rows of ``user``'s import ``token``, if it is still there."""
    if not token.startswith(f"{user.id}-") or "/" in token or ".." in token:
        return None
    path = REFUSED_DIR / f"{token}.csv"
    return path if path.is_file() else None


def import_csv(
    db: Session,
    user: User,
    upload: IO[bytes],
    lang: Lang,
    *,
    default_area_id: int | None = None,
) -> ImportReport:
    """Import a register of elders for ``user`` (operator: their area; admin: by row)."""
    if user.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the care centre or an administrator imports elders")
    if user.role is Role.OPERATOR and user.service_area_id is None:
        raise Forbidden("your account belongs to no service area")
    started = time.monotonic()
    fields, rows = read_rows(upload)
    places = Places.load(db)
    report = ImportReport()
    sink = _RefusedSink(user, columns_for(user), lang)
    seen: dict[tuple[int | None, str], int] = {}
    try:
        batch: list[_Checked] = []
        batches = 0
        for line, raw in rows:
            checked = _check_row(user, places, fields, line, raw, default_area_id, sink, seen)
            if checked is not None:
                batch.append(checked)
            if len(batch) >= BATCH:
                _write_batch(db, fields, batch, report)
                batch = []
                batches += 1
                if batches & (batches - 1) == 0 and report.created:
                    _refresh_statistics(db)
        if batch:
            _write_batch(db, fields, batch, report)
    finally:
        sink.close()
    report.refused = sink.count
    report.refused_rows = sink.kept
    report.refused_file = sink.token
    report.seconds = time.monotonic() - started
    audit.record(
        db,
        "elder.import",
        None,
        user=user,
        detail=(
            f"created={report.created} updated={report.updated} "
            f"unchanged={report.unchanged} refused={report.refused}"
        ),
        target=f"area:{user.service_area_id}" if user.role is Role.OPERATOR else "",
    )
    db.commit()
    return report


def _check_row(
    user: User,
    places: Places,
    fields: list[str],
    line: int,
    raw: dict[str, str],
    default_area_id: int | None,
    sink: _RefusedSink,
    seen: dict[tuple[int | None, str], int],
) -> _Checked | None:
    if "" in raw:
        problem = (
            Problem("elders.import.extra_cells")
            if raw[""] == "extra"
            else Problem("elders.import.unreadable", {"error": raw[""]})
        )
        sink.add(line, raw, problem)
        return None
    admin = user.role is Role.ADMIN
    given = dict(raw)
    if admin and not given.get("area", "").strip() and default_area_id in places.areas:
        given["area"] = places.areas[default_area_id or 0]
    values, problems = check_fields(given, places, by_name=True, admin=admin)
    ref = values["register_ref"] or ""
    if not ref:
        problems = {"register_ref": Problem("elders.import.ref_missing"), **problems}
    if problems:
        sink.add(line, raw, next(iter(problems.values())))
        return None
    area_id = values.pop("service_area_id", None) if admin else user.service_area_id
    first = seen.get((area_id, ref))
    if first is not None:
        sink.add(line, raw, Problem("elders.import.repeated", {"line": first}))
        return None
    seen[(area_id, ref)] = line
    return _Checked(line, area_id, ref, values, raw)


def _refresh_statistics(db: Session) -> None:
    """Let PostgreSQL know the table grew (after batch 1, 2, 4, 8...).

    Its statistics of a young table say "a few rows per area", so the lookup of a batch's
    register numbers read the whole area instead of the unique index: 0.2 s a batch at
    100 000 elders (measured, bench/admin.py). Autovacuum would tell it, but too late.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ANALYZE elders"))
        db.commit()


def _write_batch(
    db: Session, fields: list[str], batch: list[_Checked], report: ImportReport
) -> None:
    """Insert the new elders of a batch, update the changed ones; one commit."""
    compared = [f for f in fields if f in _COLUMNS]
    new = _update_existing(db, compared, batch, report)
    if new:
        dialect = db.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        statement = (
            insert(Elder)
            .on_conflict_do_nothing(index_elements=["service_area_id", "register_ref"])
            .returning(Elder.service_area_id, Elder.register_ref)
        )
        params = [
            {**c.values, "service_area_id": c.area_id, "created_at": now, "updated_at": now}
            for c in new
        ]
        inserted = set(db.execute(statement, params).tuples())
        report.created += len(inserted)
        # Another import inserted these first: compare with what it wrote.
        lost = [c for c in new if (c.area_id, c.ref) not in inserted]
        if lost and _update_existing(db, compared, lost, report):
            raise AppError("the register changed under the import; import the file again")
    db.commit()


def _update_existing(
    db: Session, compared: list[str], batch: list[_Checked], report: ImportReport
) -> list[_Checked]:
    """Update the batch's elders already in their area; the rows that are new."""
    columns = [getattr(Elder, _COLUMNS[f]) for f in compared]
    existing: dict[tuple[int | None, str], tuple[Any, ...]] = {}
    by_area: dict[int | None, list[str]] = {}
    for c in batch:
        by_area.setdefault(c.area_id, []).append(c.ref)
    for area_id, refs in by_area.items():
        for start in range(0, len(refs), _IN_CHUNK):
            query = select(Elder.id, Elder.register_ref, *columns).where(
                Elder.service_area_id == area_id,
                Elder.register_ref.in_(refs[start : start + _IN_CHUNK]),
            )
            for row in db.execute(query):
                existing[(area_id, row[1])] = tuple(row)
    new = []
    now = utcnow()
    for c in batch:
        found = existing.get((c.area_id, c.ref))
        if found is None:
            new.append(c)
            continue
        changes = {
            _COLUMNS[f]: c.values[_COLUMNS[f]]
            for i, f in enumerate(compared)
            if found[2 + i] != c.values[_COLUMNS[f]]
        }
        if not changes:
            report.unchanged += 1
            continue
        db.execute(
            update(Elder)
            .where(Elder.id == found[0])
            .values(**changes, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        report.updated += 1
    return new


# --- exporting ------------------------------------------------------------------------


def export_rows(db: Session, user: User, lang: Lang, area_id: int | None = None) -> Iterator[str]:
    """The register of the elders ``user`` manages as CSV text, a few rows at a time.

    Read in keyset pages of `BATCH` along the (area, id) index; an export imported again is
    "unchanged" for every row.
    """
    if user.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the care centre or an administrator exports elders")
    columns = columns_for(user)
    places = Places.load(db)
    clinics = dict(places.clinics)
    areas = dict(places.areas)
    out = io.StringIO()
    writer = csv.writer(out)
    yield "\ufeff"
    writer.writerow(header_row(user, lang))
    after = 0
    while True:
        query = select(Elder).where(Elder.id > after).order_by(Elder.id).limit(BATCH)
        if user.role is Role.OPERATOR:
            query = query.where(Elder.service_area_id == user.service_area_id)
        elif area_id is not None:
            query = query.where(Elder.service_area_id == area_id)
        elders = list(db.scalars(query))
        for elder in elders:
            writer.writerow([_cell(elder, c, clinics, areas) for c in columns])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(elders) < BATCH:
            return
        after = elders[-1].id
        db.expunge_all()


def export_stream(rt: Runtime, user: User, lang: Lang, area_id: int | None = None) -> Iterator[str]:
    """`export_rows` in its own session: a streamed response outlives the request's session."""
    if user.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only the care centre or an administrator exports elders")
    role, area, user_id = user.role, user.service_area_id, user.id

    def rows() -> Iterator[str]:
        with rt.db.session() as db:
            viewer = db.get(User, user_id)
            assert viewer is not None and viewer.role is role and viewer.service_area_id == area
            yield from export_rows(db, viewer, lang, area_id)

    return rows()


def _cell(elder: Elder, column: str, clinics: dict[int, str], areas: dict[int, str]) -> str:
    value: Any
    if column == "clinic":
        return clinics.get(elder.clinic_id or 0, "")
    if column == "area":
        return areas.get(elder.service_area_id or 0, "")
    if column == "register_ref":
        return elder.register_ref or ""
    value = getattr(elder, column)
    if column in ("latitude", "longitude"):
        return "" if value is None else f"{value:.6f}"
    if column == "lives_alone":
        return "yes" if value else "no"
    if column == "lang":
        return str(value.value)
    return "" if value is None else str(value)


def lines_of(chunks: Iterable[str]) -> Iterator[bytes]:
    """Text chunks as UTF-8 bytes (for a streamed response)."""
    for chunk in chunks:
        if chunk:
            yield chunk.encode("utf-8")


def spool(chunks: Iterable[bytes]) -> IO[bytes]:
    """Bytes received in pieces as one file, in memory up to 1 MB, then on disk."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115
    for chunk in chunks:
        spooled.write(chunk)
    spooled.seek(0)
    return spooled

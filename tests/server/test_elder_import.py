"""A city's register of elders as CSV: import (report, idempotence, refused rows), export."""

from __future__ import annotations

import csv
import io
import os
import threading

import pytest
from fastapi.testclient import TestClient

from server.models import AuditEntry, Elder
from server.runtime import Runtime
from tests.conftest import bearer
from tests.support.world import PASSWORD, World

HTML = {"accept": "text/html", "accept-language": "en"}
HEADER = (
    "register_ref,name,phone,birth_year,lang,address,latitude,longitude,lives_alone,clinic,"
    "care_notes"
)


def register(rows: int, bad_every: int = 0) -> tuple[str, dict[str, int]]:
    """A register of ``rows`` elders; every ``bad_every``-th row wrong in a known way."""
    lines = [HEADER]
    reasons: dict[str, int] = {}
    for i in range(1, rows + 1):
        name, year, lat = f"Elder {i}", str(1930 + i % 40), f"{31 + i / 100000:.6f}"
        if bad_every and i % bad_every == 0:
            kind = (i // bad_every) % 3
            if kind == 0:
                name = ""
                reasons["Enter the elder's name."] = reasons.get("Enter the elder's name.", 0) + 1
            elif kind == 1:
                year = "1700"
                key = "Enter a year between 1880 and"
                reasons[key] = reasons.get(key, 0) + 1
            else:
                lat = "91"
                key = "Latitude is a number between -90 and 90."
                reasons[key] = reasons.get(key, 0) + 1
        lines.append(
            f'R{i:05d},{name},1380000{i:04d},{year},zh,"{i} Road, Shanghai",{lat},121.4,'
            f"{'yes' if i % 2 else 'no'},Clinic A,"
        )
    return "\n".join(lines) + "\n", reasons


def upload(client: TestClient, csrf: str, text: str | bytes, name: str = "r.csv"):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/elders/import",
        data={"csrf": csrf},
        files={"file": (name, data, "text/csv")},
        headers=HTML,
    )


def counts(page: str) -> dict[str, int]:
    out = {}
    for key in ("created", "updated", "unchanged", "refused"):
        start = page.index(f'id="{key}">') + len(f'id="{key}">')
        out[key] = int(page[start : page.index("<", start)])
    return out


@pytest.fixture
def csrf(client: TestClient, world: World) -> str:
    client.post("/login", data={"email": world.operator_a.email, "password": PASSWORD})
    page = client.get("/elders/import", headers=HTML)
    marker = 'name="csrf" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def test_a_thousand_rows_with_bad_ones(
    client: TestClient, world: World, csrf: str, rt: Runtime
) -> None:
    text, reasons = register(1000, bad_every=50)
    resp = upload(client, csrf, text)
    assert resp.status_code == 200, resp.text[:2000]
    assert counts(resp.text) == {"created": 980, "updated": 0, "unchanged": 0, "refused": 20}
    assert resp.text.count("<tr><td data-label") == 20
    for reason, n in reasons.items():
        assert resp.text.replace("&#39;", "'").count(reason) == n, reason
    assert '<td data-label="Line">51</td>' in resp.text, "line 51 holds R00050 (header is 1)"
    # The refused rows, with a reason column, to fix and upload again.
    link = resp.text.split('id="refused-csv" href="')[1].split('"')[0]
    refused = client.get(link)
    assert refused.status_code == 200
    rows = list(csv.reader(io.StringIO(refused.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "reason" and len(rows) == 21
    assert rows[1][0] == "R00050" and rows[1][-1].startswith("Enter a year between 1880 and")
    with rt.db.session() as db:
        area = db.query(Elder).filter(Elder.register_ref.is_not(None))
        assert area.filter_by(service_area_id=world.area_a.id).count() == 980
        assert db.query(Elder).filter_by(register_ref="R00001").one().clinic_id == world.clinic_a.id
        imports = db.query(AuditEntry).filter_by(action="elder.import").all()
        assert len(imports) == 1 and "created=980" in imports[0].detail

    # The same file again changes nothing; a changed row updates its elder.
    again = upload(client, csrf, text)
    assert counts(again.text) == {"created": 0, "updated": 0, "unchanged": 980, "refused": 20}
    changed = text.replace("R00007,Elder 7,", "R00007,Elder Seven,")
    third = upload(client, csrf, changed)
    assert counts(third.text) == {"created": 0, "updated": 1, "unchanged": 979, "refused": 20}
    with rt.db.session() as db:
        assert db.query(Elder).filter_by(register_ref="R00007").one().name == "Elder Seven"
    client.post("/login", data={"email": world.operator_b.email, "password": PASSWORD})
    assert client.get(link).status_code == 404, "one's refused rows are one's own"


def test_chinese_headers_with_bom_and_repeated_refs(
    client: TestClient, csrf: str, rt: Runtime
) -> None:
    text = (
        "\ufeff登记号,姓名,电话,独居,纬度,经度\n"
        "Z1,张伟,13900000001,是,31.2,121.4\nZ2,李强,,否,,\nZ1,王芳,,1,,\n"
    )
    resp = upload(client, csrf, text)
    assert counts(resp.text) == {"created": 2, "updated": 0, "unchanged": 0, "refused": 1}
    assert "Repeated in this file, line 2." in resp.text
    with rt.db.session() as db:
        zhang = db.query(Elder).filter_by(register_ref="Z1").one()
        assert (zhang.name, zhang.lives_alone, zhang.latitude) == ("张伟", True, 31.2)


def test_gb18030_file(client: TestClient, csrf: str, rt: Runtime) -> None:
    resp = upload(client, csrf, "登记号,姓名\nG1,赵敏\n".encode("gb18030"))
    assert counts(resp.text)["created"] == 1
    with rt.db.session() as db:
        assert db.query(Elder).filter_by(register_ref="G1").one().name == "赵敏"


def test_export_then_import_is_unchanged(client: TestClient, world: World, csrf: str) -> None:
    text, _ = register(120, bad_every=0)
    assert counts(upload(client, csrf, text).text)["created"] == 120
    client.post(
        f"/elders/{world.elder_a.id}/edit",
        data={"csrf": csrf, "name": world.elder_a.name, "register_ref": "A-1"},
    )
    for lang in ("en", "zh"):
        exported = client.get("/elders/export.csv", params={"lang": lang})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        body = exported.content.decode("utf-8-sig")
        assert body.startswith("register_ref,name" if lang == "en" else "登记号,姓名")
        assert world.elder_b.name not in body, "only the operator's own area"
        report = counts(upload(client, csrf, exported.content).text)
        # elder_a has no register number until edited; edited above, so every row is known.
        assert report == {"created": 0, "updated": 0, "unchanged": 121, "refused": 0}, lang


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"R1,Wang\nR2,Li\n", "the first line must name the columns"),
        (os.urandom(2_000_000), "not a CSV text file"),
    ],
)
def test_files_that_are_not_a_register_are_refused(
    client: TestClient, csrf: str, content: bytes, message: str
) -> None:
    resp = upload(client, csrf, content)
    assert resp.status_code == 400
    assert message in resp.text and 'id="import-form"' in resp.text


def test_a_body_over_the_limit_is_refused(client: TestClient, world: World) -> None:
    big = b"register_ref,name\n" + b"x" * 51_000_000
    resp = client.post(
        "/api/elders/import",
        content=big,
        headers={**bearer(client, world.operator_a.email), "content-type": "text/csv"},
    )
    assert resp.status_code == 413


IMPORT_EXPECT = {"operator_a": 200, "admin": 200, "family_a": 403, "doctor_a": 403}


@pytest.mark.parametrize("role", ["operator_a", "admin", "family_a", "doctor_a"])
def test_api_import_and_export_by_role(
    client: TestClient, world: World, role: str, rt: Runtime
) -> None:
    headers = bearer(client, world.user(role).email)
    body = f"register_ref,name,area\nJ1,Json Elder,{world.area_b.name}\n"
    resp = client.post(
        "/api/elders/import", content=body, headers={**headers, "content-type": "text/csv"}
    )
    assert resp.status_code == IMPORT_EXPECT[role], resp.text
    export = client.get("/api/elders/export", headers=headers)
    assert export.status_code == IMPORT_EXPECT[role]
    if resp.status_code == 200:
        assert resp.json()["created"] == 1
        with rt.db.session() as db:
            elder = db.query(Elder).filter_by(register_ref="J1").one()
            expected = world.area_b.id if role == "admin" else world.area_a.id
            assert elder.service_area_id == expected, "an operator's rows go to their own area"
        assert "Json Elder" in export.text
    multipart = client.post(
        "/api/elders/import", files={"file": ("r.csv", body.encode())}, headers=headers
    )
    assert multipart.status_code == IMPORT_EXPECT[role]
    if multipart.status_code == 200:
        assert multipart.json()["unchanged"] == 1


@pytest.mark.skipif(
    not os.environ.get("ANXIN_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the race needs a database with concurrent writers (PostgreSQL)",
)
def test_two_imports_racing_create_each_elder_once(
    client: TestClient, world: World, rt: Runtime
) -> None:
    text, _ = register(3000)
    headers = {**bearer(client, world.operator_a.email), "content-type": "text/csv"}
    results: list[dict[str, int]] = []

    def run() -> None:
        resp = client.post("/api/elders/import", content=text, headers=headers)
        assert resp.status_code == 200, resp.text
        results.append(resp.json())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 2
    assert sum(r["created"] for r in results) == 3000
    assert sum(r["created"] + r["unchanged"] for r in results) == 6000
    with rt.db.session() as db:
        assert db.query(Elder).filter(Elder.register_ref.like("R%")).count() == 3000

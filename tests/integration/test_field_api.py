"""``/form/api/*``, the offline field app's API (docs/field-offline.md, services/entry/http/field_api.py): the web
session's cookie and CSRF header as identity (checked before any body byte), the API's answers for findings and
uploads, photos per checklist item with their capture time and place, and migration 0015. The visits list is
tests/integration/test_field_visits.py."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import select

from models import Attachment, Submission
from services import access
from services.db import alembic_config, get_engine, session_scope
from services.entry.http.field_identity import SESSION_ENDED
from services.entry.http.server import start_in_thread
from services.entry.http.web_form import csrf_token
from services.intake import logic
from services.intake.schemas import FindingsSubmission
from services.settings import Settings
from tests.conftest import Worlds
from tests.console_support import console_login
from tests.factories import create_scheduled_campaign, team_inspections
from tests.integration.test_body_limits import Api, read_answer, send_head
from tests.integration.test_evidence import PHOTO, SCAN

CAMPAIGN = "FIELD-01"
MIB = 1024 * 1024


def web_session(settings: Settings, token: str) -> str:
    """A /form web session for the holder of ``token`` (what logging in on /form/login opens)."""
    with session_scope(settings) as db:
        row = access.token_row(db, token)
        assert row is not None
        return access.start_web_session(db, token=row)


@dataclass
class App:
    settings: Settings
    url: str
    http: httpx.Client
    tokens: dict[str, str]
    mine: int  # an inspection of SNV-TT01's team
    sid: str  # SNV-TT01's web session

    def web(self, sid: str | None = None, **extra: str) -> dict[str, str]:
        sid = sid or self.sid
        return {"Cookie": f"kiemtra_phien={sid}", "X-Kiemtra-Csrf": csrf_token(sid, "api"), **extra}

    def bearer(self, who: str = "SNV-TT01") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def checklist(self, inspection_id: int | None = None) -> list[str]:
        answer = self.http.get(f"/api/inspections/{inspection_id or self.mine}", headers=self.bearer())
        return [item["code"] for item in answer.json()["checklist"]]

    def body(self, client_id: str, attachments: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
        findings = [{"item_code": code, "result": "pass"} for code in self.checklist()]
        return {"client_submission_id": client_id, "findings": findings, "attachments": attachments or [], **extra}

    def submit(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(f"/form/api/inspections/{self.mine}/findings", json=body,
                              headers=self.web() if headers is None else headers)


@pytest.fixture
def app(settings: Settings, worlds: Worlds) -> Iterator[App]:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=CAMPAIGN)
    mine = team_inspections(settings)["SNV-TT01"][0]
    sid = web_session(settings, tokens["SNV-TT01"])
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield App(settings, server.url, http, tokens, mine, sid)
    finally:
        server.stop()


def submissions(settings: Settings) -> list[tuple[str, int]]:
    with session_scope(settings) as db:
        return [(s.client_submission_id, s.version) for s in db.exec(select(Submission)).all()]


# --------------------------------------------------------------------------- identity


def test_the_web_session_and_its_csrf_header_identify_the_caller(app: App) -> None:
    ended = {"detail": SESSION_ENDED, "errors": []}
    reads = ["/form/api/visits", "/form/api/submissions/khong-co-0001"]
    for path in reads:
        assert app.http.get(path).json() == ended, path
        assert app.http.get(path, headers=app.bearer()).status_code == 401, path  # a token is not a session
        assert app.http.get(path, headers=app.web(Cookie="kiemtra_phien=khong-phai-phien")).json() == ended
    good = app.http.get("/form/api/visits", headers=app.web())
    assert good.status_code == 200 and good.headers["cache-control"] == "no-store"
    assert good.json()["csrf"] == csrf_token(app.sid, "api")
    # the visits list hands the token out: it needs none; every other request does
    assert app.http.get("/form/api/visits", headers={"Cookie": f"kiemtra_phien={app.sid}"}).status_code == 200
    bad_csrf = app.http.get(reads[1], headers=app.web(**{"X-Kiemtra-Csrf": csrf_token(app.sid, "logout")}))
    assert bad_csrf.status_code == 403 and "X-Kiemtra-Csrf" in bad_csrf.json()["detail"]
    no_csrf = app.submit(app.body("field-0001"), headers={"Cookie": f"kiemtra_phien={app.sid}"})
    assert no_csrf.status_code == 403 and no_csrf.json()["errors"] == []
    for header in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://ke-gian.example"}):
        refused = app.submit(app.body("field-0001"), headers=app.web(**header))
        assert refused.status_code == 403 and "trang web khác" in refused.json()["detail"], header
    assert app.submit(app.body("field-0001"), headers={}).json() == ended
    assert submissions(app.settings) == []
    # logging out ends the session for the API as well
    with session_scope(app.settings) as db:
        access.end_web_session(db, app.sid)
    assert app.http.get("/form/api/visits", headers=app.web()).json() == ended
    assert app.submit(app.body("field-0001")).status_code == 401


def test_identity_is_checked_before_any_body_byte_and_the_limits_follow(app: App) -> None:
    """A 5 MB body is answered after its headers and a 64 KiB prefix, connection closed: never read."""
    api = Api(app.settings, app.url, app.http, app.tokens, app.mine)
    findings, upload = f"/form/api/inspections/{app.mine}/findings", f"/form/api/submissions/bat-ky-0001/attachments/{'a' * 64}"
    cases = [(findings, {}, 401), (upload, {}, 401), (findings, app.bearer(), 401),
             (findings, {"Cookie": f"kiemtra_phien={app.sid}"}, 403),
             (findings, app.web(**{"Sec-Fetch-Site": "cross-site"}), 403), (upload, app.web(Origin="http://x.example"), 403)]
    for path, headers, status in cases:
        method = "PUT" if "attachments" in path else "POST"
        sock = send_head(api, method, path, {**headers, "Content-Type": "application/json", "Content-Length": str(5 * MIB)})
        with sock:
            sock.sendall(b"[" * (64 * 1024))
            answer = read_answer(sock)
        assert answer.status == status, (path, headers)
        assert answer.headers["connection"] == "close" and answer.closed, (path, headers)
    # identified, the API's size limit for findings (1 MiB) and its nesting check apply
    sock = send_head(api, "POST", findings, {**app.web(), "Content-Type": "application/json", "Content-Length": str(MIB + 1)})
    with sock:
        sock.sendall(b"{")
        answer = read_answer(sock)
    assert answer.status == 413 and answer.closed
    deep = app.http.post(findings, content=b"[" * 40 + b"]" * 40, headers={**app.web(), "Content-Type": "application/json"})
    assert deep.status_code == 422 and deep.json()["errors"] == ["body: dữ liệu JSON lồng nhau quá 32 cấp"]
    assert submissions(app.settings) == []


# --------------------------------------------------------------------------- findings and uploads: the API's answers


def test_findings_through_the_field_api_are_the_apis(app: App) -> None:
    body = app.body("field-same-0001")
    first = app.submit(body)
    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    again = app.submit(body)
    assert again.status_code == 200 and again.json() == first.json()
    # the same submission sent through the API is recognised as the same one
    through_api = app.http.post(f"/api/inspections/{app.mine}/findings", json=body, headers=app.bearer())
    assert through_api.status_code == 200 and through_api.json() == first.json()
    assert submissions(app.settings) == [("field-same-0001", 1)]
    other = app.submit({**body, "reason": "Sửa lại"})  # the same client id, other content
    assert other.status_code == 409 and other.json()["detail"].startswith("Mã gửi này đã được dùng")
    unreasoned = app.submit(app.body("field-same-0002"))  # an edit of a complete version says why
    assert unreasoned.status_code == 422
    assert unreasoned.json()["errors"] == ["reason: đây là bản sửa của kết quả đã gửi; phải ghi lý do sửa"]
    edit = app.submit(app.body("field-same-0002", reason="Bổ sung ảnh hiện trường"))
    assert edit.status_code == 201 and edit.json()["version"] == 2
    missing = app.submit({"client_submission_id": "field-same-0003", "findings": []})
    assert missing.status_code == 422 and missing.json()["detail"] == "Dữ liệu gửi lên không hợp lệ."


def test_photos_per_item_are_stored_with_their_capture_time_and_place(app: App) -> None:
    code = app.checklist()[0]
    taken = "2026-03-05T08:15:30+07:00"
    photo = PHOTO.decl(item_code=code, captured_at=taken, latitude=22.6657, longitude=106.2570, accuracy_m=12.5)
    body = app.body("field-photo-0001", [photo, SCAN.decl()])
    receipt = app.submit(body)
    assert receipt.status_code == 201, receipt.text
    assert sorted(receipt.json()["missing_attachments"]) == sorted([PHOTO.sha256, SCAN.sha256])
    with session_scope(app.settings) as db:
        rows = {a.sha256: a for a in db.exec(select(Attachment)).all()}
    stored = rows[PHOTO.sha256]
    assert (stored.item_code, stored.latitude, stored.longitude, stored.accuracy_m) == (code, 22.6657, 106.2570, 12.5)
    assert stored.captured_at == datetime(2026, 3, 5, 1, 15, 30, tzinfo=UTC)
    scan = rows[SCAN.sha256]
    assert (scan.item_code, scan.captured_at, scan.latitude, scan.longitude, scan.accuracy_m) == (None,) * 5
    assert app.submit(body).status_code == 200  # the same declarations: the same submission

    put = f"/form/api/submissions/field-photo-0001/attachments/{PHOTO.sha256}"
    wrong = app.http.put(put, content=SCAN.data[:1] + PHOTO.data[1:], headers=app.web(**{"Content-Type": "image/jpeg"}))
    assert wrong.status_code == 422, wrong.text  # the bytes do not hash to the declared SHA-256
    refused_type = app.http.put(put, content=PHOTO.data, headers=app.web(**{"Content-Type": "application/pdf"}))
    assert refused_type.status_code == 415
    ok = app.http.put(put, content=PHOTO.data, headers=app.web(**{"Content-Type": "image/jpeg"}))
    assert ok.status_code == 201 and ok.json()["received"] and ok.headers["cache-control"] == "no-store"
    assert app.http.put(put, content=PHOTO.data, headers=app.web(**{"Content-Type": "image/jpeg"})).status_code == 200
    status = app.http.get("/form/api/submissions/field-photo-0001", headers=app.web())
    assert status.status_code == 200 and status.headers["cache-control"] == "no-store"
    assert status.json()["missing"] == [SCAN.sha256] and not status.json()["complete"]
    same = app.http.get("/api/submissions/field-photo-0001", headers=app.bearer())
    assert same.json() == status.json()
    put_scan = f"/form/api/submissions/field-photo-0001/attachments/{SCAN.sha256}"
    assert app.http.put(put_scan, content=SCAN.data, headers=app.web(**{"Content-Type": SCAN.content_type})).status_code == 201
    assert app.http.get("/form/api/submissions/field-photo-0001", headers=app.web()).json()["complete"]
    # the lead's review page shows the photo under its item, with when it was taken (Việt Nam's clock)
    with httpx.Client(timeout=30) as console:
        page = console_login(console, app.url, "SNV-LEAD", app.tokens["SNV-LEAD"]).get(
            f"{app.url}/console/inspections/{app.mine}/findings")
    assert page.status_code == 200, page.text
    html = page.text
    group = html.index(f'<h5 class="photo-group" data-item-code="{code}">')
    assert group < html.index(PHOTO.sha256) < html.index("Ảnh và tệp chung") < html.index(SCAN.sha256)
    assert "Chụp lúc 08:15 05/03/2026" in html


def test_a_photo_of_an_item_not_answered_or_taken_in_the_future_is_refused(app: App) -> None:
    future = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    cases = [({"item_code": "KHONG-CO"}, "attachments[0].item_code: mục 'KHONG-CO' không có trong các kết quả gửi kèm"),
             ({"captured_at": future}, "attachments[0].captured_at: thời điểm chụp ở tương lai"),
             ({"captured_at": "0001-01-01T00:00:00+07:00"}, "attachments[0].captured_at: thời điểm chụp trước năm 2000")]
    for extra, error in cases:
        answer = app.submit(app.body("field-bad-0001", [PHOTO.decl(**extra)]))
        assert answer.status_code == 422, extra
        assert any(e.startswith(error) for e in answer.json()["errors"]), answer.json()
    out_of_range: list[tuple[dict[str, Any], str]] = [
        ({"latitude": 91}, "attachments[0].latitude"), ({"longitude": -180.5}, "attachments[0].longitude"),
        ({"accuracy_m": -1}, "attachments[0].accuracy_m"),
        ({"captured_at": "2026-03-05T08:00:00"}, "attachments[0].captured_at")]  # no offset
    for extra, where in out_of_range:
        answer = app.submit(app.body("field-bad-0001", [PHOTO.decl(**extra)]))
        assert answer.status_code == 422 and answer.json()["errors"][0].startswith(where), (extra, answer.json())
    assert submissions(app.settings) == []
    fine = app.submit(app.body("field-bad-0001", [PHOTO.decl(captured_at=soon)]))  # a phone's clock a little ahead
    assert fine.status_code == 201, fine.text


def test_the_content_hash_of_a_submission_without_the_new_fields_is_unchanged() -> None:
    """Old clients' re-sends are recognised: the hash is the one computed before the photo fields existed."""
    declared = [PHOTO.decl(), SCAN.decl()]
    raw = {"client_submission_id": "old-client-0001", "reason": "",
           "findings": [{"item_code": "LD-01", "result": "pass"}], "attachments": declared}
    body = FindingsSubmission.model_validate(raw)
    canonical = logic.canonical_findings(body)
    files = sorted(declared, key=lambda a: a["sha256"])
    before = hashlib.sha256(json.dumps([7, canonical, files, ""], ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    assert logic.content_sha256(7, body, canonical) == before
    placed = FindingsSubmission.model_validate({**raw, "attachments": [PHOTO.decl(item_code="LD-01"), SCAN.decl()]})
    assert logic.content_sha256(7, placed, canonical) != before


# --------------------------------------------------------------------------- migration 0015


def test_migration_0015_adds_the_columns_and_takes_them_away(settings: Settings) -> None:
    new = {"item_code", "captured_at", "latitude", "longitude", "accuracy_m"}

    def columns() -> set[str]:
        engine = get_engine(settings)
        return {c["name"] for c in sa.inspect(engine).get_columns("attachment")}

    def migrate(revision: str, *, down: bool) -> None:
        with get_engine(settings).connect() as conn:
            (command.downgrade if down else command.upgrade)(alembic_config(settings, conn), revision)
            conn.commit()

    assert new <= columns()
    migrate("0014", down=True)
    assert not new & columns()
    migrate("head", down=False)
    assert new <= columns()

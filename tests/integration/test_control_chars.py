"""NUL and the other characters a database refuses or no document may hold (issue 13, point 3).

In every text field of every request body and in every string path or query parameter, a NUL, an ESC or a C1
control is a 422 naming the field, on SQLite and on PostgreSQL alike (PostgreSQL stores no NUL: before, ten endpoints
answered 500 there, and SQLite stored it), and nothing is stored. A database error that still leaks out of a handler
is answered in the API's error shape with a request id, and logged with the route and that id.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import select

from models import Attachment, AuditEvent, Campaign, Establishment, Finding, FindingReview, Selection, Submission
from services.db import session_scope
from services.entry.http.app import create_app
from services.entry.http.server import start_in_thread
from services.settings import Settings
from services.stages import selection
from tests.conftest import Worlds
from tests.factories import count, create_campaign, create_scheduled_campaign, team_inspections

SCHEDULED, SELECTED = "CTRL-01", "CTRL-02"  # visits planned (findings, review, decision); a list the lead reviews
CONTROLS = {"NUL": "\x00", "ESC": "\x1b", "NEL (C1)": "\x85"}
SHA = "ab" * 32


@dataclass
class World:
    settings: Settings
    http: httpx.Client
    tokens: dict[str, str]
    inspection_id: int
    checklist: list[str]
    tax_code: str  # on the SELECTED campaign's list

    def send(self, method: str, path: str, who: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.http.request(method, path, headers=headers, json=body, **kwargs)


@pytest.fixture
def world(settings: Settings, worlds: Worlds) -> Iterator[World]:
    tokens = worlds.copy(settings, create_scheduled_campaign, code=SCHEDULED, establishments=200)
    create_campaign(settings, code=SELECTED, quota=5)
    selection.select_establishments(settings, SELECTED)
    inspection_id = team_inspections(settings)["SNV-TT01"][0]
    with session_scope(settings) as session:
        campaign = session.exec(select(Campaign).where(Campaign.code == SELECTED)).one()
        tax_code = session.exec(select(Establishment.tax_code).join(Selection, Selection.establishment_id == Establishment.id)
                                .where(Selection.campaign_id == campaign.id)).first()
        assert tax_code is not None
    server = start_in_thread(settings)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            w = World(settings, http, tokens, inspection_id, [], tax_code)
            checklist = w.send("GET", f"/api/inspections/{inspection_id}", "SNV-TT01")
            assert checklist.status_code == 200, checklist.text
            w.checklist = [item["code"] for item in checklist.json()["checklist"]]
            yield w
    finally:
        server.stop()


def _findings(w: World, c: str, *, where: str) -> dict[str, Any]:
    """A complete, valid submission but for ``c`` placed at ``where``."""
    findings: list[dict[str, Any]] = [{"item_code": code, "result": "pass"} for code in w.checklist]
    body: dict[str, Any] = {"client_submission_id": "ctrl-chars-0001", "findings": findings,
                            "attachments": [{"name": "anh-1.jpg", "sha256": SHA, "size": 10, "content_type": "image/jpeg"}]}
    if where == "note":
        findings[0]["note"] = f"Chưa có hồ sơ{c}"
    elif where == "item_code":
        findings[0]["item_code"] += c
    elif where == "reason":
        body["reason"] = f"Sửa{c}"
    elif where == "client_submission_id":
        body["client_submission_id"] += c
    else:
        body["attachments"][0][where] = body["attachments"][0][where][:-1] + c
    return body


def cases(w: World, c: str) -> list[tuple[str, str, str, Any, str, dict[str, Any]]]:
    """(method, path, who, body, the field the 422 must name, request options) for one character ``c``."""
    i, campaign = w.inspection_id, SELECTED
    bad_campaign = quote(campaign + c, safe="")
    findings = f"/api/inspections/{i}/findings"
    return [
        *[("POST", findings, "SNV-TT01", _findings(w, c, where=where), field, {})
          for where, field in (("note", "findings[0].note"), ("item_code", "findings[0].item_code"), ("reason", "reason"),
                               ("client_submission_id", "client_submission_id"),
                               ("content_type", "attachments[0].content_type"))],
        ("POST", f"/api/inspections/{i}/review", "SNV-LEAD", {"decision": "return", "comment": f"Bổ sung{c}"}, "comment", {}),
        ("POST", f"/api/inspections/{i}/decision", "SNV-GD",
         {"decided_on": "2026-03-20", "amounts": {}, "reasons": {"1": f"Lý do{c}"}}, "reasons.1", {}),
        ("POST", f"/api/inspections/{i}/decision", "SNV-GD",
         {"decided_on": "2026-03-20", "amounts": {}, "referral_reason": f"Chuyển{c}"}, "referral_reason", {}),
        ("POST", f"/api/inspections/{i}/decision", "SNV-GD",
         {"decided_on": "2026-03-20", "amounts": {}, "circumstances": {"1": {"mitigating": [f"giam_nhe_khac{c}"]}}},
         "circumstances.1.mitigating[0]", {}),
        ("POST", f"/api/campaigns/{campaign}/selection/changes", "SNV-LEAD",
         {"remove": [{"tax_code": w.tax_code, "reason": f"Đã kiểm tra{c}"}]}, "remove[0].reason", {}),
        ("POST", f"/api/campaigns/{campaign}/selection/changes", "SNV-LEAD",
         {"remove": [{"tax_code": w.tax_code + c, "reason": "Đã kiểm tra"}]}, "remove[0].tax_code", {}),
        ("POST", f"/api/campaigns/{campaign}/selection/approve", "SNV-LEAD", {"note": f"Đồng ý{c}"}, "note", {}),
        ("GET", f"/api/campaigns/{bad_campaign}/selection", "SNV-LEAD", None, "path.campaign_code", {}),
        ("POST", f"/api/campaigns/{bad_campaign}/selection/changes", "SNV-LEAD", {}, "path.campaign_code", {}),
        ("POST", f"/api/campaigns/{bad_campaign}/selection/approve", "SNV-LEAD", {}, "path.campaign_code", {}),
        ("GET", f"/api/submissions/{quote('ctrl-chars-0001' + c, safe='')}", "SNV-TT01", None,
         "path.client_submission_id", {}),
        ("PUT", f"/api/submissions/{quote('ctrl-chars-0001' + c, safe='')}/attachments/{SHA}", "SNV-TT01", None,
         "path.client_submission_id", {"content": b"0123456789"}),
        ("PUT", f"/api/submissions/ctrl-chars-0001/attachments/{quote(SHA[:-1] + c, safe='')}", "SNV-TT01", None,
         "path.sha256", {"content": b"0123456789"}),
        ("GET", "/api/circumstances", "SNV-GD", None, "query.on", {"params": {"on": f"2026-03-20{c}"}}),
    ]


def stored(settings: Settings) -> dict[str, Any]:
    """What a refused request must leave as it was."""
    with session_scope(settings) as session:
        return {"submissions": count(session, Submission), "findings": count(session, Finding),
                "attachments": count(session, Attachment), "reviews": count(session, FindingReview),
                "audit": count(session, AuditEvent),
                "campaigns": dict(session.exec(select(Campaign.code, Campaign.status)).all()),
                "selection": sorted(session.exec(select(Selection.id, Selection.removed, Selection.change_reason)).all())}


@pytest.mark.parametrize("name", list(CONTROLS))
def test_a_control_character_in_any_text_field_or_string_parameter_is_a_422_naming_it(world: World, name: str) -> None:
    before = stored(world.settings)
    wrong = []
    for method, path, who, body, field, options in cases(world, CONTROLS[name]):
        response = world.send(method, path, who, body, **options)
        answer = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        named = [e for e in answer.get("errors", []) if e.startswith(f"{field}: ")]
        if response.status_code != 422 or not named or answer.get("detail") != "Dữ liệu gửi lên không hợp lệ.":
            wrong.append(f"{method} {path} ({field}) -> {response.status_code} {response.text[:300]}")
    assert not wrong, f"{name} not refused as a 422 naming the field:\n" + "\n".join(wrong)
    assert stored(world.settings) == before


def test_the_refusal_names_the_character_where_the_value_has_no_pattern(world: World) -> None:
    """A code point a person can look for, not just "invalid": free text and a campaign's code name it."""
    response = world.send("GET", f"/api/campaigns/{SELECTED}%00/selection", "SNV-LEAD")
    assert response.status_code == 422
    assert response.json()["errors"] == ["path.campaign_code: có ký tự điều khiển hoặc không hợp lệ (U+0000); hãy xóa "
                                         "ký tự này"]


def test_a_declared_file_name_is_cleaned_of_control_characters_not_refused(world: World) -> None:
    """The name a phone gave a photo is metadata: stored without its control characters, on PostgreSQL too."""
    body = _findings(world, "", where="note")
    body["attachments"][0]["name"] = "\x00ảnh\x1b\x85-1.jpg"
    response = world.send("POST", f"/api/inspections/{world.inspection_id}/findings", "SNV-TT01", body)
    assert response.status_code == 201, response.text
    with session_scope(world.settings) as session:
        assert session.exec(select(Attachment.name)).all() == ["ảnh-1.jpg"]


# --------------------------------------------------------------------------- database errors leaking out of a handler


def test_the_database_unreachable_is_a_503_in_vietnamese_with_a_request_id_and_a_log_record(
        settings: Settings, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    down = ("postgresql+psycopg://postgres@127.0.0.1:9/nowhere" if settings.db_url.startswith("postgresql")
            else f"sqlite:///{tmp_path}/no-such-folder/kiemtra.db")
    server = start_in_thread(settings.model_copy(update={"database_url": down}))
    headers = {"Authorization": "Bearer secret-token-value", "X-Request-ID": "req-503-test"}
    try:
        with caplog.at_level(logging.ERROR, logger="services.entry.http.failures"):
            response = httpx.get(f"{server.url}/api/inspections", timeout=30, headers=headers)
        # a write: its caller is looked up before the body is read, outside any route (services.entry.http.limits)
        write = httpx.post(f"{server.url}/api/inspections/1/review", json={"decision": "approve"}, timeout=30,
                           headers={**headers, "X-Request-ID": "req-503-write"})
    finally:
        server.stop()
    assert write.status_code == 503 and "req-503-write" in write.json()["detail"], write.text
    assert response.status_code == 503, response.text
    assert response.headers["X-Request-ID"] == "req-503-test"
    assert response.headers["Retry-After"]
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["errors"] == []
    assert "không có dữ liệu nào được lưu" in body["detail"] and "req-503-test" in body["detail"]
    (record,) = [r for r in caplog.records if r.name == "services.entry.http.failures" and "req-503-test" in r.getMessage()]
    assert "GET /api/inspections" in record.getMessage() and "req-503-test" in record.getMessage()
    assert "OperationalError" in record.getMessage()
    assert "secret-token-value" not in record.getMessage()


def _failing_app(settings: Settings, statements: list[str]) -> Any:
    """The real app with one more route that runs ``statements`` on the app's own database (a handler whose database
    error nobody maps: what the last-resort handler is for)."""
    app = create_app(settings)

    def fail() -> dict[str, str]:
        with app.state.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        return {"status": "not reached"}

    app.add_api_route("/api/test/database-error/{kind}", fail, methods=["GET"])
    return app


def _get(app: Any, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake.test") as client:
            return await client.get(path, params={"value": "người dùng gõ"})

    return asyncio.run(call())


def test_a_database_error_leaking_out_of_a_handler_is_answered_in_the_error_shape_and_logged(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    on_postgres = settings.db_url.startswith("postgresql")
    duplicate = ["CREATE TEMPORARY TABLE t_dup (x INTEGER PRIMARY KEY)", "INSERT INTO t_dup VALUES (1)",
                 "INSERT INTO t_dup VALUES (1)"]
    with caplog.at_level(logging.ERROR, logger="services.entry.http.failures"):
        integrity = _get(_failing_app(settings, duplicate), "/api/test/database-error/integrity")
    assert integrity.status_code == 500, integrity.text
    rid = integrity.headers["X-Request-ID"]
    assert integrity.json() == {"detail": "Lỗi hệ thống khi ghi hoặc đọc dữ liệu. Yêu cầu chưa được xử lý và không có dữ "
                                          f"liệu nào được lưu. Hãy báo mã yêu cầu {rid} cho quản trị hệ thống.",
                                "errors": []}
    (record,) = [r for r in caplog.records if r.name == "services.entry.http.failures"]
    message = record.getMessage()
    assert "IntegrityError" in message and "GET /api/test/database-error/{kind}" in message and rid in message
    assert "INSERT INTO" not in message  # the statement (and its values) stays out of the log
    if on_postgres:  # SQLite has no error that only a value can cause
        data = _get(_failing_app(settings, ["SELECT CAST('không phải số' AS INTEGER)"]), "/api/test/database-error/data")
        assert data.status_code == 422, data.text
        assert "không lưu được" in data.json()["detail"] and data.headers["X-Request-ID"] in data.json()["detail"]


def test_an_approval_note_too_long_for_the_audit_record_is_a_422_not_a_database_error(world: World) -> None:
    """The note is kept in the audit record after "Phê duyệt danh sách N cơ sở: " (1,000 characters in all): a
    1,000-character note was a 500 on PostgreSQL (value too long) and stored on SQLite."""
    before = stored(world.settings)
    response = world.send("POST", f"/api/campaigns/{SELECTED}/selection/approve", "SNV-LEAD", {"note": "Đồng ý. " * 125})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == ["note: quá dài"]
    assert stored(world.settings) == before


def test_a_return_comment_too_long_for_the_audit_record_is_a_422_not_a_database_error(world: World) -> None:
    """Returned findings keep the comment in the audit record after "Trả lại kết quả phiên bản N: " (1,000 characters
    in all): a 1,050-character comment was a 500 on PostgreSQL (value too long)."""
    body = _findings(world, "", where="note")
    del body["attachments"]
    assert world.send("POST", f"/api/inspections/{world.inspection_id}/findings", "SNV-TT01", body).status_code == 201
    before = stored(world.settings)
    response = world.send("POST", f"/api/inspections/{world.inspection_id}/review", "SNV-LEAD",
                          {"decision": "return", "comment": "Bổ sung hồ sơ. " * 70})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == ["comment: quá dài"]
    assert stored(world.settings) == before

"""The web form's body parsing, anti-forgery token and error placement (no HTTP, no database)."""
from __future__ import annotations

import hashlib

import pytest

from services.errors import IntakeError
from services.entry.http.web_form import FormRefused, build_submission, csrf_ok, csrf_token, item_values, parse_body, place_errors

BOUNDARY = "----WebKitFormBoundaryAbC123"


def multipart(*parts: tuple[str, str | None, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        out += f"Content-Type: {content_type}\r\n".encode() if content_type else b""
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_multipart_fields_are_nfc_text_and_files_keep_every_byte() -> None:
    binary = bytes(range(256)) + b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n\r\n"  # CRLFs, a near-boundary
    decomposed = "Chu\u031ba kha\u0301m"  # "Chưa khám" typed as combining marks
    body = multipart(("note.YT-01", None, None, decomposed.encode()), ("result.YT-01", None, None, b"fail"),
                     ("anh", "ảnh hiện trường.png", "image/png", binary), ("empty", "", "application/octet-stream", b""))
    form = parse_body(f"multipart/form-data; boundary={BOUNDARY}", body)
    assert form.fields == {"note.YT-01": "Chưa khám", "result.YT-01": "fail"}
    assert [(f.field, f.filename, f.content_type, f.data) for f in form.files] == [
        ("anh", "ảnh hiện trường.png", "image/png", binary)]
    assert form.files[0].sha256 == hashlib.sha256(binary).hexdigest()


def test_urlencoded_and_refusals() -> None:
    form = parse_body("application/x-www-form-urlencoded", "person_code=SNV-TT01&token=a%2Bb&x=".encode())
    assert form.fields == {"person_code": "SNV-TT01", "token": "a+b", "x": ""}
    with pytest.raises(FormRefused):
        parse_body("application/json", b"{}")
    with pytest.raises(FormRefused):
        parse_body(f"multipart/form-data; boundary={BOUNDARY}", multipart(("a", None, None, b"1"))[:-10])


def test_the_csrf_token_binds_the_session_and_the_page() -> None:
    token = csrf_token("session-a", "web-page-1")
    assert csrf_ok("session-a", "web-page-1", token)
    assert not csrf_ok("session-b", "web-page-1", token)
    assert not csrf_ok("session-a", "web-page-2", token)
    assert not csrf_ok("session-a", "web-page-1", "")


def test_answers_become_a_submission_and_errors_land_on_their_items() -> None:
    form = parse_body("application/x-www-form-urlencoded",
                      "result.LD-01=pass&result.YT-01=fail&workers.YT-01=abc&note.YT-01=x".encode())
    values = item_values(form, ["LD-01", "YT-01", "YT-02"])
    assert values["YT-02"] == {"result": "", "workers": "", "devices": "", "note": "", "act_kind": "", "committed_on": ""}
    with pytest.raises(IntakeError) as refused:
        build_submission(client_submission_id="web-0001-abcd", reason="", values=values, photo=None)
    errors = refused.value.ids["errors"]
    assert errors == ["findings[1].workers_affected: phải là số nguyên"]
    summary, per_item = place_errors([*errors, "findings: thiếu kết quả cho các mục YT-02"], ["LD-01", "YT-01"])
    assert summary == ["Mục YT-01 (số người lao động): phải là số nguyên", "thiếu kết quả cho các mục YT-02"]
    assert per_item == {"YT-01": ["Phải là số nguyên"]}

    values["YT-01"]["workers"] = "12"
    body = build_submission(client_submission_id="web-0001-abcd", reason="", values=values, photo=None)
    assert [(f.item_code, f.result, f.workers_affected) for f in body.findings] == [("LD-01", "pass", None),
                                                                                    ("YT-01", "fail", 12)]
    # an act the inspector records as ended, with its date: both sent (they choose the decree, NĐ 283/2026 Art.67)
    values["YT-01"] |= {"act_kind": "ended", "committed_on": "2026-09-08"}
    body = build_submission(client_submission_id="web-0002-abcd", reason="", values=values, photo=None)
    assert (body.findings[1].ongoing, str(body.findings[1].committed_on)) == (False, "2026-09-08")
    values["YT-01"]["committed_on"] = "08/09/2026"
    with pytest.raises(IntakeError) as refused:
        build_submission(client_submission_id="web-0003-abcd", reason="", values=values, photo=None)
    assert refused.value.ids["errors"][0].startswith("findings[1].committed_on: ")

"""One bad character never stops a batch (issue 13, point 1): the text policy cleans or refuses it at input, text stored
before it is printed safely, and an inspection whose stage fails is recorded while the others go on."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from sqlmodel import select

from models import Document, DocumentType, Finding, Inspection, InspectionStatus
from services.db import session_scope
from services.intake import logic
from services.entry.http.deps import message_vi, where
from services.intake.schemas import FindingsSubmission, ReviewIn
from services.stages import records
from services.stages.status import campaign_status
from tests.cases import lead, visit
from tests.factories import create_scheduled_campaign, team_inspections
from tests.pdf_support import text_of

CODE = "POISON-01"


def _errors(body: dict) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        FindingsSubmission.model_validate(body)
    return [f"{where(e)}: {message_vi(e)}" for e in refused.value.errors()]


def _note(note: str) -> str:
    body = {"client_submission_id": "poison-0001", "findings": [{"item_code": "LD-01", "result": "fail", "note": note}]}
    return FindingsSubmission.model_validate(body).findings[0].note


def test_the_api_cleans_line_breaks_and_refuses_what_no_document_can_print() -> None:
    base = {"client_submission_id": "poison-0001", "findings": [{"item_code": "LD-01", "result": "fail", "note": ""}]}
    assert _note("Chưa có\r\nhồ sơ\ufeff\u200b") == "Chưa có\nhồ sơ"  # line breaks normalised, invisible ones dropped
    # what the documents' font chain prints is accepted as typed (NFC): symbols, emoji, CJK, Hangul
    assert _note("Đạt ✓, vui 😀, 中文 한국어") == "Đạt ✓, vui 😀, 中文 한국어"
    assert _note("gia đình 👨\u200d👩\u200d👧") == "gia đình 👨👩👧"  # the joiner is invisible: dropped
    for bad, shown in (("NUL \x00 ở đây", "U+0000"), ("ESC \x1b", "U+001B"), ("riêng \ue000", "U+E000"),
                       ("chưa gán \u0378", "U+0378"), ("lẻ \ud800", "surrogate"),
                       ("không phông \U00013000", "U+13000 EGYPTIAN HIEROGLYPH A001")):
        (error,) = _errors({**base, "findings": [{"item_code": "LD-01", "result": "fail", "note": bad}]})
        assert error.startswith("findings[0].note: có ký tự") and shown in error, error


@pytest.mark.slow
def test_a_poisoned_note_stored_earlier_never_stops_the_batch(settings) -> None:
    create_scheduled_campaign(settings, code=CODE)
    first, second, third = team_inspections(settings)["SNV-TT01"][:3]
    for n, inspection_id in enumerate((first, second, third)):
        visit(settings, inspection_id, on=date(2026, 3, 5), client_id=f"poison-visit-{n:04d}")
    # inspection 1's note as it was stored before the text policy: a browser's "\r\n" and an emoji (and a NUL where
    # the database accepts one: PostgreSQL refuses NUL in text)
    nul = "" if settings.db_url.startswith("postgresql") else "\x00"
    with session_scope(settings) as session:
        finding = session.exec(select(Finding).where(Finding.inspection_id == first, Finding.result == "fail")).first()
        finding.note = f"Chưa có\r\nhồ sơ 😀{nul} ✓"
        session.add(finding)
    with session_scope(settings) as session:
        for inspection_id in (first, second, third):
            logic.review_findings(session, lead(session), inspection_id, ReviewIn(decision="approve"))
    result = records.issue_records(settings, CODE, [first, second, third])
    assert (result.done, result.failed) == (3, [])
    with session_scope(settings) as session:
        assert all(session.get(Inspection, i).status == InspectionStatus.RECORDS_ISSUED for i in (first, second, third))
        minutes = session.exec(select(Document).where(Document.inspection_id == first,
                                                      Document.doc_type == DocumentType.MINUTES)).one()
    text = text_of(settings.documents_path / minutes.path)
    # printed: the emoji and the mark in their fallback fonts, a NUL as a visible placeholder, the note kept whole
    assert f"Chưa có hồ sơ 😀{'[U+0000]' if nul else ''} ✓" in text


@pytest.mark.slow
def test_a_failing_inspection_is_recorded_shown_and_the_others_go_on(settings) -> None:
    create_scheduled_campaign(settings, code=CODE)
    first, second = team_inspections(settings)["SNV-TT01"][:2]
    # an ended act without its date, found on 15/09/2026: NĐ 12 or NĐ 283 may apply, the records stage cannot choose
    visit(settings, first, on=date(2026, 3, 5), client_id="fail-visit-0001", fails={"LD-03": {}})
    visit(settings, second, on=date(2026, 3, 5), client_id="fail-visit-0002")
    with session_scope(settings) as session:
        session.get(Inspection, first).scheduled_on = date(2026, 9, 15)
    with session_scope(settings) as session:
        for inspection_id in (first, second):
            logic.review_findings(session, lead(session), inspection_id, ReviewIn(decision="approve"))
    result = records.issue_records(settings, CODE, [first, second])
    assert (result.done, result.failed) == (1, [first])
    status = campaign_status(settings, CODE)
    (failure,) = status["failures"]
    assert failure["inspection_id"] == first and "cần ghi ngày thực hiện hành vi" in failure["reason"]
    assert any(w.startswith(f"xử lý lỗi ở cuộc kiểm tra {first}") for w in status["waiting_for"])
    # fixed (the date recorded), a re-run completes it and the failure is no longer shown
    with session_scope(settings) as session:
        finding = session.exec(select(Finding).where(Finding.inspection_id == first, Finding.result == "fail")).one()
        finding.committed_on = date(2026, 9, 1)
        session.add(finding)
    assert records.issue_records(settings, CODE, [first]).done == 1
    assert campaign_status(settings, CODE)["failures"] == []

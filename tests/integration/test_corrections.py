"""A sanction decision is corrected by a new decision that replaces it; the issued one is never changed."""
from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from models import AuditEvent, Document, DocumentType, Person, PersonRole, Violation
from services.db import session_scope
from services.errors import Forbidden, Refused
from services.settings import Settings
from services.stages import sanctions
from tests import cases
from tests.cases import approve_and_draw_up, d, decide
from tests.integration.test_deadlines import case  # noqa: F401 (a fixture)
from tests.pdf_support import raw_text_of


def decisions(settings: Settings, inspection_id: int) -> list[Document]:
    with session_scope(settings) as session:
        return list(session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION,
                                                        Document.subject_key == f"inspection:{inspection_id}")
                                 .order_by(Document.revision)).all())


def competent_official(settings: Settings, inspection_id: int) -> Person:
    with session_scope(settings) as session:
        return cases.competent_official(session, inspection_id)


def violations(settings: Settings, inspection_id: int) -> list[Violation]:
    with session_scope(settings) as session:
        return list(session.exec(select(Violation).where(Violation.inspection_id == inspection_id).order_by(Violation.id)).all())


@pytest.fixture
def decided(settings: Settings, case: int) -> int:  # noqa: F811
    approve_and_draw_up(settings, case, d(29, 4))
    decide(settings, case, d(12, 5))  # the record of 29/04: the 7th working day, the last one (Art.66 cl.1)
    return case


def test_a_correction_is_a_new_decision_that_names_the_one_it_replaces(settings: Settings, decided: int) -> None:
    [first] = decisions(settings, decided)
    first_bytes = (settings.documents_path / first.path).read_bytes()
    acts = violations(settings, decided)
    corrected = {v.id: v.range_min for v in acts}  # e.g. the official applies a mitigating circumstance missed before
    official = competent_official(settings, decided)

    doc = sanctions.correct_decision(settings, decided, official_code=official.code, amounts=corrected,
                                     corrected_on=d(20, 5), reason="Áp dụng tình tiết giảm nhẹ bị bỏ sót")

    old, new = decisions(settings, decided)
    assert (old.id, old.number, old.sha256) == (first.id, first.number, first.sha256)
    assert hashlib.sha256((settings.documents_path / old.path).read_bytes()).hexdigest() == old.sha256
    assert (settings.documents_path / old.path).read_bytes() == first_bytes
    assert (new.id, new.revision, new.supersedes_id, new.issued_on) == (doc.id, 2, old.id, d(20, 5))
    assert new.number != old.number and new.seq == old.seq + 1
    text = " ".join(raw_text_of(settings.documents_path / new.path).split())
    assert (f"Quyết định này thay thế Quyết định xử phạt vi phạm hành chính số {old.number} ngày 12/05/2026 "
            "(lý do: Áp dụng tình tiết giảm nhẹ bị bỏ sót)") in text
    assert [v.final_amount for v in violations(settings, decided)] == list(corrected.values())
    assert all(v.proposed_amount == p.proposed_amount for v, p in zip(violations(settings, decided), acts, strict=True))
    with session_scope(settings) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "decision_corrected")).one()
    assert event.actor == official.code and event.data["replaces"] == old.number and event.data["by"] == new.number
    assert event.data["before"] == {str(v.id): v.final_amount for v in acts}


def test_a_correction_out_of_range_without_a_reason_or_by_someone_else_changes_nothing(settings: Settings,
                                                                                       decided: int) -> None:
    acts = violations(settings, decided)
    official = competent_official(settings, decided)
    with pytest.raises(Refused) as bad:
        sanctions.correct_decision(settings, decided, official_code=official.code,
                                   amounts={acts[0].id: acts[0].range_max + 1}, corrected_on=d(11, 5), reason=" ")
    errors = bad.value.ids["errors"]
    assert f"amounts.{acts[0].id}: mức phạt {acts[0].range_max + 1:,} đồng nằm ngoài khung " \
           f"{acts[0].range_min:,}–{acts[0].range_max:,} đồng" in errors
    assert "reason: phải ghi lý do đính chính" in errors
    assert "corrected_on: ngày 11/05/2026 trước ngày của quyết định bị thay thế 12/05/2026" in errors
    with session_scope(settings) as session:
        inspector = session.exec(select(Person).where(Person.role == PersonRole.INSPECTOR)).first()
    with pytest.raises(Forbidden):
        sanctions.correct_decision(settings, decided, official_code=inspector.code, amounts={v.id: v.range_min for v in acts},
                                   corrected_on=d(20, 5), reason="x")
    assert len(decisions(settings, decided)) == 1
    assert [v.final_amount for v in violations(settings, decided)] == [v.final_amount for v in acts]

"""Whole files under the law in force on the day, through the stage functions and the real database:

- an enterprise fined in March 2026 (NĐ 12/2022) repeats the act; a complaint lets a surprise campaign visit it in
  September 2026: the act is judged under NĐ 283/2026 (still going on at 10/09/2026, Art.67 cl.2) and the earlier
  decision makes it a repeat offence (tái phạm, Luật XLVPHC Art.10 cl.1 b), named with that decision's number in
  the new decision;
- an amount other than the proposal the circumstances give is refused without a written reason (naming the field,
  nothing stored) and printed with the circumstances when the reason is given;
- a chair-level file is issued by Ủy ban nhân dân tỉnh in its own number series; a Sở-level file by Sở Nội vụ,
  signed by the Giám đốc or, for a deputy, "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"; no decision names "Thanh tra Sở".
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from models import (Agency, CampaignKind, Deadline, DeadlineKind, Document, DocumentType, Establishment, Inspection, Person,
                    PriorSanction,
                    Ownership, PersonRole, Violation)
from services.stages import deadline_changes, deadlines
from services.db import session_scope
from services.errors import IntakeError, Refused
from services.intake import decisions
from services.intake.schemas import DecisionIn
from services.stages import sanctions, scheduling, selection
from services.stages.common import Outcome
from services.stages.triggers import record_trigger
from tests.cases import approve_and_draw_up, decide, person_by_code, visit
from tests.factories import approve, create_campaign, create_scheduled_campaign, team_inspections
from tests.pdf_support import text_of

M = 1_000_000
OSH_OFFICER = "LD-01"  # NĐ 12/2022 Art.21 cl.2 b = NĐ 283/2026 Art.32 cl.2 b: 5–10 million, an enterprise 10–20


def _decision(settings, inspection_id: int) -> Document:
    with session_scope(settings) as session:
        doc = session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION,
                                                  Document.inspection_id == inspection_id)
                           .order_by(Document.revision.desc())).first()  # type: ignore[attr-defined]
        assert doc is not None
        session.expunge(doc)
        return doc


def _text(settings, doc: Document) -> str:
    return text_of(settings.documents_path / doc.path)


def _enterprise_inspection(settings, person_code: str) -> int:
    with session_scope(settings) as session:
        for inspection_id in team_inspections(settings)[person_code]:
            inspection = session.get(Inspection, inspection_id)
            establishment = session.get(Establishment, inspection.establishment_id)
            if establishment.ownership != Ownership.HOUSEHOLD:
                return inspection_id
    raise AssertionError("no enterprise on the team's list")


@pytest.mark.slow
def test_a_repeat_in_september_2026_is_judged_under_nd283_and_named_as_tai_pham(settings) -> None:
    create_scheduled_campaign(settings, code="CB-2026-03")
    first = _enterprise_inspection(settings, "SNV-TT01")
    visit(settings, first, on=date(2026, 3, 5), client_id="first-visit-0001", fails={OSH_OFFICER: {}})
    approve_and_draw_up(settings, first, date(2026, 3, 5))
    decide(settings, first, date(2026, 3, 12))
    earlier = _decision(settings, first)
    assert earlier.issuer_code == "SNV"  # Sở-level after 01/07/2025: Sở Nội vụ's own series
    deadlines.create_from_state(settings)
    with session_scope(settings) as session:
        comply = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY,
                                                     Deadline.inspection_id == first)).one()
        deadline_changes.mark_met(session, comply.id, date(2026, 3, 20), actor="SNV-LEAD", reason="Biên lai thu tiền phạt số 0412")
        tax_code = session.get(Establishment, session.get(Inspection, first).establishment_id).tax_code

    # September: a complaint about the same enterprise; only a surprise campaign with that trigger may visit it
    record_trigger(settings, tax_code=tax_code, kind="complaint", reference="PA-31/2026", received_on=date(2026, 9, 1),
                   by="SNV-LEAD")
    create_campaign(settings, code="DX-2026-09", quota=5, kind=CampaignKind.SURPRISE, period_start=date(2026, 9, 14),
                    period_end=date(2026, 10, 30))
    selection.select_establishments(settings, "DX-2026-09")
    approve(settings, "DX-2026-09")
    scheduling.schedule_inspections(settings, "DX-2026-09")
    with session_scope(settings) as session:
        second = session.exec(select(Inspection.id).join(Establishment, Establishment.id == Inspection.establishment_id)
                              .where(Establishment.tax_code == tax_code, Inspection.id != first)).one()
        head = session.exec(select(Person.code).where(Person.role == PersonRole.INSPECTOR, Person.code.like("SNV-TT%"))  # type: ignore[attr-defined]
                            .order_by(Person.code)).all()
    inspector = next(code for code in head if second in team_inspections(settings).get(code, []))
    visit(settings, second, on=date(2026, 9, 16), client_id="second-visit-0001", fails={OSH_OFFICER: {}},
          inspector=inspector)
    approve_and_draw_up(settings, second, date(2026, 9, 16))

    with session_scope(settings) as session:
        (act,) = session.exec(select(Violation).where(Violation.inspection_id == second)).all()
        # still going on at 10/09/2026 → NĐ 283/2026 (Art.67 cl.2); the same act as in March (NĐ 12 Art.21 cl.2 b)
        assert (act.decree, act.provision_code) == ("283/2026/ND-CP", "283/2026/ND-CP Art.32 cl.2(b)")
        assert act.aggravating == ["tang_nang_tai_pham"]
        assert earlier.number in act.derived[0]["text_vi"]
        # 10–20 million, one aggravating circumstance: between the midpoint (15) and the maximum, proposed 17.5 million
        assert (act.range_min, act.range_max, act.proposed_amount) == (10 * M, 20 * M, 17_500_000)
        director = person_by_code(session, "SNV-GD")
        vid = act.id
        stored_before = (act.final_amount, act.amount_reason)

    # the maximum without a reason: 422 naming the field, nothing stored
    with session_scope(settings) as session:
        with pytest.raises(IntakeError) as refused:
            decisions.record_decision(session, director, second, DecisionIn(decided_on=date(2026, 9, 21), amounts={vid: 20 * M}))
        assert refused.value.ids["errors"] == [
            f"reasons.{vid}: mức phạt 20.000.000 đồng khác mức đề xuất 17.500.000 đồng theo các tình tiết đã xác định; "
            "phải ghi lý do quyết định mức phạt này"]
    with session_scope(settings) as session:
        act = session.get(Violation, vid)
        assert (act.final_amount, act.amount_reason) == stored_before

    reason = "Cơ sở tái phạm ngay sau khi chấp hành quyết định trước, chưa bố trí người làm công tác an toàn, vệ sinh lao động"
    with session_scope(settings) as session:
        decisions.record_decision(session, person_by_code(session, "SNV-GD"), second,
                              DecisionIn(decided_on=date(2026, 9, 21), amounts={vid: 20 * M}, reasons={vid: reason}))
    assert sanctions.decide_for_inspection(settings, second) == Outcome.ISSUED
    decision = _decision(settings, second)
    text = _text(settings, decision)
    for expected in ("SỞ NỘI VỤ", "GIÁM ĐỐC SỞ NỘI VỤ TỈNH CAO BẰNG",
                     "Nghị định số 283/2026/NĐ-CP ngày 15 tháng 7 năm 2026",
                     "điểm b khoản 2 Điều 32 Nghị định số 283/2026/NĐ-CP",
                     "4. Các tình tiết tăng nặng: tái phạm", earlier.number,
                     f"Lý do quyết định mức phạt: {reason}", "20.000.000 đồng"):
        assert expected in text, expected
    assert "Nghị định số 12/2022/NĐ-CP" not in text  # not the decree applied to this act
    assert "Thanh tra Sở" not in text and "THANH TRA SỞ" not in text


@pytest.mark.slow
def test_chair_and_director_decisions_are_issued_by_their_own_bodies(settings) -> None:
    create_scheduled_campaign(settings, code="CB-2026-04")
    chair_file, director_file = _enterprise_inspection(settings, "SNV-TT01"), _enterprise_inspection(settings, "SNV-TT02")
    # 50 workers without periodic health exams: NĐ 12 Art.22 cl.2, 1–3 million each, at most 75 million (an
    # enterprise: 150 million) → beyond the Giám đốc's 120 million: the Chủ tịch UBND tỉnh
    visit(settings, chair_file, on=date(2026, 3, 5), client_id="chair-file-0001", fails={"YT-01": {"workers_affected": 50}})
    visit(settings, director_file, on=date(2026, 3, 6), client_id="director-file-0001", fails={OSH_OFFICER: {}},
          inspector="SNV-TT02")
    approve_and_draw_up(settings, chair_file, date(2026, 3, 5))
    approve_and_draw_up(settings, director_file, date(2026, 3, 6))
    decide(settings, chair_file, date(2026, 3, 13))  # after its 5-working-day window to explain (to Thu 12/03)
    with session_scope(settings) as session:  # the Giám đốc assigned the file to a deputy (Luật XLVPHC Art.54)
        snv = session.exec(select(Agency).where(Agency.code == "SNV")).one()
        session.add(Person(code="SNV-PGD", full_name="Hoàng Thị Duyên", agency_id=snv.id, title="Phó Giám đốc Sở Nội vụ",
                           role=PersonRole.OFFICIAL))
    with session_scope(settings) as session:
        amounts = {v.id: v.proposed_amount for v in session.exec(select(Violation).where(Violation.inspection_id == director_file))}
        # the chair may take a Sở-level file only when it was sent up, with the reason recorded; never a lower title
        with pytest.raises(IntakeError) as refused:
            decisions.record_decision(session, person_by_code(session, "UBND-CT"), director_file,
                                  DecisionIn(decided_on=date(2026, 3, 13), amounts=amounts))
        assert refused.value.ids["errors"] == [
            "referral_reason: hồ sơ thuộc thẩm quyền của Giám đốc Sở Nội vụ; Chủ tịch Ủy ban nhân dân tỉnh chỉ quyết định "
            "khi hồ sơ được chuyển lên, phải ghi lý do chuyển hồ sơ"]
    with session_scope(settings) as session:
        decisions.record_decision(session, person_by_code(session, "SNV-PGD"), director_file,
                              DecisionIn(decided_on=date(2026, 3, 13), amounts=amounts))
    assert sanctions.decide_for_inspection(settings, director_file) == Outcome.ISSUED

    chair, director = _decision(settings, chair_file), _decision(settings, director_file)
    assert (chair.issuer_code, director.issuer_code) == ("UBND-04", "SNV")
    assert chair.seq == 1 and director.seq == 1  # each body's own series starts at 01
    chair_text, director_text = _text(settings, chair), _text(settings, director)
    assert chair_text.startswith("ỦY BAN NHÂN DÂN TỈNH CAO BẰNG")
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH CAO BẰNG" in chair_text and "SỞ NỘI VỤ" not in chair_text.split("QUYẾT ĐỊNH")[0]
    assert "khoản 2 Điều 22 Nghị định số 12/2022/NĐ-CP" in chair_text  # a March 2026 act: NĐ 12/2022
    # the same body and header as the record and the tờ trình of the file (the Sở under its People's Committee)
    assert director_text.split(" CỘNG HÒA")[0] == "UBND TỈNH CAO BẰNG SỞ NỘI VỤ", director_text[:80]
    assert "KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Hoàng Thị Duyên" in director_text
    for text in (chair_text, director_text):
        assert "THANH TRA SỞ" not in text and "Chánh Thanh tra" not in text


def test_imported_history_makes_a_repeat_offence_and_bad_rows_are_refused_by_field(settings, monkeypatch) -> None:
    from typer.testing import CliRunner

    from services.entry.cli.app import app
    from services.settings import get_settings
    from services.stages.history import record_prior_sanction

    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))  # the CLI reads its settings from the environment
    get_settings.cache_clear()

    create_scheduled_campaign(settings, code="CB-2026-05")
    inspection_id = _enterprise_inspection(settings, "SNV-TT01")
    with session_scope(settings) as session:
        tax_code = session.get(Establishment, session.get(Inspection, inspection_id).establishment_id).tax_code
    with pytest.raises(Refused) as refused:
        record_prior_sanction(settings, tax_code=tax_code, provision_code="12/2022/ND-CP Art.99 cl.1", decision_ref=" ",
                              decided_on=date(2025, 11, 3), complied_on=date(2025, 10, 1), by="SNV-LEAD", source="")
    assert [e.split(":")[0] for e in refused.value.ids["errors"]] == ["provision_code", "decision_ref", "source",
                                                                      "complied_on"]
    with session_scope(settings) as session:
        assert session.exec(select(PriorSanction)).first() is None  # nothing half-stored
    # a paper decision of November 2025 for the same act (NĐ 12/2022 Art.21 cl.2 b), complied with on 20/11/2025
    result = CliRunner().invoke(app, ["history", "add", "--tax-code", tax_code, "--provision", "12/2022/ND-CP Art.21 cl.2(b)",
                                      "--decision", "88/QĐ-XPHC", "--decided-on", "2025-11-03", "--complied-on",
                                      "2025-11-20", "--source", "Sổ theo dõi xử phạt năm 2025 của Sở Nội vụ",
                                      "--by", "SNV-LEAD"])
    assert result.exit_code == 0, result.output
    assert "Đã ghi nhận quyết định." in result.output
    assert not record_prior_sanction(settings, tax_code=tax_code, provision_code="12/2022/ND-CP Art.21 cl.2(b)",
                                     decision_ref="88/QĐ-XPHC", decided_on=date(2025, 11, 3), by="SNV-LEAD",
                                     source="lại")  # stored once
    visit(settings, inspection_id, on=date(2026, 3, 5), client_id="imported-history-0001", fails={OSH_OFFICER: {}})
    approve_and_draw_up(settings, inspection_id, date(2026, 3, 5))
    with session_scope(settings) as session:
        (act,) = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all()
        assert act.aggravating == ["tang_nang_tai_pham"] and "88/QĐ-XPHC" in act.derived[0]["text_vi"]
        assert act.proposed_amount == 17_500_000  # 10–20 million, one aggravating circumstance


def test_a_2024_file_is_processed_under_its_own_law_and_corrected_under_todays(settings) -> None:
    create_scheduled_campaign(settings, code="CB-2024-01")
    inspection_id = _enterprise_inspection(settings, "SNV-TT01")
    # visited 15/10/2024: checklist 2022.1 and NĐ 12/2022; the Sở-level decider then is the Chánh Thanh tra Sở Lao
    # động - Thương binh và Xã hội (NĐ 12/2022 Art.49 cl.2 b), issuing as Thanh tra Sở in its own series
    visit(settings, inspection_id, on=date(2024, 10, 15), client_id="old-file-0001", fails={OSH_OFFICER: {}})
    approve_and_draw_up(settings, inspection_id, date(2024, 10, 15))
    with session_scope(settings) as session:
        snv = session.exec(select(Agency).where(Agency.code == "SNV")).one()
        session.add(Person(code="SLD-CTT", full_name="Lương Văn Hải", agency_id=snv.id, role=PersonRole.OFFICIAL,
                           title="Chánh Thanh tra Sở Lao động - Thương binh và Xã hội"))
    with session_scope(settings) as session:
        amounts = {v.id: v.proposed_amount for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id))}
        decisions.record_decision(session, person_by_code(session, "SLD-CTT"), inspection_id,
                              DecisionIn(decided_on=date(2024, 10, 22), amounts=amounts))
    assert sanctions.decide_for_inspection(settings, inspection_id) == Outcome.ISSUED
    old = _decision(settings, inspection_id)
    assert (old.issuer_code, old.year) == ("SNV-TTr", 2024)
    text = _text(settings, old)
    assert text.startswith("SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI THANH TRA SỞ")
    assert "CHÁNH THANH TRA SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI TỈNH CAO BẰNG" in text
    assert "điểm b khoản 2 Điều 21 Nghị định số 12/2022/NĐ-CP" in text
    assert "189/2025" not in text and "ngày 25 tháng 6 năm 2025" not in text  # not yet in force
    # corrected on 01/12/2026: the abolished inspectorate's decisions are corrected by the title that took over its
    # functions (Luật 88/2025 Art.3 cl.2): the Giám đốc Sở Nội vụ, in Sở Nội vụ's name and 2026 series
    (vid,) = amounts
    new = sanctions.correct_decision(settings, inspection_id, official_code="SNV-GD", amounts={vid: 10 * M},
                                     corrected_on=date(2026, 12, 1), reason="Tính lại mức phạt theo hồ sơ bổ sung")
    assert (new.issuer_code, new.year, new.supersedes_id) == ("SNV", 2026, old.id)
    text = _text(settings, new)
    assert "GIÁM ĐỐC SỞ NỘI VỤ TỈNH CAO BẰNG" in text and old.number in text
    assert "THANH TRA SỞ" not in text


def test_a_decision_waits_for_the_explanation_window_unless_the_explanation_came(settings) -> None:
    create_scheduled_campaign(settings, code="CB-2026-06")
    inspection_id = _enterprise_inspection(settings, "SNV-TT01")
    # 50 workers without periodic exams: up to 150 million for an enterprise ≥ 30 million → the right to explain
    # (Luật XLVPHC Art.61): the record of Thu 05/03/2026 leaves until Thu 12/03 for a written explanation
    visit(settings, inspection_id, on=date(2026, 3, 5), client_id="window-0001", fails={"YT-01": {"workers_affected": 50}})
    approve_and_draw_up(settings, inspection_id, date(2026, 3, 5))
    with session_scope(settings) as session:
        amounts = {v.id: v.proposed_amount for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id))}
        with pytest.raises(IntakeError) as refused:
            decisions.record_decision(session, person_by_code(session, "UBND-CT"), inspection_id,
                                  DecisionIn(decided_on=date(2026, 3, 10), amounts=amounts))
        (message,) = refused.value.ids["errors"]
        assert "còn quyền gửi văn bản giải trình đến hết ngày 12/03/2026" in message
    deadlines.create_from_state(settings)
    with session_scope(settings) as session:  # the written explanation arrived on 09/03: the official may decide
        deadline_changes.record_explanation(session, inspection_id, actor="SNV-LEAD", kind="written",
                                            reason="Văn bản giải trình ngày 09/03/2026", on=date(2026, 3, 9))
    with session_scope(settings) as session:
        decisions.record_decision(session, person_by_code(session, "UBND-CT"), inspection_id,
                              DecisionIn(decided_on=date(2026, 3, 10), amounts=amounts))
    assert sanctions.decide_for_inspection(settings, inspection_id) == Outcome.ISSUED

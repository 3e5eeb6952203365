"""Only final decisions are public: a complaint or lawsuit holds or withdraws the publication until it is resolved."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from models import Appeal, AppealKind, DocumentType, Inspection, InspectionStatus, Publication, Violation
from services.delivery import portal
from services.clients.portal import PortalClient
from services.db import session_scope
from services.errors import Conflict, Refused
from services.documents.issuing import latest_document
from services.settings import Settings
from services.stages import appeals, publishing, sanctions
from services.stages.common import Outcome
from tests.cases import competent_official, d
from tests.integration.test_portal import Portal, deliver_until_done, sanctioned, the_portal  # noqa: F401 (a fixture)


def decided_unpublished(settings: Settings) -> tuple[int, str]:
    """One inspection with a sanction decision of 12/05/2026, not yet published."""
    [inspection_id] = sanctioned(settings, 1, publish=False)
    return inspection_id, decision_number(settings, inspection_id)


def decision_number(settings: Settings, inspection_id: int) -> str:
    with session_scope(settings) as session:
        return latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=f"inspection:{inspection_id}").number


def register_numbers(settings: Settings) -> list[str]:
    """What the public register says now (as last written: by the publishing stage, an appeal, a correction)."""
    path = settings.documents_path / "public" / "register.json"
    return [r["so_quyet_dinh"] for r in json.loads(path.read_text(encoding="utf-8"))] if path.exists() else []


def status(settings: Settings, inspection_id: int) -> str:
    with session_scope(settings) as session:
        return str(session.get(Inspection, inspection_id).status)


def test_a_decision_is_published_only_when_final(settings: Settings) -> None:
    inspection_id, number = decided_unpublished(settings)
    assert publishing.publish_for_inspection(settings, inspection_id, today=d(11, 5)) == Outcome.WAITING  # before its date
    appeals.lodge_appeal(settings, number, kind="complaint", reference="KN-15/2026", lodged_on=d(20, 5), actor="SNV-LEAD")
    assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.WAITING
    assert status(settings, inspection_id) == InspectionStatus.SANCTIONED and register_numbers(settings) == []
    appeals.resolve_appeal(settings, number, upheld=True, resolved_on=d(30, 6), resolution_ref="QĐ giải quyết khiếu nại 88/QĐ-UBND",
                           actor="SNV-LEAD")
    assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.PUBLISHED
    publishing.write_register(settings)  # as the publishing stage does after its inspections
    assert register_numbers(settings) == [number]


def test_an_annulled_decision_is_never_published_and_its_file_closes(settings: Settings) -> None:
    inspection_id, number = decided_unpublished(settings)
    appeals.lodge_appeal(settings, number, kind="lawsuit", reference="TL-03/2026/HC", lodged_on=d(25, 5), actor="SNV-LEAD")
    appeals.resolve_appeal(settings, number, upheld=False, resolved_on=d(1, 9), resolution_ref="Bản án 12/2026/HC-ST",
                           actor="SNV-LEAD")
    assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.ANNULLED
    assert status(settings, inspection_id) == InspectionStatus.CLOSED
    with session_scope(settings) as session:
        assert session.exec(select(Publication)).all() == []
    with pytest.raises(Conflict, match="đã được giải quyết"):
        appeals.resolve_appeal(settings, number, upheld=True, resolved_on=d(2, 9), resolution_ref="khác", actor="SNV-LEAD")


def test_an_appeal_after_publication_withdraws_it_and_upholding_restores_it(
        settings: Settings, the_portal: tuple[Portal, PortalClient]) -> None:  # noqa: F811
    p, client = the_portal
    [inspection_id] = sanctioned(settings, 1)
    number = decision_number(settings, inspection_id)
    deliver_until_done(settings, client, rounds=1)
    first = appeals.lodge_appeal(settings, number, kind="complaint", reference="KN-20/2026", lodged_on=d(25, 5), actor="SNV-LEAD")
    # the former Vietnamese code is still accepted from people: the same record twice changes nothing
    again = appeals.lodge_appeal(settings, number, kind="khieu_nai", reference="KN-20/2026", lodged_on=d(25, 5), actor="SNV-LEAD")
    assert (again.id, again.kind, again.reference) == (first.id, AppealKind.COMPLAINT, "KN-20/2026")
    assert register_numbers(settings) == []  # taken off the register by the appeal itself
    deliver_until_done(settings, client, rounds=1)
    appeals.resolve_appeal(settings, number, upheld=True, resolved_on=d(30, 6), resolution_ref="QĐ 90/QĐ-UBND", actor="SNV-LEAD")
    deliver_until_done(settings, client, rounds=1)
    assert register_numbers(settings) == [number]
    events = [body["event"] for body in p.received.values()]
    assert events == ["publish", "withdraw", "publish"]
    assert len(portal.dead_messages(settings)) == 0


def test_an_appeal_needs_its_file_reference_and_a_known_kind(settings: Settings) -> None:
    _, number = decided_unpublished(settings)
    with pytest.raises(Refused) as bad:
        appeals.lodge_appeal(settings, number, kind="to_cao", reference=" ", lodged_on=d(20, 5), actor="SNV-LEAD")
    assert bad.value.ids["errors"] == ["kind: phải là complaint (khiếu nại) hoặc lawsuit (khởi kiện)",
                                       "reference: phải ghi số đơn hoặc số thụ lý"]
    with pytest.raises(Refused) as future:
        appeals.lodge_appeal(settings, number, kind="complaint", reference="KN-" + "9" * 130, lodged_on=date(2099, 1, 1),
                             actor="SNV-LEAD")
    assert future.value.ids["errors"] == ["reference: quá dài (tối đa 128 ký tự)", "lodged_on: ngày 01/01/2099 chưa đến"]
    with session_scope(settings) as session:
        assert session.exec(select(Appeal)).all() == []


def test_an_appeal_against_a_corrected_decision_holds_the_correction_until_it_is_resolved(
        settings: Settings, the_portal: tuple[Portal, PortalClient]) -> None:  # noqa: F811
    p, client = the_portal
    [inspection_id] = sanctioned(settings, 1)
    publishing.write_register(settings)
    first = decision_number(settings, inspection_id)
    deliver_until_done(settings, client, rounds=1)
    appeals.lodge_appeal(settings, first, kind="complaint", reference="KN-30/2026", lodged_on=d(25, 5), actor="SNV-LEAD")
    with session_scope(settings) as session:
        official = competent_official(session, inspection_id)
        amounts = {v.id: v.range_min for v in session.exec(select(Violation).where(Violation.inspection_id == inspection_id))}
    corrected = sanctions.correct_decision(settings, inspection_id, official_code=official.code, amounts=amounts,
                                           corrected_on=d(26, 5), reason="Áp dụng tình tiết giảm nhẹ").number
    assert register_numbers(settings) == []  # still under appeal: neither the old nor the corrected decision
    with pytest.raises(Conflict, match=f"đã được thay thế bởi quyết định {corrected}"):
        appeals.lodge_appeal(settings, first, kind="complaint", reference="KN-31/2026", lodged_on=d(27, 5), actor="SNV-LEAD")
    appeals.resolve_appeal(settings, first, upheld=True, resolved_on=d(30, 6), resolution_ref="QĐ 91/QĐ-UBND", actor="SNV-LEAD")
    assert register_numbers(settings) == [corrected]  # the decision in force, with its corrected amounts
    deliver_until_done(settings, client)
    events = [(body["event"], body["outcome"]["so_quyet_dinh"]) for body in p.received.values()]
    assert events == [("publish", first), ("withdraw", first), ("publish", corrected)]


def test_the_lead_records_an_appeal_and_its_outcome_from_the_command_line(settings: Settings,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from services.entry.cli.app import app
    from services.settings import get_settings

    inspection_id, number = decided_unpublished(settings)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    get_settings.cache_clear()
    runner = CliRunner()
    lodged = runner.invoke(app, ["appeal", "lodge", "--decision", number, "--kind", "khieu_nai", "--reference", "KN-1/2026",
                                 "--on", "2026-05-20"])
    assert lodged.exit_code == 0, lodged.output
    with session_scope(settings) as session:
        assert [a.kind for a in session.exec(select(Appeal))] == ["complaint"]  # stored in English
    assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.WAITING
    bad = runner.invoke(app, ["appeal", "resolve", "--decision", number, "--outcome", "bác", "--reference", "x",
                              "--on", "2026-06-01"])
    assert bad.exit_code == 1 and "Kết quả không hợp lệ" in bad.output
    done = runner.invoke(app, ["appeal", "resolve", "--decision", number, "--outcome", "giu-nguyen", "--reference",
                               "QĐ 5/QĐ-UBND", "--on", "2026-06-01"])
    assert done.exit_code == 0, done.output
    assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.PUBLISHED

"""The issuing sequence of NĐ 30/2020 with digital signatures (issue 17), over the database and the test PKI: the
decision is drafted with its number and date left blank, signed by the competent official (a certification allowing
only the fields to be filled), then numbered, dated, sealed by the organisation and issued; the file goes on from there
(status, e-mail delivery, national feed). A failed or refused signature issues nothing and takes no number; the law's
time limit is asked again at signing and at issuing.

Dates (tests/signing_world.py, tests/integration/test_decision_time_bar.py): visit Wed 29/04/2026, record Thu 07/05,
the amounts adopted and the decision drafted on Mon 11/05, its time limit Mon 18/05/2026.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from models import (Document, DocumentDelivery, DocumentType, FeedEvent, Inspection, InspectionStatus,
                    NationalFeedMessage, SigningRequest, SigningState)
from services.db import session_scope
from services.documents.signing import SignerKey, verify_pdf
from services.documents.signing_fields import DATE_FIELD, NUMBER_FIELD, field_values
from services.errors import Conflict, Forbidden
from services.intake.decision_issue import issue_state
from services.settings import Settings
from services.stages import sanctions
from services.issuing import signed_documents
from services.stages.common import Outcome
from tests.cases import d, pin_today
from tests.factories import create_scheduled_campaign
from tests.pdf_text import flattened_text
from tests.pki_support import PASSPHRASE, TestPki, pki, signature_png  # noqa: F401 (a fixture)
from tests.conftest import Worlds
from tests.signing_support import HOLDER, counter_of, issued_of, signing_on
from tests.signing_world import SIGNED_ON, decision_waiting

pytestmark = pytest.mark.slow


@pytest.fixture
def case(settings: Settings, worlds: Worlds, pki: TestPki,  # noqa: F811
         monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, int, str]:
    """One file whose decision (amounts adopted on Mon 11/05/2026) waits for its official's signature."""
    waiting = decision_waiting(settings, worlds, pki, monkeypatch, "KYSO-01")
    return waiting.settings, waiting.inspection_id, waiting.official


def _amounts(session: object, inspection_id: int) -> dict[int, int]:
    from models import Violation
    rows = session.exec(select(Violation).where(Violation.inspection_id == inspection_id))  # type: ignore[attr-defined]
    return {v.id: v.proposed_amount for v in rows}


def _key(settings: Settings, code: str) -> SignerKey:
    assert settings.signing_keys_path is not None
    return SignerKey.pkcs12(settings.signing_keys_path / f"{code}.p12", PASSPHRASE, name=HOLDER)


def _request(settings: Settings, inspection_id: int) -> SigningRequest:
    with session_scope(settings) as session:
        row = session.exec(select(SigningRequest).where(SigningRequest.inspection_id == inspection_id)
                           .order_by(col(SigningRequest.attempt).desc())).first()
        assert row is not None
        session.expunge(row)
        return row


def _decisions(settings: Settings) -> list[Document]:
    return issued_of(settings, DocumentType.SANCTION_DECISION)


def _counter(settings: Settings) -> list[int]:
    return counter_of(settings, DocumentType.SANCTION_DECISION)


def test_the_decision_is_drafted_signed_numbered_sealed_and_issued(case: tuple[Settings, int, str], pki: TestPki  # noqa: F811
                                                                   ) -> None:
    settings, inspection_id, code = case
    assert sanctions.decide_for_inspection(settings, inspection_id) == Outcome.WAITING
    assert sanctions.decide_for_inspection(settings, inspection_id) == Outcome.WAITING  # idempotent: one draft
    request = _request(settings, inspection_id)
    assert (request.state, request.attempt, request.signer_code) == (SigningState.AWAITING_SIGNATURE, 1, code)
    assert _decisions(settings) == [] and _counter(settings) == []  # no number before the signature
    from services.stages.status import campaign_status
    assert any("ký số 1 dự thảo" in w for w in campaign_status(settings, "KYSO-01")["waiting_for"])
    with session_scope(settings) as session:  # the decision screen and the API say what it waits for
        state = issue_state(session, inspection_id)
        assert state.outcome == "waiting" and state.waiting_reason.startswith(f"Dự thảo quyết định chờ giám đốc {HOLDER} ký số")
    draft = (settings.documents_path / request.draft_path).read_bytes()
    assert field_values(draft) == {NUMBER_FIELD: "", DATE_FIELD: ""}

    doc = signed_documents.sign(settings, request.id or 0, person_code=code, key=_key(settings, code),
                                signature_png=signature_png(), via="thử nghiệm")
    assert isinstance(doc, Document)
    assert doc.issued_on == SIGNED_ON and doc.number.startswith("01/") and doc.issued_by == code
    stored = (settings.documents_path / doc.path).read_bytes()
    result = verify_pdf(stored, [pki.root])
    assert result.ok, result.summary
    assert [s.signer for s in result.signatures] == [HOLDER, "Sở Nội vụ tỉnh Cao Bằng"]
    assert [s.level for s in result.signatures] == ["B-LT", "B-LT"]
    text = flattened_text(stored)
    assert f"Số: {doc.number}" in text and "ngày 11 tháng 5 năm 2026" in text and "■" not in text
    assert field_values(stored) == {NUMBER_FIELD: f"Số: {doc.number}", DATE_FIELD: f"{request.place}, ngày 11 tháng 5 năm 2026"}
    with session_scope(settings) as session:  # the stage went on: status, delivery, national feed
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None and inspection.status == InspectionStatus.SANCTIONED
        assert session.exec(select(DocumentDelivery).where(DocumentDelivery.document_id == doc.id)).first() is not None
        (queued,) = session.exec(select(NationalFeedMessage)).all()  # queued whether or not the feed is configured
        assert queued.document_id == doc.id and queued.event == FeedEvent.ISSUED
        assert session.get(SigningRequest, request.id).state == SigningState.ISSUED
    assert sanctions.decide_for_inspection(settings, inspection_id) == Outcome.ALREADY
    assert _counter(settings) == [1]


def test_a_failed_signature_issues_nothing_and_the_retry_issues_once(case: tuple[Settings, int, str]) -> None:
    settings, inspection_id, code = case
    sanctions.decide_for_inspection(settings, inspection_id)
    request = _request(settings, inspection_id)
    wrong = SignerKey.pkcs12(settings.signing_keys_path / f"{code}.p12", "sai-mật-khẩu", name=HOLDER)  # type: ignore[operator]
    with pytest.raises(Conflict, match="Không ký được"):
        signed_documents.sign(settings, request.id or 0, person_code=code, key=wrong, signature_png=signature_png(), via="t")
    down = settings.model_copy(update={"signing_tsa_url": "http://127.0.0.1:9/tsa"})  # the TSA unreachable
    with pytest.raises(Conflict):
        signed_documents.sign(down, request.id or 0, person_code=code, key=_key(settings, code),
                              signature_png=signature_png(), via="t")
    after = _request(settings, inspection_id)
    assert after.state == SigningState.AWAITING_SIGNATURE and after.last_error.startswith("Không ký được")
    assert _decisions(settings) == [] and _counter(settings) == []
    doc = signed_documents.sign(settings, request.id or 0, person_code=code, key=_key(settings, code),
                                signature_png=signature_png(), via="t")
    assert isinstance(doc, Document) and len(_decisions(settings)) == 1 and _counter(settings) == [1]


def test_only_the_competent_person_with_their_own_certificate_signs(case: tuple[Settings, int, str], pki: TestPki  # noqa: F811
                                                                     ) -> None:
    settings, inspection_id, code = case
    sanctions.decide_for_inspection(settings, inspection_id)
    request = _request(settings, inspection_id)
    with pytest.raises(Forbidden, match="Chỉ"):
        signed_documents.sign(settings, request.id or 0, person_code="SNV-LEAD", key=_key(settings, code),
                              signature_png=signature_png(), via="t")
    with pytest.raises(Forbidden, match="không phải của người có thẩm quyền"):  # the organisation's key as the person's
        signed_documents.sign(settings, request.id or 0, person_code=code, key=pki.key("so-noi-vu"),
                              signature_png=signature_png(), via="t")
    with pytest.raises(Conflict):  # a revoked certificate never signs
        signed_documents.sign(settings, request.id or 0, person_code=code, key=pki.key("thu-hoi"),
                              signature_png=signature_png(), via="t")
    assert _request(settings, inspection_id).state == SigningState.AWAITING_SIGNATURE and _decisions(settings) == []


def test_without_the_seal_key_the_signed_draft_waits_then_is_issued(case: tuple[Settings, int, str], pki: TestPki,  # noqa: F811
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    settings, inspection_id, code = case
    sanctions.decide_for_inspection(settings, inspection_id)
    request = _request(settings, inspection_id)
    monkeypatch.delenv("KIEMTRA_SIGNING_SEAL_PKCS12")
    waiting = signed_documents.sign(settings, request.id or 0, person_code=code, key=_key(settings, code),
                                    signature_png=signature_png(), via="t")
    assert isinstance(waiting, SigningRequest) and waiting.state == SigningState.SIGNED
    assert "chưa ký số cơ quan" in waiting.last_error and _decisions(settings) == [] and _counter(settings) == []
    with session_scope(settings) as session:
        reason = issue_state(session, inspection_id).waiting_reason or ""
        assert "đã ký số; quyết định chờ cấp số" in reason and "Điều 18" in reason and "chưa ký số cơ quan" in reason
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None and inspection.status == InspectionStatus.RECORDS_ISSUED
    monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_PKCS12", str(pki.pkcs12("so-noi-vu")))
    doc = signed_documents.issue(settings, request.id or 0, actor="SNV-VT")
    assert isinstance(doc, Document) and verify_pdf((settings.documents_path / doc.path).read_bytes(), [pki.root]).ok
    assert signed_documents.issue(settings, request.id or 0, actor="SNV-VT").id == doc.id  # idempotent


def test_past_the_time_limit_it_is_never_signed_nor_issued(case: tuple[Settings, int, str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings, inspection_id, code = case
    sanctions.decide_for_inspection(settings, inspection_id)
    request = _request(settings, inspection_id)
    pin_today(monkeypatch, d(19, 5))  # the decision's time limit was Mon 18/05/2026
    with pytest.raises(Conflict, match="Điều 65"):
        signed_documents.sign(settings, request.id or 0, person_code=code, key=_key(settings, code),
                              signature_png=signature_png(), via="t")
    assert _decisions(settings) == [] and _counter(settings) == []


def test_a_signed_draft_is_not_issued_after_the_time_limit(case: tuple[Settings, int, str], pki: TestPki,  # noqa: F811
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings, inspection_id, code = case
    sanctions.decide_for_inspection(settings, inspection_id)
    request = _request(settings, inspection_id)
    monkeypatch.delenv("KIEMTRA_SIGNING_SEAL_PKCS12")  # signed on the last day but one; the văn thư's step waits
    signed_documents.sign(settings, request.id or 0, person_code=code, key=_key(settings, code),
                          signature_png=signature_png(), via="t")
    monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_PKCS12", str(pki.pkcs12("so-noi-vu")))
    pin_today(monkeypatch, d(19, 5))  # the decision's time limit was Mon 18/05/2026: the issuing day would be too late
    with pytest.raises(Conflict, match="Điều 65"):
        signed_documents.issue(settings, request.id or 0, actor="SNV-VT")
    assert _decisions(settings) == [] and _counter(settings) == []
    assert "Điều 65" in _request(settings, inspection_id).last_error


def test_a_refusal_ends_the_draft_and_a_redraft_is_the_next_attempt(case: tuple[Settings, int, str]) -> None:
    settings, inspection_id, code = case
    sanctions.decide_for_inspection(settings, inspection_id)
    request = _request(settings, inspection_id)
    with session_scope(settings) as session, pytest.raises(Conflict, match="lý do"):
        from services.documents.signed_issuing import refuse
        refuse(session, request.id or 0, person_code=code, reason="  ")
    with session_scope(settings) as session:
        refuse(session, request.id or 0, person_code=code, reason="Căn cứ pháp lý cần ghi rõ hơn.")
    assert sanctions.decide_for_inspection(settings, inspection_id) == Outcome.WAITING
    assert _request(settings, inspection_id).attempt == 1  # a refused draft is not drawn again by itself
    assert sanctions.decide_for_inspection(settings, inspection_id, redraft=True) == Outcome.WAITING
    again = _request(settings, inspection_id)
    assert (again.attempt, again.state) == (2, SigningState.AWAITING_SIGNATURE) and _decisions(settings) == []
    doc = signed_documents.sign(settings, again.id or 0, person_code=code, key=_key(settings, code),
                                signature_png=signature_png(), via="t")
    assert isinstance(doc, Document) and doc.number.startswith("01/")


def test_a_correction_is_signed_too_and_replaces_the_decision_once_issued(case: tuple[Settings, int, str]) -> None:
    settings, inspection_id, code = case
    sanctions.decide_for_inspection(settings, inspection_id)
    first = signed_documents.sign(settings, _request(settings, inspection_id).id or 0, person_code=code,
                                  key=_key(settings, code), signature_png=signature_png(), via="t")
    assert isinstance(first, Document)
    with session_scope(settings) as session:
        amounts = {v: a - 1_000_000 for v, a in _amounts(session, inspection_id).items()}
    drafted = sanctions.correct_decision(settings, inspection_id, official_code=code, amounts=amounts,
                                         corrected_on=SIGNED_ON, reason="Tính lại số tiền phạt theo số người lao động.")
    assert isinstance(drafted, SigningRequest) and drafted.revision == 2 and len(_decisions(settings)) == 1
    doc = signed_documents.sign(settings, drafted.id or 0, person_code=code, key=_key(settings, code),
                                signature_png=signature_png(), via="t")
    assert isinstance(doc, Document) and doc.revision == 2 and doc.supersedes_id == first.id
    assert doc.number.startswith("02/") and _counter(settings) == [2]
    with session_scope(settings) as session:
        from models import AuditEvent
        corrected = session.exec(select(AuditEvent).where(AuditEvent.action == "decision_corrected")).all()
        assert len(corrected) == 1 and corrected[0].reason == "Tính lại số tiền phạt theo số người lao động."
        assert len(session.exec(select(DocumentDelivery).where(DocumentDelivery.document_id == doc.id)).all()) == 1
    signed_documents.go_on(settings, doc, actor=code)  # again: nothing twice
    with session_scope(settings) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "decision_corrected")).all()) == 1


def _inspection_decision_world(settings: Settings, pki: TestPki, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                               campaign_code: str, types: tuple[str, ...]) -> tuple[Settings, str, date]:
    """A scheduled campaign without its schedule documents; signing on for ``types``; its decision's signer and
    its first day."""
    from models import Campaign
    from services.rules.procedure import procedure_for
    from services.stages.schedule_docs import _decision_signer

    create_scheduled_campaign(settings, code=campaign_code)
    with session_scope(settings) as session:
        campaign = session.exec(select(Campaign).where(Campaign.code == campaign_code)).one()
        signer = _decision_signer(session, procedure_for(campaign.period_start))
        assert signer is not None
        code, start = signer.code, campaign.period_start
    signing = signing_on(settings, pki, monkeypatch, code).model_copy(update={"signing_documents": types})
    return signing, code, start


def test_the_decision_to_inspect_is_signed_before_its_plans_and_notices(settings: Settings, pki: TestPki,  # noqa: F811
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from services.stages.schedule_docs import issue_schedule_documents

    signing, code, start = _inspection_decision_world(settings, pki, monkeypatch, "KYSO-02",
                                                      ("inspection_decision", "sanction_decision"))
    pin_today(monkeypatch, start)
    result = issue_schedule_documents(signing, "KYSO-02")
    assert result.waiting == 1 and result.done == 0  # no plan, no notice before the decision is issued
    with session_scope(signing) as session:
        assert session.exec(select(Document)).first() is None
        request = session.exec(select(SigningRequest)).one()
        assert (request.doc_type, request.signer_code) == (DocumentType.INSPECTION_DECISION, code)
    doc = signed_documents.sign(signing, request.id or 0, person_code=code, key=_key(signing, code),
                                signature_png=signature_png(), via="t")
    assert isinstance(doc, Document) and doc.issued_on == start
    assert verify_pdf((signing.documents_path / doc.path).read_bytes(), [pki.root]).ok
    with session_scope(signing) as session:  # the stage went on: every plan and notice cites the signed decision
        types = [x.doc_type for x in session.exec(select(Document)).all()]
        assert types.count(DocumentType.INSPECTION_PLAN) == 2 and types.count(DocumentType.INSPECTION_NOTICE) >= 10


def test_a_decision_to_inspect_is_not_issued_once_the_campaign_has_begun(settings: Settings, pki: TestPki,  # noqa: F811
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from services.stages.schedule_docs import issue_schedule_documents

    signing, code, start = _inspection_decision_world(settings, pki, monkeypatch, "KYSO-03", ("inspection_decision",))
    pin_today(monkeypatch, start - timedelta(days=3))
    issue_schedule_documents(signing, "KYSO-03")
    with session_scope(signing) as session:
        request = session.exec(select(SigningRequest)).one()
    pin_today(monkeypatch, start + timedelta(days=1))
    with pytest.raises(Conflict, match="trước khi đợt kiểm tra bắt đầu"):
        signed_documents.sign(signing, request.id or 0, person_code=code, key=_key(signing, code),
                              signature_png=signature_png(), via="t")
    with session_scope(signing) as session:
        refuse_reason = "Đợt kiểm tra đã bắt đầu; cần lùi thời gian."
        from services.documents.signed_issuing import refuse
        refuse(session, request.id or 0, person_code=code, reason=refuse_reason)
    again = signed_documents.redraft(signing, request.id or 0, actor="SNV-LEAD")
    assert again.attempt == 2 and again.state == SigningState.AWAITING_SIGNATURE


def test_the_settings_refuse_types_the_sequence_cannot_sign_and_a_missing_tsa(settings: Settings) -> None:
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="chưa hỗ trợ ký số cho loại văn bản violation_record"):
        Settings.model_validate({**settings.model_dump(), "signing_documents": ["violation_record"],
                                 "signing_tsa_url": "http://tsa.invalid"})
    with pytest.raises(ValidationError, match="KIEMTRA_SIGNING_TSA_URL"):
        Settings.model_validate({**settings.model_dump(), "signing_documents": ["sanction_decision"]})


def test_the_sweeper_issues_a_signed_draft_and_escalates_one_past_its_day(case: tuple[Settings, int, str], pki: TestPki,  # noqa: F811
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """NĐ 30/2020 Art.18: issued the day it is signed or the next working day; the sweeper retries the văn thư's step
    and escalates once what is still not issued after that day."""
    from datetime import timedelta

    from models import AuditEvent, Notification
    from services.documents.signed_issuing import issue_by
    from services.issuing.signing_sweep import sweep_signed

    settings, inspection_id, code = case
    monkeypatch.delenv("KIEMTRA_SIGNING_SEAL_PKCS12")
    signed = signed_documents.sign(settings, _request(settings, inspection_id).id or 0, person_code=code,
                                   key=_key(settings, code), signature_png=signature_png(), via="t")
    assert isinstance(signed, SigningRequest)
    due = issue_by(signed)
    assert sweep_signed(settings, due).as_dict() == {"issued": 0, "waiting": 1, "late": 0}  # not late on its day
    assert sweep_signed(settings, due + timedelta(days=1)).as_dict() == {"issued": 0, "waiting": 1, "late": 1}
    assert sweep_signed(settings, due + timedelta(days=2)).as_dict() == {"issued": 0, "waiting": 1, "late": 0}  # once
    with session_scope(settings) as session:
        late = session.exec(select(AuditEvent).where(AuditEvent.action == "signed_issue_late")).all()
        assert len(late) == 1 and "Điều 18 Nghị định 30/2020/NĐ-CP" in late[0].reason
        sent_to = {n.recipient_ref for n in session.exec(select(Notification).where(col(Notification.idempotency_key).startswith(
            f"signing:{signed.id}:late:"))).all()}
        assert sent_to == {"SNV-LEAD", code}, sent_to  # the leading agency's leads and the signer
    monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_PKCS12", str(pki.pkcs12("so-noi-vu")))
    assert sweep_signed(settings, due + timedelta(days=3)).as_dict() == {"issued": 1, "waiting": 0, "late": 0}
    with session_scope(settings) as session:
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None and inspection.status == InspectionStatus.SANCTIONED


def test_a_signed_decision_passes_the_check_before_publication_and_is_published(case: tuple[Settings, int, str]) -> None:
    """The issued file (a certification, the fields filled, the seal) is what the publishing stage checks: valid at
    B-LT against the trust roots, so the outcome is published once it is final."""
    from datetime import timedelta

    from models import DocumentVerification, Publication
    from services.stages import publishing

    settings, inspection_id, code = case
    doc = signed_documents.sign(settings, _request(settings, inspection_id).id or 0, person_code=code,
                                key=_key(settings, code), signature_png=signature_png(), via="t")
    assert isinstance(doc, Document) and doc.issued_on is not None
    later = doc.issued_on + timedelta(days=60)  # past any publication delay
    assert publishing.publish_for_inspection(settings, inspection_id, today=later) == Outcome.PUBLISHED
    with session_scope(settings) as session:
        (check,) = session.exec(select(DocumentVerification).where(DocumentVerification.document_id == doc.id)).all()
        assert check.ok and check.hash_ok and check.signatures == 2 and check.level == "B-LT", check.summary
        assert session.exec(select(Publication).where(Publication.document_id == doc.id)).one() is not None


def test_a_draft_changed_on_disk_is_never_signed(case: tuple[Settings, int, str]) -> None:
    """The official signs the draft that was put to them, byte for byte: a file changed in the store is refused in
    Vietnamese, nothing is signed, numbered or issued, and the draft still waits."""
    from services.errors import NotStored

    settings, inspection_id, code = case
    request = _request(settings, inspection_id)
    path = settings.documents_path / request.draft_path
    path.write_bytes(path.read_bytes().replace(b"/Title", b"/Titlf", 1))
    with pytest.raises(NotStored, match="không khớp với bản đã lưu"):
        signed_documents.sign(settings, request.id or 0, person_code=code, key=_key(settings, code),
                              signature_png=signature_png(), via="t")
    after = _request(settings, inspection_id)
    assert after.state == SigningState.AWAITING_SIGNATURE and after.signed_path is None
    assert _decisions(settings) == [] and _counter(settings) == []

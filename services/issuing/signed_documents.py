"""Digitally signed documents through the stages (NĐ 30/2020 Art.13–18, 32; issue 17): who may sign, when, and what
follows the issue. The database side of each step is :mod:`services.documents.signed_issuing`.

- :func:`sign`: the competent person signs a waiting draft with a key this machine holds (the console with the person's
  PKCS#12 file and its passphrase; the CLI with a PKCS#12 file or a PKCS#11 token); :func:`prepare_remote` and
  :func:`complete_remote`: hash-only, the key stays with the signer. Before signing, and again before issuing, the law
  is asked: a sanction decision past its time limit (Luật XLVPHC Art.65 cl.1 c) or drafted under rules no longer in
  force is refused, never issued.
- :func:`issue`: the văn thư's step, done by the system as soon as the person has signed when the organisation's key is
  configured (``KIEMTRA_SIGNING_SEAL_*``): number and date filled, the organisation's signature, the Document issued;
  then the stage that drafted it goes on (the decision's delivery, the national feed, the inspection's status).
  Without the key, or when the TSA is down, the signed draft waits and the failure is shown: ``kiemtra documents
  issue-signed`` retries.

A failure never issues anything and never takes a number; the file's legal deadline goes on running and is shown on
the deadlines board as before.
"""
from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from asn1crypto import pem, x509

from models import Campaign, Document, DocumentType, Inspection, SigningRequest, SigningState
from services.db import session_scope
from services.documents import signed_issuing as si
from services.documents.remote_signing import finish_remote, prepare_remote
from services.documents.signing import Appearance, SignerKey, SigningError, SigningKeyError, find_signature_block, \
    key_from_env, person_box, seal_box
from services.documents.storage import write_atomic
from services.errors import Conflict, KiemtraError, Refused
from services.rules.calendar import today_in_vietnam
from services.rules.procedure import procedure_for
from services.settings import Settings
from services.stages.decision_time_bar import time_bar

log = logging.getLogger(__name__)


def _law_allows(session: Any, request: SigningRequest, on: date) -> None:
    """Refuse a document the law no longer allows on ``on``: a decision past its time limit, or drafted under
    procedure rules that changed since (it must be drawn again)."""
    if procedure_for(on) != procedure_for(request.drafted_on):
        raise Conflict(f"Quy định áp dụng ngày {on:%d/%m/%Y} khác ngày soạn dự thảo {request.drafted_on:%d/%m/%Y}: "
                       "dự thảo phải được soạn lại (người ký từ chối ký để soạn lại).", request_id=request.id)
    if request.doc_type == DocumentType.INSPECTION_DECISION:
        campaign = session.get(Campaign, request.campaign_id)
        if campaign is not None and on > campaign.period_start:
            raise Conflict(f"Quyết định kiểm tra phải ban hành trước khi đợt kiểm tra bắt đầu ({campaign.period_start:%d/%m/%Y}); "
                           f"ngày {on:%d/%m/%Y} đã muộn: hãy điều chỉnh thời gian của đợt và soạn lại.", request_id=request.id)
    if request.doc_type == DocumentType.SANCTION_DECISION and request.inspection_id is not None:
        inspection = session.get(Inspection, request.inspection_id)
        barred = time_bar(session, inspection, on) if inspection is not None else ""
        if barred:
            raise Conflict(barred, request_id=request.id)


def _checked_draft(settings: Settings, request_id: int, person_code: str) -> tuple[SigningRequest, bytes]:
    with session_scope(settings) as session:
        request = si.waiting_request(session, request_id, person_code)
        _law_allows(session, request, today_in_vietnam())
        draft = si.read_checked(settings, request.draft_path, request.draft_sha256)
        session.expunge(request)
    return request, draft


def _failed(settings: Settings, request_id: int, actor: str, error: str) -> None:
    with session_scope(settings) as session:
        request = session.get(SigningRequest, request_id, with_for_update=True)
        if request is not None:
            si.record_failure(session, request, actor=actor, error=error)


def sign(settings: Settings, request_id: int, *, person_code: str, key: SignerKey, signature_png: bytes,
         via: str) -> SigningRequest | Document:
    """The person's signature with ``key``, then :func:`issue`. Raises (after recording the failure) when either fails."""
    request, draft = _checked_draft(settings, request_id, person_code)
    try:
        signed = si.sign_with_key(settings, request, draft, key, signature_png)
    except (SigningError, SigningKeyError) as exc:
        _failed(settings, request_id, person_code, f"Không ký được: {exc}")
        raise Conflict(f"Không ký được văn bản: {exc}", request_id=request_id) from None
    with session_scope(settings) as session:
        si.store_person_signature(session, settings, request_id, signed, actor=person_code, via=via)
    return issue(settings, request_id, actor=person_code)


def _certificates(pem_text: str, field: str = "certificate_pem") -> list[x509.Certificate]:
    """Each PEM block a certificate, read in full (a damaged one is refused here, naming the field, not later)."""
    data = pem_text.encode()
    if not pem.detect(data):
        raise Refused("Chứng thư số không hợp lệ.", errors=[f"{field}: phải ở dạng PEM (-----BEGIN CERTIFICATE-----)"])
    try:
        certs = [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        for cert in certs:
            cert.native  # noqa: B018 (parsed in full)
    except (ValueError, TypeError):
        raise Refused("Chứng thư số không hợp lệ.",
                      errors=[f"{field}: không đọc được chứng thư số (PEM hỏng hoặc không phải chứng thư)"]) from None
    return certs


def prepare_remote_signature(settings: Settings, request_id: int, *, person_code: str, certificate_pem: str,
                             chain_pem: str = "") -> dict[str, str]:
    """Hash-only signing, step 1: the bytes the signer's device must sign (and their SHA-256), the draft prepared
    with the signer's certificate and kept until step 2."""
    request, draft = _checked_draft(settings, request_id, person_code)
    certs = _certificates(certificate_pem)
    name = str(certs[0].subject.native.get("common_name", ""))
    if not si.same_person(name, request.signer_name):
        raise Conflict(f"Chứng thư số là của {name}, không phải của người ký {request.signer_name}.", field="certificate")
    if not settings.signing_tsa_url:
        raise Conflict("Chưa cấu hình dịch vụ cấp dấu thời gian (KIEMTRA_SIGNING_TSA_URL).", request_id=request_id)
    block = find_signature_block(draft, request.signer_title, request.signer_name)
    png = _image(settings, person_code)
    try:
        prepared = prepare_remote(draft, certs[0], [*certs[1:], *_chain(chain_pem)], field=si.PERSON_FIELD,
                                  box=person_box(block), page=block.page, appearance=Appearance.person(png), certify=True,
                                  validation_context=si.trust(settings),
                                  reserve={si.SEAL_FIELD: seal_box(person_box(block))})
    except SigningError as exc:
        _failed(settings, request_id, person_code, f"Không chuẩn bị được chữ ký: {exc}")
        raise Conflict(f"Không chuẩn bị được chữ ký: {exc}", request_id=request_id) from None
    rel = request.draft_path.removesuffix(".pdf") + "-prepared.pdf"
    write_atomic(settings.documents_path / rel, prepared.prepared_pdf)
    with session_scope(settings) as session:
        row = si.waiting_request(session, request_id, person_code)
        row.remote = {"path": rel, "state": prepared.state}
        session.add(row)
    return {"to_sign": base64.b64encode(prepared.to_sign).decode(), "digest": base64.b64encode(prepared.digest).decode(),
            "algorithm": "sha256WithRSAEncryption"}


def _chain(chain_pem: str) -> list[x509.Certificate]:
    return _certificates(chain_pem, "chain_pem") if chain_pem.strip() else []


def complete_remote_signature(settings: Settings, request_id: int, *, person_code: str,
                              signature_b64: str) -> SigningRequest | Document:
    """Hash-only signing, step 2: the signature value from the signer's device put into the prepared draft."""
    with session_scope(settings) as session:
        request = si.waiting_request(session, request_id, person_code)
        remote = dict(request.remote)
    if not remote:
        raise Conflict("Chưa chuẩn bị chữ ký (bước 1) cho dự thảo này.", request_id=request_id)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        raise Conflict("signature: không phải base64.", field="signature") from None
    prepared = (settings.documents_path / remote["path"]).read_bytes()
    try:
        signed = finish_remote(prepared, remote["state"], signature, timestamper_url=settings.signing_tsa_url or "",
                               validation_context=si.trust(settings))
    except SigningError as exc:
        _failed(settings, request_id, person_code, f"Không ký được: {exc}")
        raise Conflict(f"Không ký được văn bản: {exc}", request_id=request_id) from None
    with session_scope(settings) as session:
        si.store_person_signature(session, settings, request_id, signed, actor=person_code, via="ký từ xa")
    return issue(settings, request_id, actor=person_code)


def _image(settings: Settings, name: str) -> bytes:
    folder = settings.signing_keys_path
    path = folder / f"{name}.png" if folder is not None else None
    if path is None or not path.is_file():
        raise Conflict(f"Chưa có ảnh {'con dấu' if name == 'seal' else 'chữ ký'} ({name}.png trong KIEMTRA_SIGNING_KEYS_DIR).",
                       name=name)
    return path.read_bytes()


def issue(settings: Settings, request_id: int, *, actor: str) -> SigningRequest | Document:
    """The văn thư's step for a signed draft (see the module); the request as it stays when it cannot be done yet."""
    try:
        seal_key, seal_png = key_from_env("seal"), _image(settings, "seal")
    except (SigningKeyError, Conflict) as exc:
        _failed(settings, request_id, actor, f"Chưa cấp số, chưa ký số cơ quan: {exc}")
        return _request(settings, request_id)
    try:
        with session_scope(settings) as session:
            request = session.get(SigningRequest, request_id, with_for_update=True)
            if request is None:
                raise Conflict(f"Không có dự thảo trình ký số {request_id}.", request_id=request_id)
            on = today_in_vietnam()
            if request.state == SigningState.SIGNED:
                _law_allows(session, request, on)
            doc = si.issue_signed(session, settings, request, on=on, seal_key=seal_key, seal_png=seal_png, actor=actor)
            session.expunge(doc)
    except (SigningError, KiemtraError) as exc:
        _failed(settings, request_id, actor, f"Chưa ban hành: {getattr(exc, 'message', None) or exc}")
        raise
    go_on(settings, doc, actor=actor)
    return doc


def _request(settings: Settings, request_id: int) -> SigningRequest:
    with session_scope(settings) as session:
        request = session.get(SigningRequest, request_id)
        if request is None:
            raise Conflict(f"Không có dự thảo trình ký số {request_id}.", request_id=request_id)
        session.expunge(request)
        return request


def go_on(settings: Settings, doc: Document, *, actor: str) -> None:
    """What the stage does once its document is issued (idempotent: the stage's own step, run again)."""
    from services.publishing.register import write_register
    from services.stages import sanctions
    if doc.doc_type == DocumentType.REPORT:  # the campaign's report: its XLSX, from the signed draft's figures
        from services.reports.signed_report import after_issue
        after_issue(settings, doc)
        return
    if doc.doc_type == DocumentType.INSPECTION_DECISION:
        from services.stages.schedule_docs import issue_schedule_documents
        with session_scope(settings) as session:
            campaign = session.get(Campaign, doc.campaign_id)
            code = campaign.code if campaign is not None else ""
        issue_schedule_documents(settings, code, actor=actor)  # the plans and notices cite it now
        return
    if doc.doc_type != DocumentType.SANCTION_DECISION or doc.inspection_id is None:
        return
    if doc.revision == 1:
        sanctions.decide_for_inspection(settings, doc.inspection_id, actor=actor)
        return
    with session_scope(settings) as session:
        replaced = session.get(Document, doc.supersedes_id)
        request = si.current_request(session, doc_type=doc.doc_type, subject_key=doc.subject_key, revision=doc.revision)
        assert replaced is not None and request is not None
        if request.state == SigningState.ISSUED and not _followed(session, doc):
            sanctions.after_correction(session, settings, replaced, session.get(Document, doc.id) or doc, request.reason)
            from services import audit
            audit.record(session, actor=actor, action="decision_corrected", entity=session.get(Inspection, doc.inspection_id),
                         reason=request.reason, data={"replaces": replaced.number, "by": doc.number})
    write_register(settings)


def _followed(session: Any, doc: Document) -> bool:
    from sqlmodel import select

    from models import AuditEvent
    return session.exec(select(AuditEvent.id).where(AuditEvent.action == "decision_corrected",
                                                    AuditEvent.entity_id == doc.inspection_id)
                        .where(AuditEvent.data["by"].as_string() == doc.number)).first() is not None


def redraft(settings: Settings, request_id: int, *, actor: str) -> SigningRequest:
    """A refused draft drawn again (the next attempt) by the stage that drafted it, from the file as it stands now."""
    from services.stages import sanctions
    from services.stages.schedule_docs import issue_schedule_documents
    request = _request(settings, request_id)
    if request.state != SigningState.REFUSED:
        raise Conflict(f"Chỉ soạn lại dự thảo đã bị từ chối ký (dự thảo {request_id}: {si.STATE_VI[request.state]}).",
                       request_id=request_id)
    if request.doc_type == DocumentType.SANCTION_DECISION and request.inspection_id is not None:
        sanctions.decide_for_inspection(settings, request.inspection_id, actor=actor, redraft=True)
    elif request.doc_type == DocumentType.INSPECTION_DECISION:
        with session_scope(settings) as session:
            campaign = session.get(Campaign, request.campaign_id)
            code = campaign.code if campaign is not None else ""
        issue_schedule_documents(settings, code, actor=actor, redraft=True)
    elif request.doc_type == DocumentType.REPORT:
        from services.reports.campaign_report import issue_campaign_report
        with session_scope(settings) as session:
            campaign = session.get(Campaign, request.campaign_id)
            code = campaign.code if campaign is not None else ""
        issue_campaign_report(settings, code, issued_on=today_in_vietnam(), actor=actor, revision=request.revision,
                              redraft=True)
    with session_scope(settings) as session:
        again = si.current_request(session, doc_type=request.doc_type, subject_key=request.subject_key,
                                   revision=request.revision)
        assert again is not None
        session.expunge(again)
    return again


def waiting(settings: Settings, *, signer_code: str | None = None) -> Sequence[SigningRequest]:
    with session_scope(settings) as session:
        rows = si.waiting_requests(session, signer_code=signer_code)
        for row in rows:
            session.expunge(row)
        return rows

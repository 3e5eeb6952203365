"""The issuing sequence of NĐ 30/2020 with digital signatures (Art.13–18, 32; issue 17), over the database.

1. **Draft** (:func:`request_signature`): the approved content is rendered once, with the number ("Số: …") and the place
   and date as empty form fields, and put to the competent person (a :class:`SigningRequest`, ``awaiting_signature``).
   No number is taken: a draft that is never signed leaves no gap in the series.
2. **The person signs** (:func:`sign_draft`, or hash-only: :mod:`services.documents.remote_signing` through
   :func:`finish_remote_signature`): a PAdES certification signature (DocMDP: filling in forms only) with the signature
   image between the title and name lines. The certificate must be the signer's own (its name is the signer's). A
   failure (a key, a PIN, a TSA down) is recorded and the draft stays waiting; a refusal (:func:`refuse`) ends it.
3. **Number, date, seal and issue** (:func:`issue_signed`): only a document the competent person has signed, checked
   against the trust roots (Art.32 cl.2(d)), gets the next number of its issuer and year (Art.15, gap-free: reserved as
   :mod:`services.documents.issuing` does) and the issuing day, filled into the fields; then the organisation's
   signature (the seal image overlapping the person's signature); the file is the issued :class:`Document` (its SHA-256
   stored, immutable).

Signing reads and writes the database in short transactions and signs outside them. The stage that drafts a document
and what follows its issue (deadlines, delivery, publication) are the stages' (``services.issuing.signed_documents``).
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import Session, col, select

from models import Document, DocumentType, SigningRequest, SigningState
from models.base import utcnow
from services import audit
from services.documents import render_pdf, template_version
from services.documents.render import header_values
from services.documents.signing_fields import DATE_FIELD, NUMBER_FIELD
from services.documents.issuing import _reserve, find_document
from services.documents.numbering import Series, format_number, mark_used
from services.documents.signing import SignerKey, SigningError, load_certificates, validation_context
from services.documents.signing_steps import (PERSON_FIELD, SEAL_FIELD, certify_draft, fill_and_seal, person_signature_problem,
                                              same_person)
from services.documents.storage import read_stored, write_atomic
from services.errors import Conflict, Forbidden
from services.rules.calendar import VIETNAM
from services.rules.deadline_rules import nth_working_day_after
from services.settings import Settings



@dataclass(frozen=True)
class Draft:
    """What a stage knows of a document it would issue, before any number: the content and who must sign it."""

    doc_type: Any  # DocumentType
    subject_key: str
    revision: int
    supersedes_id: int | None
    campaign_id: int
    inspection_id: int | None
    issuer_code: str
    issuer_name: str
    place: str
    symbol: str
    template: str
    title: str
    drafted_on: date
    signer_code: str
    signer_name: str
    signer_title: str
    context: Mapping[str, Any]
    reason: str = ""


def signing_enabled(settings: Settings, doc_type: Any) -> bool:
    return str(doc_type.value if hasattr(doc_type, "value") else doc_type) in settings.signing_documents


def current_request(session: Session, *, doc_type: Any, subject_key: str, revision: int = 1) -> SigningRequest | None:
    """The latest draft of the document (a refused one is followed by the next attempt)."""
    return session.exec(select(SigningRequest).where(SigningRequest.doc_type == doc_type,
                                                     SigningRequest.subject_key == subject_key,
                                                     SigningRequest.revision == revision)
                        .order_by(col(SigningRequest.attempt).desc())).first()


def _path(settings: Settings, relative: str) -> Path:
    return settings.documents_path / relative


def request_signature(session: Session, settings: Settings, draft: Draft, *, actor: str,
                      redraft: bool = False) -> SigningRequest:
    """The document's draft put to its signer (idempotent: the waiting, signed or issued draft is returned as it is; a
    refused one too, unless ``redraft``: then the content is drawn again as the next attempt)."""
    found = current_request(session, doc_type=draft.doc_type, subject_key=draft.subject_key, revision=draft.revision)
    if found is not None and not (redraft and found.state == SigningState.REFUSED):
        return found
    attempt = found.attempt + 1 if found is not None else 1
    safe_subject = draft.subject_key.replace(":", "-")
    rel = Path("drafts") / str(draft.drafted_on.year) / draft.issuer_code / \
        f"{draft.doc_type.value}-{safe_subject}-r{draft.revision}-a{attempt}.pdf"
    rendered = render_pdf(draft.template, {**draft.context, "number": ""}, _path(settings, rel.as_posix()), fillable=True)
    request = SigningRequest(
        doc_type=draft.doc_type, subject_key=draft.subject_key, revision=draft.revision, attempt=attempt,
        supersedes_id=draft.supersedes_id, campaign_id=draft.campaign_id, inspection_id=draft.inspection_id,
        issuer_code=draft.issuer_code, issuer_name=draft.issuer_name, place=draft.place, symbol=draft.symbol,
        template=draft.template, template_version=template_version(draft.template), title=draft.title,
        reason=draft.reason,
        drafted_on=draft.drafted_on, signer_code=draft.signer_code, signer_name=draft.signer_name,
        signer_title=draft.signer_title, draft_path=rel.as_posix(), draft_sha256=rendered.sha256, requested_by=actor)
    session.add(request)
    session.flush()
    audit.record(session, actor=actor, action="signature_requested", entity=request, to_state=request.state.value,
                 reason=f"Trình {draft.signer_title.lower()} {draft.signer_name} ký: {draft.title}",
                 data={"attempt": attempt, "sha256": rendered.sha256})
    return request


def read_checked(settings: Settings, relative: str, sha256: str) -> bytes:
    """A stored draft or signed file, refused when it is not the one recorded (nothing is signed or issued from it)."""
    return read_stored(settings.documents_path, relative, sha256)


def _last_signer(pdf: bytes) -> tuple[str, str]:
    """The common name and a description (subject, serial) of the last signature's certificate."""
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1]
    cert = signature.signer_cert
    name = str(cert.subject.native.get("common_name", ""))
    return name, f"{cert.subject.human_friendly}; số sê-ri {cert.serial_number:x}"[:500]


def waiting_request(session: Session, request_id: int, person_code: str | None = None) -> SigningRequest:
    request = session.get(SigningRequest, request_id, with_for_update=True)
    if request is None:
        raise Conflict(f"Không có dự thảo trình ký số {request_id}.", request_id=request_id)
    if request.state != SigningState.AWAITING_SIGNATURE:
        raise Conflict(f"Dự thảo {request_id} không còn chờ ký (trạng thái: {STATE_VI[request.state]}).",
                       request_id=request_id)
    if person_code is not None and person_code != request.signer_code:
        raise Forbidden(f"Chỉ {request.signer_title.lower()} {request.signer_name} (mã {request.signer_code}) được ký "
                        f"dự thảo này.", request_id=request_id)
    return request


STATE_VI = {SigningState.AWAITING_SIGNATURE: "chờ ký", SigningState.SIGNED: "đã ký, chờ cấp số và đóng dấu",
            SigningState.ISSUED: "đã ban hành", SigningState.REFUSED: "bị từ chối ký"}


def record_failure(session: Session, request: SigningRequest, *, actor: str, error: str) -> None:
    """A failed signature: the draft stays as it was, the error is shown with it and kept in the history."""
    request.last_error, request.updated_at = error[:1000], utcnow()
    session.add(request)
    audit.record(session, actor=actor, action="signature_failed", entity=request, reason=error[:1000])


def store_person_signature(session: Session, settings: Settings, request_id: int, signed: bytes, *, actor: str,
                           via: str) -> SigningRequest:
    """Keep the person's signed file (checked: the certificate is the signer's own) and move the draft to ``signed``.
    A draft signed meanwhile by another attempt keeps that one."""
    name, certificate = _last_signer(signed)
    request = waiting_request(session, request_id)
    if not same_person(name, request.signer_name):
        raise Forbidden(f"Chứng thư số dùng để ký là của {name}, không phải của người có thẩm quyền ký "
                        f"{request.signer_name}: văn bản không được ký.", request_id=request_id)
    rel = Path(request.draft_path).with_name(Path(request.draft_path).stem + "-signed.pdf").as_posix()
    write_atomic(_path(settings, rel), signed)
    request.signed_path, request.signed_sha256 = rel, hashlib.sha256(signed).hexdigest()
    request.signed_at = request.updated_at = utcnow()
    request.certificate, request.last_error, request.remote = certificate, "", {}
    request.state = SigningState.SIGNED
    session.add(request)
    audit.record(session, actor=actor, action="document_signed", entity=request,
                 from_state=SigningState.AWAITING_SIGNATURE.value, to_state=SigningState.SIGNED.value,
                 reason=f"{request.signer_name} đã ký số ({via}): {request.title}",
                 data={"certificate": certificate, "sha256": request.signed_sha256})
    return request


def trust(settings: Settings) -> Any:
    """The validation context of the configured trust roots (asking the CAs' services for what is missing)."""
    return validation_context(load_certificates(settings.signing_trust_root_paths))


def sign_with_key(settings: Settings, request: SigningRequest, draft: bytes, key: SignerKey, signature_png: bytes) -> bytes:
    """The person's certification signature on the draft (outside any transaction). Raises :class:`SigningError`."""
    if not settings.signing_tsa_url:
        raise SigningError("chưa cấu hình dịch vụ cấp dấu thời gian (KIEMTRA_SIGNING_TSA_URL)")
    return certify_draft(draft, key, title=request.signer_title, name=request.signer_name, signature_png=signature_png,
                         tsa_url=settings.signing_tsa_url, context=trust(settings))


def refuse(session: Session, request_id: int, *, person_code: str, reason: str) -> SigningRequest:
    """The competent person refuses to sign: nothing is issued, the legal deadline goes on running."""
    if not reason.strip():
        raise Conflict("Phải ghi lý do từ chối ký.", field="reason")
    request = waiting_request(session, request_id, person_code)
    request.state, request.refusal_reason, request.updated_at = SigningState.REFUSED, reason.strip()[:1000], utcnow()
    session.add(request)
    audit.record(session, actor=person_code, action="signature_refused", entity=request,
                 from_state=SigningState.AWAITING_SIGNATURE.value, to_state=SigningState.REFUSED.value,
                 reason=reason.strip()[:1000])
    return request


def _check_person_signature(settings: Settings, request: SigningRequest, signed: bytes) -> None:
    """Art.32 cl.2(d): the organisation signs only what the competent person signed — their signature, intact, trusted."""
    problem = person_signature_problem(signed, name=request.signer_name,
                                       trust_roots=load_certificates(settings.signing_trust_root_paths))
    if problem is not None:
        raise Conflict(f"Văn bản chưa có chữ ký số hợp lệ của {request.signer_name}: không cấp số, không đóng dấu. "
                       f"{problem}", request_id=request.id)


def issue_signed(session: Session, settings: Settings, request: SigningRequest, *, on: date, seal_key: SignerKey,
                 seal_png: bytes, actor: str) -> Document:
    """Number, date, seal and issue a signed draft in the caller's transaction (``request`` locked by the caller)."""
    if request.state == SigningState.ISSUED and request.document_id is not None:
        issued = session.get(Document, request.document_id)
        assert issued is not None
        return issued
    if request.state != SigningState.SIGNED or request.signed_path is None or request.signed_sha256 is None:
        raise Conflict(f"Dự thảo {request.id} chưa được người có thẩm quyền ký: không cấp số, không đóng dấu.",
                       request_id=request.id)
    if on < request.drafted_on:
        raise Conflict(f"Ngày ban hành {on:%d/%m/%Y} trước ngày soạn {request.drafted_on:%d/%m/%Y}.", request_id=request.id)
    signed = read_checked(settings, request.signed_path, request.signed_sha256)
    _check_person_signature(settings, request, signed)
    doc_type = DocumentType(request.doc_type)
    reservation, existing = _reserve(session, Series(request.issuer_code, doc_type.value, on.year),
                                     request.subject_key, request.revision, actor, doc_type)
    if existing is None:
        existing = find_document(session, doc_type=request.doc_type, subject_key=request.subject_key,
                                 revision=request.revision)
    if existing is not None:
        return _link(session, request, existing, actor)
    number = format_number(reservation.seq, request.symbol)
    assert settings.signing_tsa_url
    # the words the template's header prints (one source: a printed render of the same document reads the same)
    header = header_values(request.template, {"number": number, "issued_on": on, "issuer": {"place": request.place}})
    final = fill_and_seal(signed, number_text=header[NUMBER_FIELD], date_text=header[DATE_FIELD],
                          title=request.signer_title, name=request.signer_name, seal_key=seal_key, seal_png=seal_png,
                          organisation=seal_key.name or request.issuer_name, email=settings.signing_seal_email,
                          tsa_url=settings.signing_tsa_url, context=trust(settings))
    rel = Path(str(on.year)) / request.issuer_code / f"{doc_type.value}-{reservation.seq:05d}.pdf"
    write_atomic(settings.documents_path / rel, final)
    doc = Document(doc_type=doc_type, subject_key=request.subject_key, issuer_code=request.issuer_code,
                   year=on.year, seq=reservation.seq, number=number, campaign_id=request.campaign_id,
                   inspection_id=request.inspection_id, revision=request.revision, supersedes_id=request.supersedes_id,
                   template_version=request.template_version, path=rel.as_posix(),
                   sha256=hashlib.sha256(final).hexdigest(), size=len(final), issued_by=request.signer_code, issued_on=on)
    session.add(doc)
    mark_used(session, reservation)
    session.flush()
    audit.record(session, actor=actor, action="document_issued", entity=doc, reason=f"{doc_type.value} {number}",
                 data={"sha256": doc.sha256, "path": doc.path, "signed_by": request.signer_code,
                       "certificate": request.certificate, "sealed_by": actor, "signing_request": request.id})
    return _link(session, request, doc, actor)


def _link(session: Session, request: SigningRequest, doc: Document, actor: str) -> Document:
    if request.state != SigningState.ISSUED:
        request.state, request.document_id, request.updated_at, request.last_error = SigningState.ISSUED, doc.id, utcnow(), ""
        session.add(request)
        audit.record(session, actor=actor, action="signed_document_issued", entity=request,
                     from_state=SigningState.SIGNED.value, to_state=SigningState.ISSUED.value,
                     reason=f"Cấp số {doc.number}, ngày {doc.issued_on:%d/%m/%Y}, ký số cơ quan và ban hành")
    return doc


def issue_by(request: SigningRequest) -> date:
    """NĐ 30/2020 Art.18: a signed document is issued the day it is signed or the next working day."""
    signed_on = (request.signed_at or request.requested_at).astimezone(VIETNAM).date()
    return nth_working_day_after(signed_on, 1)


def waiting_requests(session: Session, *, signer_code: str | None = None) -> list[SigningRequest]:
    """Drafts not issued yet (waiting, signed), oldest first; refused ones are shown by their file."""
    query = select(SigningRequest).where(col(SigningRequest.state).in_([SigningState.AWAITING_SIGNATURE.value,
                                                                          SigningState.SIGNED.value]))
    if signer_code is not None:
        query = query.where(SigningRequest.signer_code == signer_code)
    return list(session.exec(query.order_by(col(SigningRequest.requested_at), col(SigningRequest.id))).all())


__all__ = ["Draft", "PERSON_FIELD", "SEAL_FIELD", "STATE_VI", "current_request", "issue_by", "issue_signed",
           "read_checked", "record_failure", "refuse", "request_signature", "same_person", "sign_with_key",
           "signing_enabled", "store_person_signature", "trust", "waiting_request", "waiting_requests"]

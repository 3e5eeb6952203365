"""Issued violation records and sanction decisions delivered to the violator, each at most once.

:func:`enqueue_document` is called right after the violation record (services/stages/records.py) or the sanction
decision and its corrections (services/stages/sanctions.py) are issued, in the issuing transaction: a document whose
establishment has an e-mail contact gets one :class:`~models.DocumentDelivery` per (document, channel, recipient) — the
unique key keeps it one, however often it is called.

Sending (the stage :mod:`services.stages.document_delivery`) goes in three steps, as for the portal's messages:
:func:`claim` (a short transaction, the row locked on PostgreSQL) moves the delivery to SENDING and writes the
attempt; the channel is called with no transaction open; :func:`record` (a second short transaction) writes the
answer. A temporary failure waits ``delivery_backoff_s`` × 2^(n−1) (at most a day); a permanent one, or a stored file
whose SHA-256 is not the document's, is FAILED; attempts spent make it DEAD. A person sends a FAILED or DEAD one
again (:func:`retry`).

A crash between sending and recording leaves the delivery SENDING. The engine cannot tell whether the server took
the message, and SMTP offers no way to ask, so it never re-sends on its own: :func:`reap_stale` moves a delivery
SENDING for longer than :func:`lease` to DEAD with the attempt's outcome "unknown", where a person checks the mailbox
and decides (:func:`retry`). A resend carries the same ``Message-ID``, so the receiver can keep one copy. A channel
able to ask whether a message arrived could settle those itself; SMTP cannot.
"""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (AttemptOutcome, DeliveryAttempt, Document, DocumentDelivery, DocumentDeliveryStatus, DocumentType,
                    Establishment, Inspection)
from models.base import table_of, utcnow
from services import audit
from services.delivery import outbox_steps
from services.clients.retry import RetryPolicy
from services.db import session_scope, upsert_insert
from services.delivery.channels import (ChannelError, ChannelRejected, OutgoingDocument, Receipt, message_id_for)
from services.delivery.notifications import contact_of
from services.errors import Conflict, KiemtraError, NotFound
from services.settings import Settings

__all__ = ["DELIVERY_ACTOR", "TITLES_VI", "Claim", "IssuedFileMismatch", "backoff", "claim", "compose", "due_ids",
           "enqueue_document", "issued_file", "lease", "listing", "outgoing", "reap_stale", "record", "retry"]

DELIVERY_ACTOR = "mail"  # the audit actor of delivery outcomes (no person decides them)
MAX_BACKOFF = timedelta(days=1)
TITLES_VI = {DocumentType.VIOLATION_RECORD: "Biên bản vi phạm hành chính",
             DocumentType.SANCTION_DECISION: "Quyết định xử phạt vi phạm hành chính"}
S = DocumentDeliveryStatus


class IssuedFileMismatch(KiemtraError):
    """The file in the document store is missing or is not the issued one (its SHA-256 differs): never sent."""


Outcome = Receipt | ChannelError | IssuedFileMismatch


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def compose(document: Document, establishment: Establishment) -> tuple[str, str]:
    """The Vietnamese subject and body of the e-mail carrying ``document``."""
    title = TITLES_VI[DocumentType(document.doc_type)]
    dated = f" ngày {document.issued_on:%d/%m/%Y}" if document.issued_on else ""
    subject = f"{title} số {document.number}{dated}"
    body = (f"Kính gửi: {establishment.name}\n\n"
            f"Cơ quan có thẩm quyền gửi Quý cơ sở {title[0].lower()}{title[1:]} số {document.number}{dated} "
            f"(mã số thuế {establishment.tax_code}).\n\n"
            "Tệp PDF đính kèm thư này là văn bản đã ban hành, gửi bằng phương thức điện tử (điểm c khoản 2 Điều 70 "
            "Luật Xử lý vi phạm hành chính, được sửa đổi, bổ sung năm 2025).\n"
            f"Mã SHA-256 của tệp đính kèm: {document.sha256}\n\n"
            "Thư này được gửi tự động; xin không trả lời thư này.\n")
    return _nfc(subject), _nfc(body)


def enqueue_document(session: Session, settings: Settings, document: Document) -> list[DocumentDelivery]:
    """Queue the delivery of a just-issued record or decision to its establishment's e-mail (caller's transaction).

    Nothing for other documents, or when the establishment has no e-mail contact; the same document again changes
    nothing (the unique key)."""
    if document.doc_type not in TITLES_VI or document.inspection_id is None or document.id is None:
        return []
    inspection = session.get(Inspection, document.inspection_id)
    establishment = session.get(Establishment, inspection.establishment_id) if inspection else None
    contact = contact_of(session, "establishment", establishment.tax_code) if establishment else None
    if establishment is None or contact is None or not (contact.email or "").strip():
        return []
    address = (contact.email or "").strip()
    key = f"document:{document.id}:email:{hashlib.sha256(address.lower().encode()).hexdigest()[:16]}"
    subject, body = compose(document, establishment)
    now = utcnow()
    row = {"document_id": document.id, "campaign_id": document.campaign_id, "inspection_id": document.inspection_id,
           "channel": "email", "recipient": address, "recipient_ref": establishment.tax_code, "delivery_key": key,
           "message_id": message_id_for(key, settings.smtp_from), "subject": subject, "body": body,
           "status": S.PENDING.value, "attempts": 0, "next_attempt_at": now, "last_error": "", "created_at": now}
    session.execute(upsert_insert(session, table_of(DocumentDelivery)).values(**row).on_conflict_do_nothing())
    return list(session.exec(select(DocumentDelivery).where(DocumentDelivery.delivery_key == key)).all())


def lease(settings: Settings) -> timedelta:
    """How long a send may take before a SENDING delivery is judged stopped (a crash): well past every timeout."""
    return timedelta(seconds=max(300.0, 4 * settings.smtp_timeout_s))


def backoff(settings: Settings) -> RetryPolicy:
    """The wait after a temporary failure: the clients' schedule on the delivery's scale, without jitter."""
    return RetryPolicy(attempts=settings.delivery_max_attempts, initial_s=settings.delivery_backoff_s,
                       max_s=MAX_BACKOFF.total_seconds(), jitter_s=0.0)


def due_ids(settings: Settings, *, channel: str, now: datetime, limit: int = 200) -> list[int]:
    with session_scope(settings) as session:
        query = (select(DocumentDelivery.id).where(DocumentDelivery.status == S.PENDING, DocumentDelivery.channel == channel,
                                                   col(DocumentDelivery.next_attempt_at) <= now)
                 .order_by(col(DocumentDelivery.next_attempt_at), col(DocumentDelivery.id)).limit(limit))
        return [i for i in session.exec(query) if i is not None]


@dataclass(frozen=True)
class Claim:
    """A delivery taken by this run for one attempt, with what the channel needs."""

    delivery_id: int
    number: int  # the attempt's number (1, 2, … over the delivery's life)
    to: str
    subject: str
    body: str
    message_id: str
    document_path: str
    document_sha256: str
    document_number: str


def _locked(session: Session, delivery_id: int) -> DocumentDelivery | None:
    return session.exec(select(DocumentDelivery).where(DocumentDelivery.id == delivery_id).with_for_update()).first()


def claim(settings: Settings, delivery_id: int, *, now: datetime) -> Claim | None:
    """Step 1: PENDING and due → SENDING, with its attempt written; None when another run took it."""
    with session_scope(settings) as session:
        d = _locked(session, delivery_id)
        if d is None or d.status != S.PENDING or d.next_attempt_at > now:
            return None
        last = session.exec(select(sa.func.max(DeliveryAttempt.number))
                            .where(DeliveryAttempt.delivery_id == delivery_id)).one()
        number = int(last or 0) + 1
        d.attempts += 1
        d.claimed_at = now
        audit.transition(session, d, S.SENDING, actor=DELIVERY_ACTOR, reason=f"Lần gửi thứ {number}",
                         data={"attempt": number})
        session.add(DeliveryAttempt(delivery_id=delivery_id, number=number, started_at=now))
        document = session.get(Document, d.document_id)
        assert document is not None
        return Claim(delivery_id, number, d.recipient, d.subject, d.body, d.message_id, document.path, document.sha256,
                     document.number)


def issued_file(settings: Settings, path: str, sha256: str) -> bytes:
    """The stored document, refused when it is missing or its SHA-256 is not the one recorded at issue."""
    try:
        content = (settings.documents_path / path).read_bytes()
    except OSError as exc:
        raise IssuedFileMismatch(f"Không đọc được tệp văn bản {path}: {exc.strerror or exc}", path=path) from None
    actual = hashlib.sha256(content).hexdigest()
    if actual != sha256:
        raise IssuedFileMismatch(f"Tệp {path} không phải văn bản đã ban hành (SHA-256 {actual[:16]}…, "
                                 f"đã ghi {sha256[:16]}…): không gửi", path=path)
    return content


def outgoing(settings: Settings, c: Claim) -> OutgoingDocument:
    """What the channel sends: the text and the verified file (raises :class:`IssuedFileMismatch`)."""
    content = issued_file(settings, c.document_path, c.document_sha256)
    stem = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in c.document_number).strip("-")
    return OutgoingDocument(message_id=c.message_id, to=c.to, subject=c.subject, body=c.body,
                            filename=f"{stem or 'van-ban'}.pdf", content=content)


def _attempt(session: Session, c: Claim) -> DeliveryAttempt:
    return session.exec(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == c.delivery_id,
                                                      DeliveryAttempt.number == c.number)).one()


def record(settings: Settings, c: Claim, outcome: Outcome, *,
           on_sent: Callable[[Session, DocumentDelivery], object] | None = None) -> DocumentDeliveryStatus:
    """Step 3: the channel's answer, in one transaction with ``on_sent`` (e.g. the sending deadline met)."""
    with session_scope(settings) as session:
        d = _locked(session, c.delivery_id)
        assert d is not None
        attempt = _attempt(session, c)
        if d.status != S.SENDING or attempt.outcome != AttemptOutcome.SENDING:  # judged meanwhile (reap_stale)
            return DocumentDeliveryStatus(d.status)
        now = utcnow()
        attempt.finished_at = now
        if isinstance(outcome, Receipt):
            attempt.outcome, attempt.reply_code, attempt.reply_text = AttemptOutcome.SENT, outcome.reply_code, outcome.reply_text
            d.sent_at, d.last_error = now, ""
            to, reason = S.SENT, f"Máy chủ thư đã nhận thư ({outcome.reply_code} {outcome.reply_text})"[:500]
        else:
            to, reason = _failed(settings, d, attempt, outcome, now)
        session.add(attempt)
        audit.transition(session, d, to, actor=DELIVERY_ACTOR, reason=reason,
                         data={"attempt": c.number, "message_id": d.message_id, "reply_code": attempt.reply_code})
        if to is S.SENT and on_sent is not None:
            on_sent(session, d)
        return to


def _failed(settings: Settings, d: DocumentDelivery, attempt: DeliveryAttempt, error: ChannelError | IssuedFileMismatch,
            now: datetime) -> tuple[DocumentDeliveryStatus, str]:
    """The attempt's failure written; the delivery's next status and the reason."""
    d.last_error = attempt.error = error.message[:1000]
    if isinstance(error, ChannelError):
        attempt.reply_code, attempt.reply_text = error.reply_code, error.reply_text[:1000]
    if isinstance(error, IssuedFileMismatch):
        attempt.outcome = AttemptOutcome.FILE_MISMATCH
        return S.FAILED, d.last_error[:500]
    if isinstance(error, ChannelRejected):
        attempt.outcome = AttemptOutcome.PERMANENT
        return S.FAILED, d.last_error[:500]
    attempt.outcome = AttemptOutcome.TEMPORARY
    if d.attempts >= settings.delivery_max_attempts:
        return S.DEAD, f"Đã thử {d.attempts} lần: {d.last_error}"[:500]
    d.next_attempt_at = now + timedelta(seconds=backoff(settings).delay(d.attempts))
    return S.PENDING, f"Lỗi tạm thời, gửi lại sau: {d.last_error}"[:500]


def reap_stale(settings: Settings, *, now: datetime) -> int:
    """SENDING past the lease (the run stopped between sending and recording): DEAD, outcome unknown, never re-sent
    automatically. Returns how many."""
    limit = now - lease(settings)
    with session_scope(settings) as session:
        rows = session.exec(select(DocumentDelivery).where(DocumentDelivery.status == S.SENDING,
                                                           col(DocumentDelivery.claimed_at) < limit)
                            .order_by(col(DocumentDelivery.id)).with_for_update()).all()
        for d in rows:
            for attempt in session.exec(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id,
                                                                      DeliveryAttempt.outcome == AttemptOutcome.SENDING)):
                attempt.outcome, attempt.finished_at = AttemptOutcome.UNKNOWN, now
                attempt.error = "Tiến trình dừng giữa lúc gửi: không biết máy chủ thư đã nhận hay chưa"
                session.add(attempt)
            d.last_error = ("Không rõ kết quả lần gửi cuối (tiến trình dừng giữa lúc gửi): kiểm tra hộp thư đi rồi "
                            "mới gửi lại (kiemtra deliveries retry)")
            audit.transition(session, d, S.DEAD, actor=DELIVERY_ACTOR, reason=d.last_error,
                             data={"claimed_at": d.claimed_at.isoformat() if d.claimed_at else None})
        return len(rows)


def retry(settings: Settings, delivery_id: int, *, actor: str, reason: str, now: datetime | None = None) -> None:
    """A person sends a FAILED or DEAD delivery again: PENDING now, with a fresh budget of attempts."""
    outbox_steps.require_reason(reason)
    with session_scope(settings) as session:
        d = _locked(session, delivery_id)
        if d is None:
            raise NotFound(f"Không có lượt gửi văn bản số {delivery_id}.", delivery_id=delivery_id)
        if d.status not in (S.FAILED, S.DEAD):
            raise Conflict(f"Lượt gửi số {delivery_id} không ở trạng thái lỗi (hiện: {d.status}).", delivery_id=delivery_id)
        d.attempts, d.next_attempt_at = 0, now or utcnow()
        audit.transition(session, d, S.PENDING, actor=actor, reason=reason.strip(),
                         data={"last_error": d.last_error})


def listing(settings: Settings, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Deliveries, newest first, with their document and last error (the CLI's list)."""
    with session_scope(settings) as session:
        query = select(DocumentDelivery, Document).join(Document, col(Document.id) == col(DocumentDelivery.document_id))
        if status:
            query = query.where(DocumentDelivery.status == status)
        rows = session.exec(query.order_by(col(DocumentDelivery.id).desc()).limit(limit)).all()
        return [{"id": d.id, "status": str(d.status), "document": doc.number, "type": str(doc.doc_type),
                 "channel": d.channel, "to": d.recipient, "attempts": d.attempts, "message_id": d.message_id,
                 "sent_at": d.sent_at.isoformat() if d.sent_at else None, "last_error": d.last_error}
                for d, doc in rows]

"""Receipts attached when a deadline is marked met (a payment slip, a signed delivery note): the one place the console's
deadlines board (``/console/deadlines/{id}/met``) and ``kiemtra deadlines met --receipt FILE`` store them, so both
leave the same audit rows.

* :func:`store_receipt`: the file in the evidence store by its SHA-256 — the same content-addressed store as the
  inspectors' photos (checked: size limit, accepted type, content of that type), so a file sent twice is stored once;
* :func:`record_receipt` / :func:`receipts_of`: the receipt named on the deadline by an audit event
  (``deadline_receipt``) next to the ``deadline_status`` event that
  :func:`services.stages.deadline_changes.mark_met` writes;
* :func:`mark_met_with_receipt`: both steps after ``mark_met``, in the caller's transaction.

It lives with the evidence store (``services.intake``) rather than in ``services.stages``: the stages may not import
the intake package (tests/unit/test_import_graph.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from hashlib import sha256

from sqlmodel import Session, col, select

from models import AuditEvent, Deadline
from services import audit
from services.intake.evidence import EvidenceStore, check_type
from services.intake.logic import safe_name
from services.settings import Settings
from services.stages import deadline_changes, national_report

RECEIPT_ACTION = "deadline_receipt"


@dataclass(frozen=True)
class Receipt:
    sha256: str
    size: int
    content_type: str
    name: str
    actor: str = ""


@dataclass(frozen=True)
class ReceiptFile:
    """A receipt as it arrives (an upload, a file read by the CLI)."""
    data: bytes
    name: str
    content_type: str


def store_receipt(settings: Settings, *, data: bytes, name: str, content_type: str) -> Receipt:
    """The file in the evidence store (checked: size limit, accepted type, content of that type); a file already
    there with this SHA-256 is kept, not written twice."""
    check_type(content_type, declared=content_type, allowed=settings.evidence_types)
    digest = sha256(data).hexdigest()
    with EvidenceStore.from_settings(settings).writer(sha256=digest, size=len(data), content_type=content_type,
                                                      max_bytes=settings.evidence_max_bytes) as writer:
        writer.write(data)
        writer.commit()
    return Receipt(sha256=digest, size=len(data), content_type=content_type.split(";")[0].strip().lower(),
                   name=safe_name(name) or "bien-lai")


def record_receipt(session: Session, deadline: Deadline, receipt: Receipt, *, actor: str, reason: str) -> None:
    """Names the receipt on the deadline (an audit event; the download checks it)."""
    audit.record(session, actor=actor, action=RECEIPT_ACTION, entity=deadline, reason=reason.strip()[:1000],
                 data={"sha256": receipt.sha256, "size": receipt.size, "content_type": receipt.content_type,
                       "name": receipt.name})


def receipts_of(session: Session, deadline_id: int) -> list[Receipt]:
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "deadline",
                                                   AuditEvent.entity_id == deadline_id,
                                                   AuditEvent.action == RECEIPT_ACTION).order_by(col(AuditEvent.id))).all()
    return [Receipt(sha256=e.data["sha256"], size=int(e.data["size"]), content_type=e.data["content_type"],
                    name=e.data["name"], actor=e.actor) for e in events]


def mark_met_with_receipt(session: Session, settings: Settings, deadline_id: int, on: date, *, actor: str, reason: str,
                          sent_by: str | None = None, receipt: ReceiptFile | None = None) -> tuple[Deadline, Receipt | None]:
    """``deadline_changes.mark_met``, then the receipt (if any) stored and named on the deadline; the caller commits
    (a refused file leaves the deadline open)."""
    deadline = deadline_changes.mark_met(session, deadline_id, on, actor=actor, reason=reason, sent_by=sent_by)
    if receipt is None:
        return deadline, None
    stored = store_receipt(settings, data=receipt.data, name=receipt.name, content_type=receipt.content_type)
    record_receipt(session, deadline, stored, actor=actor, reason=reason)
    national_report.payment_received(session, deadline, paid_on=on, actor=actor, reason=reason, sha256=stored.sha256,
                                     name=stored.name, content_type=stored.content_type)  # paid: "executed" (NĐ 20/2016)
    return deadline, stored

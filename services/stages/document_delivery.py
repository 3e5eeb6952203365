"""Sending the queued records and decisions to the violators (the queue: :mod:`services.delivery.document_delivery`).

Each delivery is claimed in a short transaction, sent with no transaction open, and its answer recorded in a second
one. A decision the mail server accepted meets the sending deadline (Luật XLVPHC Art.70 cl.2 c as amended by Luật
88/2025: "gửi bằng phương thức điện tử", 03 working days) in that second transaction, the delivery named as the
evidence; sending it any other way is still confirmed by a person (:func:`services.stages.deadline_changes.mark_met`).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import Session

from models import Deadline, DeadlineKind, DeadlineStatus, Document, DocumentDelivery, DocumentDeliveryStatus, DocumentType
from models import Inspection
from models.base import id_of, utcnow
from services import audit
from services.delivery import document_delivery as queue
from services.delivery.channels import Channel, ChannelError, SmtpChannel, SmtpConfig
from services.rules.calendar import today_in_vietnam
from services.rules.deadline_rules import SendMethod
from services.settings import Settings
from services.stages.common import StageResult
from services.stages.deadline_changes import mark_met
from services.stages.deadlines import ensure_deadline

STAGE = "deliver-documents"


def deliver(settings: Settings, *, channel: Channel | None = None, now: datetime | None = None,
            limit: int = 200) -> StageResult:
    """The stage: send what is due through ``channel`` (by default SMTP from the settings; kept pending while no
    server is configured)."""
    result = StageResult(STAGE, "*")
    if channel is None:
        if not settings.smtp_host:
            result.details = {"smtp": "chưa cấu hình KIEMTRA_SMTP_HOST: văn bản được giữ chờ gửi"}
            return result
        channel = SmtpChannel(SmtpConfig.from_settings(settings))
    now = now or utcnow()
    unknown = queue.reap_stale(settings, now=now)
    outcomes: Counter[str] = Counter()
    for delivery_id in queue.due_ids(settings, channel=channel.name, now=now, limit=limit):
        claimed = queue.claim(settings, delivery_id, now=max(now, utcnow()))
        if claimed is None:  # another run took it
            continue
        try:  # no transaction open here
            outcome: queue.Outcome = channel.send(queue.outgoing(settings, claimed))
        except (ChannelError, queue.IssuedFileMismatch) as exc:
            outcome = exc
        outcomes[queue.record(settings, claimed, outcome, on_sent=send_decision_met).value] += 1
        if isinstance(outcome, ChannelError) and outcome.server_down:
            break  # no server to talk to: the others wait for the next run instead of each timing out
    result.done = outcomes[DocumentDeliveryStatus.SENT.value]
    result.details = {"retrying": outcomes[DocumentDeliveryStatus.PENDING.value],
                      "failed": outcomes[DocumentDeliveryStatus.FAILED.value],
                      "dead": outcomes[DocumentDeliveryStatus.DEAD.value], "unknown_outcome": unknown}
    return result


def send_decision_met(session: Session, delivery: DocumentDelivery) -> Deadline | None:
    """A decision delivered by e-mail meets its sending deadline (created first if the sweep has not yet made it),
    with the delivery as evidence; None for a record, or when the deadline is already closed."""
    document = session.get(Document, delivery.document_id)
    if document is None or document.doc_type != DocumentType.SANCTION_DECISION or document.issued_on is None:
        return None
    inspection = session.get(Inspection, delivery.inspection_id)
    assert inspection is not None
    deadline = ensure_deadline(session, kind=DeadlineKind.SEND_DECISION, inspection=inspection,
                               starts_on=document.issued_on)
    if deadline.status != DeadlineStatus.OPEN:
        return None
    on = max(today_in_vietnam(), deadline.starts_on)
    evidence = (f"thư điện tử gửi {delivery.recipient}, Message-ID {delivery.message_id}, quyết định số "
                f"{document.number} (SHA-256 {document.sha256[:16]}…), lượt gửi số {delivery.id}")
    mark_met(session, id_of(deadline), on, actor=queue.DELIVERY_ACTOR, reason=evidence, sent_by=SendMethod.ELECTRONIC)
    audit.record(session, actor=queue.DELIVERY_ACTOR, action="deadline_met_by_delivery", entity=deadline,
                 reason=evidence[:500], data={"delivery_id": delivery.id, "message_id": delivery.message_id,
                                              "document_id": document.id, "sha256": document.sha256,
                                              "recipient": delivery.recipient})
    return deadline

"""Publications to the province portal: queued with the publication, delivered once, in order, with backoff.

:func:`enqueue` stores a message in the caller's transaction (a publication, its amendment by a correcting
decision, its withdrawal). :func:`deliver_pending` sends what is due, one message at a time in three steps —
a short transaction counts the attempt, the portal is called outside any transaction, a second short
transaction records the outcome — so a crash at any point leaves a message that is simply sent again with the
same idempotency key (the portal keeps the first). Nothing signed is stored: each attempt is signed as it is sent,
with the current time and key id (services/clients/portal.py), so a retry hours later is inside the portal's
window. Step 1 also claims the message (its next attempt moves past the send), so two delivery runs at once (an
overlapping schedule, a manual run) never both send it. Per publication, a message waits until the one before it
was delivered (a withdrawal never overtakes its publication). A temporary failure is retried after
``portal_backoff_s`` × 2^(attempts − 1), at most a day (:func:`backoff`: the clients' schedule, services/clients/
retry.py; the three steps, the claim and the backoff are shared with the national database feed:
services/delivery/outbox_steps.py); after ``portal_max_attempts``, or on a permanent refusal, the message is DEAD:
the lead sees it (:func:`dead_messages`) and sends it again (:func:`retry_dead`).

    PENDING ──delivered────────────────────────────▶ DELIVERED
       │  └─PortalUnavailable (attempts < max)──▶ PENDING (next_attempt_at later)
       └────PortalRejected, or attempts reach max──▶ DEAD ──retry_dead──▶ PENDING
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models import Document, Publication
from models.base import id_of, utcnow
from models.portal import PortalEvent, PortalMessage, PortalStatus
from services.delivery import outbox_steps
from services.clients.portal import PortalClient, PortalRejected, PortalUnavailable, ReceiptSender
from services.clients.retry import RetryPolicy
from services.db import session_scope
from services.settings import Settings

PORTAL_ACTOR = "portal"


def enqueue(session: Session, publication: Publication, event: PortalEvent, payload: dict[str, Any]) -> PortalMessage:
    """Queue the next event of a publication (in the caller's transaction, which already decided it happens once:
    a publication row, a withdrawal, a restoration). The key numbers the publication's events, so each event has
    its own key and the portal keeps each once however often it is sent."""
    session.get(Publication, publication.id, with_for_update=True)  # one numbering at a time per publication
    n = len(session.exec(select(PortalMessage.id).where(PortalMessage.publication_id == publication.id)).all()) + 1
    now = utcnow()
    message = PortalMessage(idempotency_key=f"outcome:{publication.id}:{n}:{event}", publication_id=id_of(publication),
                            event=event, payload=payload, not_before=now, next_attempt_at=now)
    session.add(message)
    session.flush()
    return message


PortalReport = outbox_steps.Report  # waiting: not yet due, or behind an undelivered message of the same publication


def _due(settings: Settings, now: datetime) -> tuple[list[int], int]:
    """What may be sent now: per inspection (a publication and the corrections that replace it are one stream),
    in order, each message waiting for the one before it to be delivered."""
    with session_scope(settings) as session:
        stream = (select(PortalMessage, Document.inspection_id)
                  .join(Publication, col(Publication.id) == col(PortalMessage.publication_id))
                  .join(Document, col(Document.id) == col(Publication.document_id)))
        pending = session.exec(stream.where(PortalMessage.status == PortalStatus.PENDING).order_by(col(PortalMessage.id))).all()
        blocked = set(session.exec(select(Document.inspection_id).join(Publication, col(Publication.document_id) == col(Document.id))
                                   .join(PortalMessage, col(PortalMessage.publication_id) == col(Publication.id))
                                   .where(PortalMessage.status == PortalStatus.DEAD)).all())
        due: list[int] = []
        waiting = 0
        for m, inspection_id in pending:
            if inspection_id in blocked or m.next_attempt_at > now:
                waiting += 1
            else:
                due.append(id_of(m))
            blocked.add(inspection_id)  # later events of this inspection wait for this one
        return due, waiting


def _lane(settings: Settings) -> outbox_steps.Lane:
    def mark_done(m: PortalMessage, sent: outbox_steps.Sent) -> None:
        m.portal_ref, m.delivered_at = sent.ref, utcnow()

    return outbox_steps.Lane(model=PortalMessage, done=PortalStatus.DELIVERED, actor=PORTAL_ACTOR, prefix="portal",
                             max_attempts=settings.portal_max_attempts, backoff_s=settings.portal_backoff_s,
                             timeout_s=settings.portal_timeout_s, mark_done=mark_done,
                             duplicate_vi=" (cổng đã có, không tạo lại)", name_vi="tin gửi cổng thông tin")


def backoff(settings: Settings) -> RetryPolicy:
    """The wait after a temporary failure: the clients' schedule on the portal's scale, without jitter (one sender,
    runs minutes apart: nothing to spread)."""
    return _lane(settings).policy


def attempt_with(client: ReceiptSender) -> outbox_steps.Attempt:
    """One call of ``client`` as the shared steps read it: a receipt, or a failure that is permanent or not."""
    def attempt(key: str, event: str, payload: dict[str, Any]) -> outbox_steps.Sent | outbox_steps.Failed:
        try:
            receipt = client.send(key, event, payload)
        except PortalRejected as exc:
            return outbox_steps.Failed(exc.message, permanent=True)
        except PortalUnavailable as exc:
            return outbox_steps.Failed(exc.message, permanent=False)
        return outbox_steps.Sent(receipt.ref, receipt.duplicate)
    return attempt


def deliver_pending(settings: Settings, client: PortalClient, *, now: datetime | None = None) -> PortalReport:
    now = now or utcnow()
    due, waiting = _due(settings, now)
    tally = outbox_steps.send_due(settings, _lane(settings), due, now, attempt_with(client))
    return PortalReport.of(tally, waiting)


def dead_messages(settings: Settings) -> list[dict[str, Any]]:
    """What the lead must look at: messages the portal never took."""
    with session_scope(settings) as session:
        rows = session.exec(select(PortalMessage, Publication)
                            .join(Publication, col(Publication.id) == col(PortalMessage.publication_id))
                            .where(PortalMessage.status == PortalStatus.DEAD).order_by(col(PortalMessage.id))).all()
        return [{"id": m.id, "event": str(m.event), "decision": p.payload.get("so_quyet_dinh"), "attempts": m.attempts,
                 "last_error": m.last_error} for m, p in rows]


def retry_dead(settings: Settings, message_id: int, *, actor: str, reason: str, now: datetime | None = None) -> None:
    outbox_steps.retry_dead(settings, _lane(settings), message_id, actor=actor, reason=reason, now=now)

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
retry.py); after ``portal_max_attempts``, or on a permanent refusal, the message is DEAD: the lead sees it
(:func:`dead_messages`) and sends it again (:func:`retry_dead`).

    PENDING ──delivered────────────────────────────▶ DELIVERED
       │  └─PortalUnavailable (attempts < max)──▶ PENDING (next_attempt_at later)
       └────PortalRejected, or attempts reach max──▶ DEAD ──retry_dead──▶ PENDING
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models import Document, Publication
from models.base import id_of, utcnow
from models.portal import PortalEvent, PortalMessage, PortalStatus
from services import audit
from services.clients.portal import PortalClient, PortalRejected, PortalUnavailable
from services.clients.retry import RetryPolicy
from services.db import session_scope
from services.errors import Conflict, NotFound
from services.settings import Settings

PORTAL_ACTOR = "portal"
MAX_BACKOFF = timedelta(days=1)


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


@dataclass(frozen=True)
class PortalReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    waiting: int = 0  # not yet due, or behind an undelivered message of the same publication


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


def backoff(settings: Settings) -> RetryPolicy:
    """The wait after a temporary failure: the clients' schedule on the portal's scale, without jitter (one sender,
    runs minutes apart: nothing to spread)."""
    return RetryPolicy(attempts=settings.portal_max_attempts, initial_s=settings.portal_backoff_s,
                       max_s=MAX_BACKOFF.total_seconds(), jitter_s=0.0)


def _claim(settings: Settings) -> timedelta:
    """How long a message counted in step 1 stays claimed by its run (longer than one send; a crashed run's
    message is sent again after it)."""
    return timedelta(seconds=max(60.0, 3 * settings.portal_timeout_s))


def deliver_pending(settings: Settings, client: PortalClient, *, now: datetime | None = None) -> PortalReport:
    now = now or utcnow()
    due, waiting = _due(settings, now)
    delivered = retrying = dead = 0
    for message_id in due:
        moment = max(now, utcnow())  # a long run: claims and backoffs count from the send, not the run's start
        with session_scope(settings) as session:  # 1. count the attempt before sending
            m = session.get(PortalMessage, message_id, with_for_update=True)
            if m is None or m.status != PortalStatus.PENDING or m.next_attempt_at > now:
                continue  # another delivery run took it (or it is no longer due)
            if m.attempts >= settings.portal_max_attempts:  # every attempt so far ended without an outcome (a crash)
                m.status, m.last_error = PortalStatus.DEAD, f"{m.attempts} lần gửi không ghi được kết quả"
                audit.record(session, actor=PORTAL_ACTOR, action="portal_dead", entity=m, reason=m.last_error)
                dead += 1
                continue
            m.attempts += 1
            m.next_attempt_at = moment + _claim(settings)  # claimed: a run at the same time skips it until the outcome
            session.add(m)
            key, event, payload, attempts = m.idempotency_key, str(m.event), dict(m.payload), m.attempts
        try:  # 2. outside any transaction
            receipt = client.send(key, event, payload)
            error, permanent = None, False
        except PortalRejected as exc:
            receipt, error, permanent = None, exc.message, True
        except PortalUnavailable as exc:
            receipt, error, permanent = None, exc.message, False
        with session_scope(settings) as session:  # 3. the outcome
            m = session.get(PortalMessage, message_id, with_for_update=True)
            assert m is not None
            if m.status != PortalStatus.PENDING:  # another run recorded it meanwhile (its claim had run out)
                continue
            if receipt is not None:
                m.status, m.portal_ref, m.delivered_at, m.last_error = PortalStatus.DELIVERED, receipt.ref, utcnow(), ""
                audit.record(session, actor=PORTAL_ACTOR, action="portal_delivered", entity=m,
                             reason=f"{event} → {receipt.ref}" + (" (cổng đã có, không tạo lại)" if receipt.duplicate else ""),
                             data={"attempts": attempts, "key": key})
                delivered += 1
            elif permanent or attempts >= settings.portal_max_attempts:
                m.status, m.last_error = PortalStatus.DEAD, (error or "")[:1000]
                audit.record(session, actor=PORTAL_ACTOR, action="portal_dead", entity=m, reason=error or "",
                             data={"attempts": attempts, "key": key})
                dead += 1
            else:
                delay = timedelta(seconds=backoff(settings).delay(attempts))
                m.next_attempt_at, m.last_error = moment + delay, (error or "")[:1000]
                retrying += 1
            session.add(m)
    return PortalReport(delivered, retrying, dead, waiting)


def dead_messages(settings: Settings) -> list[dict[str, Any]]:
    """What the lead must look at: messages the portal never took."""
    with session_scope(settings) as session:
        rows = session.exec(select(PortalMessage, Publication)
                            .join(Publication, col(Publication.id) == col(PortalMessage.publication_id))
                            .where(PortalMessage.status == PortalStatus.DEAD).order_by(col(PortalMessage.id))).all()
        return [{"id": m.id, "event": str(m.event), "decision": p.payload.get("so_quyet_dinh"), "attempts": m.attempts,
                 "last_error": m.last_error} for m, p in rows]


def retry_dead(settings: Settings, message_id: int, *, actor: str, reason: str, now: datetime | None = None) -> None:
    with session_scope(settings) as session:
        m = session.get(PortalMessage, message_id)
        if m is None:
            raise NotFound(f"Không có tin gửi cổng thông tin số {message_id}.", message_id=message_id)
        if m.status != PortalStatus.DEAD:
            raise Conflict(f"Tin số {message_id} không ở trạng thái gửi lỗi (hiện: {m.status}).", message_id=message_id)
        audit.record(session, actor=actor, action="portal_retry", entity=m, reason=reason or "Gửi lại",
                     from_state=str(m.status), to_state=str(PortalStatus.PENDING), data={"after_attempts": m.attempts})
        m.status, m.attempts, m.next_attempt_at = PortalStatus.PENDING, 0, now or utcnow()
        session.add(m)

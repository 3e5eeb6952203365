"""Notifications: queued once per idempotency key, delivered through the gateway, never twice.

:func:`enqueue` stores a message inside the caller's transaction. :func:`deliver_pending` sends what is
PENDING, one notification at a time, in three steps: a short transaction counts the attempt; the gateway
is called outside any transaction (on SQLite a transaction holds the write lock); a second short
transaction records the outcome and audits it when final. The gateway receives the notification's own
idempotency key on every attempt, so a message whose answer was lost (or whose outcome a crash kept from
being recorded) is re-sent and deduplicated by the gateway, not delivered again. Counting the attempt
before sending means even a message that crashes the worker every time ends FAILED after
``settings.notify_max_attempts`` rounds instead of being retried for ever.

    PENDING ──sent──────────────────────────────────▶ DELIVERED
       │  └─GatewayUnavailable (attempts < max)──▶ PENDING (last_error)
       └────GatewayRejected, or attempts reach max──▶ FAILED ──retry_failed──▶ PENDING
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlmodel import Session, col, select

from models import Contact, DeliveryStatus, Notification
from models.base import table_of, utcnow
from services import audit
from services.clients.gateway import (CHANNELS, GatewayClient, GatewayReceipt, GatewayRejected, GatewayUnavailable,
                                      OutgoingMessage, as_channel)
from services.db import session_scope, upsert_insert
from services.errors import Conflict
from services.settings import Settings

__all__ = ["DELIVERY_ACTOR", "DeliveryReport", "contact_of", "deliver_pending", "enqueue", "reach", "retry_failed"]

DELIVERY_ACTOR = "gateway"  # the audit actor of delivery outcomes (no person decides them)
_CONTENT = ("campaign_id", "inspection_id", "kind", "recipient_kind", "recipient_ref", "channel", "address", "subject", "body")


@dataclass(frozen=True)
class DeliveryReport:
    """What one :func:`deliver_pending` run did: notifications delivered, left pending, marked failed."""

    delivered: int = 0
    pending: int = 0
    failed: int = 0


def contact_of(session: Session, owner_kind: str, owner_ref: str) -> Contact | None:
    """A person's (by code) or an establishment's (by tax code) contact details."""
    return session.exec(select(Contact).where(Contact.owner_kind == owner_kind, Contact.owner_ref == owner_ref)).first()


def reach(contact: Contact | None) -> tuple[str, str] | None:
    """How a message reaches them: e-mail when there is one, else SMS; None when neither is known."""
    if contact is None:
        return None
    return ("email", contact.email) if contact.email else (("sms", contact.phone) if contact.phone else None)


def enqueue(session: Session, *, key: str, campaign_id: int, inspection_id: int | None, kind: str, recipient_kind: str,
            recipient_ref: str, channel: str, address: str, subject: str, body: str) -> Notification:
    """Queue a message once per ``key`` (in the caller's transaction, no commit).

    The same key again returns the stored row unchanged; with different content it raises :class:`Conflict`.
    """
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, not {channel!r}")
    content = {"campaign_id": campaign_id, "inspection_id": inspection_id, "kind": kind, "recipient_kind": recipient_kind,
               "recipient_ref": recipient_ref, "channel": channel, "address": address.strip(),
               "subject": unicodedata.normalize("NFC", subject), "body": unicodedata.normalize("NFC", body)}
    # INSERT … ON CONFLICT DO NOTHING: two writers racing on one key store one row, neither fails.
    table = table_of(Notification)
    row = {**content, "idempotency_key": key, "status": DeliveryStatus.PENDING.value, "attempts": 0, "last_error": "",
           "created_at": utcnow()}
    session.execute(upsert_insert(session, table).values(**row).on_conflict_do_nothing(index_elements=["idempotency_key"]))
    stored = session.exec(select(Notification).where(Notification.idempotency_key == key)).one()
    differing = [name for name in _CONTENT if getattr(stored, name) != content[name]]
    if differing:
        raise Conflict(f"Khóa thông báo {key} đã dùng cho một thông báo khác (khác ở: {', '.join(differing)}).",
                       key=key, notification_id=stored.id)
    return stored


def deliver_pending(settings: Settings, client: GatewayClient, *, campaign_id: int | None = None,
                    limit: int = 500) -> DeliveryReport:
    """Send PENDING notifications, oldest first; a DELIVERED one is never sent again."""
    outcomes: list[DeliveryStatus] = []
    for notification_id in _pending_ids(settings, campaign_id=campaign_id, limit=limit):
        claimed = _claim(settings, notification_id)
        if not isinstance(claimed, OutgoingMessage):  # None: no longer pending (another worker, or the lead)
            outcomes += [claimed] if claimed else []
            continue
        try:
            outcome: GatewayReceipt | GatewayUnavailable | GatewayRejected = client.send(claimed)
        except (GatewayUnavailable, GatewayRejected) as exc:
            outcome = exc
        with session_scope(settings) as session:
            outcomes.append(_record(session, settings, notification_id, outcome))
    return DeliveryReport(delivered=outcomes.count(DeliveryStatus.DELIVERED), pending=outcomes.count(DeliveryStatus.PENDING),
                          failed=outcomes.count(DeliveryStatus.FAILED))


def retry_failed(settings: Settings, *, campaign_id: int, actor: str) -> int:
    """Put the campaign's FAILED notifications back to PENDING with a fresh budget of attempts; returns how many."""
    with session_scope(settings) as session:
        rows = session.exec(select(Notification).where(Notification.campaign_id == campaign_id,
                                                       Notification.status == DeliveryStatus.FAILED)).all()
        for notification in rows:
            audit.record(session, actor=actor, action="notification_retry", entity=notification,
                         from_state=DeliveryStatus.FAILED.value, to_state=DeliveryStatus.PENDING.value,
                         reason="Gửi lại thông báo không gửi được",
                         data={"attempts": notification.attempts, "last_error": notification.last_error})
            notification.status, notification.attempts, notification.last_error = DeliveryStatus.PENDING, 0, ""
            session.add(notification)
        return len(rows)


def _pending_ids(settings: Settings, *, campaign_id: int | None, limit: int) -> list[int]:
    query = select(Notification.id).where(Notification.status == DeliveryStatus.PENDING)
    if campaign_id is not None:
        query = query.where(Notification.campaign_id == campaign_id)
    with session_scope(settings) as session:
        return [i for i in session.exec(query.order_by(col(Notification.created_at), col(Notification.id)).limit(limit))
                if i is not None]  # a primary key: never NULL


def _claim(settings: Settings, notification_id: int) -> OutgoingMessage | DeliveryStatus | None:
    """Count one attempt, in its own transaction, and return the message to send.

    None if the notification is no longer pending; FAILED if its attempts ran out without an outcome being
    recorded (the worker stopped between sending and recording, every time).
    """
    with session_scope(settings) as session:
        n = session.exec(select(Notification).where(Notification.id == notification_id).with_for_update()).one()
        if n.status != DeliveryStatus.PENDING:
            return None
        if n.attempts >= settings.notify_max_attempts:
            n.last_error = f"Đã thử gửi {n.attempts} lần mà không ghi nhận được kết quả"
            return _finish(session, n, DeliveryStatus.FAILED, reason=n.last_error)
        n.attempts += 1
        session.add(n)
        return OutgoingMessage(idempotency_key=n.idempotency_key, channel=as_channel(n.channel),
                               to=n.address, subject=n.subject, body=n.body)


def _record(session: Session, settings: Settings, notification_id: int,
            outcome: GatewayReceipt | GatewayUnavailable | GatewayRejected) -> DeliveryStatus:
    n = session.exec(select(Notification).where(Notification.id == notification_id).with_for_update()).one()
    if n.status == DeliveryStatus.DELIVERED:  # another worker recorded it first: nothing to add
        return DeliveryStatus.DELIVERED
    if isinstance(outcome, GatewayReceipt):
        n.gateway_message_id, n.delivered_at = outcome.message_id, utcnow()
        return _finish(session, n, DeliveryStatus.DELIVERED, reason=f"Cổng gửi đã nhận thông báo (mã {outcome.message_id})")
    n.last_error = outcome.message[:1000]
    if isinstance(outcome, GatewayRejected) or n.attempts >= settings.notify_max_attempts:
        return _finish(session, n, DeliveryStatus.FAILED, reason=n.last_error)
    session.add(n)
    return DeliveryStatus(n.status)  # still PENDING: the next round tries again


def _finish(session: Session, n: Notification, to: DeliveryStatus, *, reason: str) -> DeliveryStatus:
    """The final outcome of a delivery round, audited."""
    before = DeliveryStatus(n.status)
    n.status = to
    session.add(n)
    audit.record(session, actor=DELIVERY_ACTOR, action=f"notification_{to.value}", entity=n, reason=reason,
                 from_state=before.value, to_state=to.value,
                 data={"attempts": n.attempts, "channel": n.channel, "gateway_message_id": n.gateway_message_id})
    return to

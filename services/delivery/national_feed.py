"""The national database feed's queue: one message per event of a sanction decision, queued in the transaction that
made the event happen, delivered once through a pluggable transport (services/clients/national_feed.py).

:func:`queue_decision` stores a message (issued, replaced, annulled, executed) keyed by the decision document and the
event: the same event of the same decision is queued once however often its transaction's step is re-run.
:func:`deliver_pending` sends what is due with the portal outbox's steps (services/delivery/outbox_steps.py: claim,
send outside any transaction, record; backoff; dead letter), in order per inspection (a replacement never overtakes
the decision it replaces), and keeps every attempt (``NationalFeedAttempt``: time and outcome). While no receiver is
configured (:func:`feed_off_reason`), messages stay pending.

    PENDING ──2xx / 409──────────────────────────▶ SENT
       │  └─timeout, 5xx, 429 (attempts < max)──▶ PENDING (next_attempt_at later)
       └────4xx, or attempts reach max──────────▶ DEAD ──retry_dead──▶ PENDING
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from models import (Agency, Campaign, Document, Establishment, FeedEvent, FeedStatus, Inspection, NationalFeedAttempt,
                    NationalFeedMessage, Person, Violation)
from models.base import id_of, utcnow
from services.clients.national_feed import FeedTransport
from services.db import session_scope
from services.delivery import outbox_steps
from services.delivery.national_payload import Decider, Execution, decider_of, decision_message
from services.delivery.portal import attempt_with
from services.registry.geo import province_area
from services.rules.fines import load_fine_table
from services.rules.procedure import procedure_for
from services.rules.sanctions import decision_authority, issuing_body
from services.settings import Settings

FEED_ACTOR = "national-feed"


def feed_off_reason(settings: Settings) -> str | None:
    """Why the feed does not send (Vietnamese), or None when a receiver is configured."""
    secret = settings.national_feed_secret
    if not settings.national_feed_url or secret is None or not secret.get_secret_value().strip():
        return ("chưa cấu hình KIEMTRA_NATIONAL_FEED_URL / KIEMTRA_NATIONAL_FEED_SECRET: tin gửi Cơ sở dữ liệu quốc gia "
                "về xử lý vi phạm hành chính được giữ chờ gửi")
    return None


def message_key(document_id: int, event: FeedEvent) -> str:
    return f"national:{document_id}:{event}"


def _decider(session: Session, inspection: Inspection, violations: list[Violation], decided_on: date) -> Decider:
    """The deciding official, title and body, as the decision was issued (services/stages/sanctions.py)."""
    campaign = session.get(Campaign, inspection.campaign_id)
    establishment = session.get(Establishment, inspection.establishment_id)
    agency = session.get(Agency, campaign.lead_agency_id) if campaign else None
    official = session.get(Person, violations[0].decided_by_id)
    assert establishment is not None and agency is not None and official is not None
    procedure = procedure_for(decided_on)
    authority = decision_authority([v.range_max for v in violations], organisation=establishment.is_organisation,
                                   decided_on=decided_on, procedure=procedure, person_title=official.title)
    assert authority.competence is not None
    issuer = issuing_body(authority.signer, area_vi=province_area(agency.province_code),
                          labour_department_vi=procedure.labour_department_vi, department_code=agency.code,
                          province_code=agency.province_code, place=agency.place, department_parent_vi=agency.parent_name)
    return decider_of(official, authority.competence.signature_lines, issuer)


def build_payload(session: Session, decision: Document, event: FeedEvent, *, reason_vi: str = "",
                  execution: Execution | None = None) -> dict[str, Any]:
    """The message of ``event`` for ``decision`` from what is stored (acts, amounts, party, decider)."""
    inspection = session.get(Inspection, decision.inspection_id)
    assert inspection is not None and decision.issued_on is not None
    establishment = session.get(Establishment, inspection.establishment_id)
    assert establishment is not None
    violations = list(session.exec(select(Violation).where(Violation.inspection_id == inspection.id)
                                   .order_by(col(Violation.id))).all())
    table = load_fine_table()
    replaces = session.get(Document, decision.supersedes_id) if decision.supersedes_id else None
    return decision_message(event=str(event), key=message_key(id_of(decision), event), decision=decision,
                            establishment=establishment, violations=violations,
                            rules={v.provision_code: table.get(v.provision_code) for v in violations},
                            decider=_decider(session, inspection, violations, decision.issued_on),
                            procedure=procedure_for(decision.issued_on), replaces=replaces, reason_vi=reason_vi,
                            execution=execution)


def queue_decision(session: Session, decision: Document, event: FeedEvent, *, reason_vi: str = "",
                   execution: Execution | None = None) -> NationalFeedMessage:
    """Queue one event of one decision in the caller's transaction; the one already queued when there is one."""
    key = message_key(id_of(decision), event)
    queued = session.exec(select(NationalFeedMessage).where(NationalFeedMessage.idempotency_key == key)).first()
    if queued is not None:
        return queued
    assert decision.inspection_id is not None
    message = NationalFeedMessage(idempotency_key=key, document_id=id_of(decision), inspection_id=decision.inspection_id,
                                  event=event, next_attempt_at=utcnow(),
                                  payload=build_payload(session, decision, event, reason_vi=reason_vi, execution=execution))
    session.add(message)
    session.flush()
    return message


FeedReport = outbox_steps.Report  # waiting: not yet due, or behind an unsent message of the same inspection


def _due(settings: Settings, now: datetime) -> tuple[list[int], int]:
    with session_scope(settings) as session:
        pending = session.exec(select(NationalFeedMessage).where(NationalFeedMessage.status == FeedStatus.PENDING)
                               .order_by(col(NationalFeedMessage.id))).all()
        blocked = set(session.exec(select(NationalFeedMessage.inspection_id)
                                   .where(NationalFeedMessage.status == FeedStatus.DEAD)).all())
        due: list[int] = []
        waiting = 0
        for m in pending:
            if m.inspection_id in blocked or m.next_attempt_at > now:
                waiting += 1
            else:
                due.append(id_of(m))
            blocked.add(m.inspection_id)  # later events of this inspection wait for this one
        return due, waiting


def _log_attempt(session: Session, m: NationalFeedMessage, attempt: int, outcome: str, detail: str) -> None:
    session.add(NationalFeedAttempt(message_id=id_of(m), attempt=attempt, at=utcnow(), outcome=outcome,
                                    detail=detail[:1000]))


def _mark_sent(m: NationalFeedMessage, sent: outbox_steps.Sent) -> None:
    m.receiver_ref, m.sent_at = sent.ref[:128], utcnow()


def lane(settings: Settings) -> outbox_steps.Lane:
    return outbox_steps.Lane(model=NationalFeedMessage, done=FeedStatus.SENT, actor=FEED_ACTOR, prefix="national_feed",
                             max_attempts=settings.national_feed_max_attempts, backoff_s=settings.national_feed_backoff_s,
                             timeout_s=settings.national_feed_timeout_s, mark_done=_mark_sent,
                             duplicate_vi=" (cơ sở dữ liệu quốc gia đã có, không tạo lại)",
                             name_vi="tin gửi cơ sở dữ liệu quốc gia", log_attempt=_log_attempt)


def deliver_pending(settings: Settings, transport: FeedTransport, *, now: datetime | None = None) -> FeedReport:
    now = now or utcnow()
    due, waiting = _due(settings, now)
    tally = outbox_steps.send_due(settings, lane(settings), due, now, attempt_with(transport))
    return FeedReport.of(tally, waiting)


def retry_dead(settings: Settings, message_id: int, *, actor: str, reason: str, now: datetime | None = None) -> None:
    outbox_steps.retry_dead(settings, lane(settings), message_id, actor=actor, reason=reason, now=now)


def messages(settings: Settings, *, status: FeedStatus | None = None) -> list[dict[str, Any]]:
    """The queue as the lead reads it (the CLI's list): id, event, decision, state, attempts, last error."""
    with session_scope(settings) as session:
        query = select(NationalFeedMessage, Document).join(Document, col(Document.id) == NationalFeedMessage.document_id)
        if status is not None:
            query = query.where(NationalFeedMessage.status == status)
        rows = session.exec(query.order_by(col(NationalFeedMessage.id))).all()
        return [{"id": m.id, "event": str(m.event), "decision": d.number, "status": str(m.status), "attempts": m.attempts,
                 "last_error": m.last_error, "receiver_ref": m.receiver_ref or "", "key": m.idempotency_key}
                for m, d in rows]


def counts(session: Session, campaign_id: int | None = None) -> dict[str, int]:
    """Messages per state (of one campaign, or all)."""
    query = select(NationalFeedMessage.status)
    if campaign_id is not None:
        query = query.join(Inspection, col(Inspection.id) == NationalFeedMessage.inspection_id).where(
            Inspection.campaign_id == campaign_id)
    states = [str(s) for s in session.exec(query).all()]
    return {str(s): states.count(str(s)) for s in FeedStatus}

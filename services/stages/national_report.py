"""Reporting sanction decisions to the national database on handling administrative violations (NĐ 20/2016/NĐ-CP):
the hooks that queue a decision's events in the transaction that made them happen, and the stage that sends them.

- :func:`decision_issued` (called by services/stages/sanctions.py right after the decision is issued): the
  "issued" message, and — while the feed is on — the ``national_report`` deadline: N working days after the
  decision (``national_report_working_days`` of the procedure in force, per province), met when the receiver
  acknowledges the "issued" message, warned and escalated by the sweeper like every other deadline;
- :func:`decision_replaced` (a correcting decision, services/stages/publishing.py's amendment step): "replaced";
- :func:`decision_annulled`: "annulled";
- :func:`payment_received` (a compliance deadline met with a receipt, services/intake/deadline_receipts.py):
  "executed", with the day paid and the receipt;
- :func:`deliver`: the stage of the ``portal-delivery`` flow — sends what is due, closes the reports acknowledged.

While no receiver is configured the messages are queued all the same and wait (the stage says why), and no
deadline is created: the engine does not claim a report it cannot make.
"""
from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models import Agency, Campaign, Deadline, DeadlineKind, Document, DocumentType, FeedEvent, Inspection
from services.delivery import national_feed
from services.delivery.national_payload import Execution
from services.documents.issuing import latest_document
from services.settings import Settings
from services.stages import deadlines
from services.stages.common import StageResult
from services.wiring import Wiring

STAGE = "deliver-to-national-feed"


def _province_of(session: Session, inspection: Inspection) -> str:
    campaign = session.get(Campaign, inspection.campaign_id)
    agency = session.get(Agency, campaign.lead_agency_id) if campaign else None
    return agency.province_code if agency else ""


def decision_issued(session: Session, settings: Settings, decision: Document) -> None:
    """The decision just issued (in its transaction): queued for the national database, and its reporting deadline."""
    event = FeedEvent.REPLACED if decision.supersedes_id else FeedEvent.ISSUED
    national_feed.queue_decision(session, decision, event)
    inspection = session.get(Inspection, decision.inspection_id)
    if national_feed.feed_off_reason(settings) is None and inspection is not None and decision.issued_on is not None:
        deadlines.ensure_deadline(session, kind=DeadlineKind.NATIONAL_REPORT, inspection=inspection,
                                  starts_on=decision.issued_on, province_code=_province_of(session, inspection))


def decision_replaced(session: Session, decision: Document, *, reason: str) -> None:
    """A correcting decision replaced an issued one (in the correction's transaction)."""
    national_feed.queue_decision(session, decision, FeedEvent.REPLACED, reason_vi=reason)


def decision_annulled(session: Session, decision: Document, *, reason: str) -> None:
    national_feed.queue_decision(session, decision, FeedEvent.ANNULLED, reason_vi=reason)


def payment_received(session: Session, deadline: Deadline, *, paid_on: date, actor: str, reason: str,
                     sha256: str, name: str, content_type: str) -> None:
    """A compliance deadline met with a receipt: the decision in force is reported executed (once)."""
    if DeadlineKind(deadline.kind) is not DeadlineKind.COMPLY:
        return
    decision = latest_document(session, doc_type=DocumentType.SANCTION_DECISION, subject_key=deadline.subject_key)
    if decision is None or decision.issued_on is None:
        return
    payload = national_feed.build_payload(session, decision, FeedEvent.EXECUTED)
    execution = Execution(paid_on=paid_on, amount_vnd=int(payload["total_fine_vnd"]), receipt_sha256=sha256,
                          receipt_name=name, receipt_content_type=content_type, confirmed_by=actor, note_vi=reason[:500])
    national_feed.queue_decision(session, decision, FeedEvent.EXECUTED, execution=execution)


def deliver(settings: Settings, campaign_code: str = "*", *, wiring: Wiring | None = None) -> StageResult:
    """Send what is due through the configured transport (kept pending while none is configured)."""
    result = StageResult(STAGE, campaign_code)
    off = national_feed.feed_off_reason(settings)
    if off is not None:
        result.details = {"national_feed": off}
        return result
    with (wiring or Wiring(settings)).national_feed() as client:
        report = national_feed.deliver_pending(settings, client)
    result.done = report.delivered
    result.details = {"retrying": report.retrying, "dead": report.dead, "waiting": report.waiting,
                      "reports_met": deadlines.close_reported(settings)}
    return result

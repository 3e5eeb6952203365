"""The national violations database feed (issue 17, Done-when 5) against the outbox's stand-in receiver on
loopback: a receiver that fails, then stores but answers too late, then succeeds still holds each decision once;
the reporting deadline is warned and escalated while the receiver is down; the payload is the decision's; a bad
signature is refused; a payment with its receipt reports the decision executed.

Dates: the decisions are issued on Tue 12/05/2026 (tests/integration/test_portal.py's world); the national report
is due 03 working days later (Wed 13, Thu 14, Fri 15/05), warned 2 working days before (Wed 13/05) and escalated by
the first sweep after it (Sat 16/05)."""
from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from models import (AuditEvent, Deadline, DeadlineKind, DeadlineStatus, Document, DocumentType, Establishment, FeedEvent,
                    FeedStatus, Inspection, NationalFeedAttempt, NationalFeedMessage, Person, Violation)
from models.base import utcnow
from services.clients.national_feed import CONTRACT, NationalFeedClient
from services.clients.outbox import Outbox, start_outbox
from services.errors import Refused
from services.db import session_scope
from services.delivery import national_feed
from services.intake.deadline_receipts import ReceiptFile, mark_met_with_receipt
from services.settings import Settings
from services.stages import appeals, deadlines, national_report, sanctions
from tests.cases import competent_official, d
from tests.integration.test_portal import sanctioned

SECRET = b"national-feed-test-secret"
PDF = b"%PDF-1.4\n% bien lai thu tien phat\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


CLIENTS: list[httpx.Client] = []  # closed when the test's receiver stops


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Outbox]:
    outbox = start_outbox(tmp_path / "outbox", portal_keys={"k1": b"portal-secret"}, feed_keys={"k1": SECRET})
    try:
        yield outbox
    finally:
        while CLIENTS:
            CLIENTS.pop().close()
        outbox.stop()


@pytest.fixture
def feed_on(settings: Settings, receiver: Outbox) -> Settings:
    """The test's settings with the feed configured (a short client timeout, so the stand-in's late answer times out)."""
    return settings.model_copy(update={"national_feed_url": receiver.url, "national_feed_secret": SecretStr(SECRET.decode()),
                                       "national_feed_timeout_s": 0.3, "national_feed_max_attempts": 4})


def client_for(receiver: Outbox, secret: bytes = SECRET) -> NationalFeedClient:
    """A client whose clock moves a second per attempt: each attempt's signature is new (no replay refusal)."""
    tick = itertools.count()
    CLIENTS.append(httpx.Client(base_url=receiver.url, timeout=0.3))
    return NationalFeedClient(CLIENTS[-1], secret, clock=lambda: time.time() + next(tick))


def feed_messages(settings: Settings) -> list[NationalFeedMessage]:
    with session_scope(settings) as session:
        return list(session.exec(select(NationalFeedMessage).order_by(col(NationalFeedMessage.id))).all())


def deliver_until_done(settings: Settings, client: NationalFeedClient, rounds: int = 6) -> None:
    now = utcnow()
    for _ in range(rounds):
        national_feed.deliver_pending(settings, client, now=now)
        now += timedelta(days=1)  # past any backoff


def test_each_decision_is_stored_once_through_a_failure_a_late_answer_and_a_retry(
        feed_on: Settings, receiver: Outbox) -> None:
    sanctioned(feed_on, 2, publish=False)
    client = client_for(receiver)
    receiver.faults[:] = ["500", "timeout:0.8"]  # the first: refused unstored; the second: stored, answered too late
    report = national_feed.deliver_pending(feed_on, client)
    assert (report.delivered, report.retrying) == (0, 2)
    assert national_feed.deliver_pending(feed_on, client).delivered == 0  # backoff: not due yet
    deliver_until_done(feed_on, client)

    stored = feed_messages(feed_on)
    assert [(m.event, m.status) for m in stored] == [(FeedEvent.ISSUED, FeedStatus.SENT)] * 2
    received = receiver.decisions()
    assert sorted(str(r["idempotency_key"]) for r in received) == sorted(m.idempotency_key for m in stored)
    with session_scope(feed_on) as session:
        numbers = sorted(session.exec(select(Document.number).where(
            Document.doc_type == DocumentType.SANCTION_DECISION)).all())
        attempts = session.exec(select(NationalFeedAttempt.message_id, NationalFeedAttempt.outcome)
                                .order_by(col(NationalFeedAttempt.id))).all()
        delivered = session.exec(select(AuditEvent).where(AuditEvent.action == "national_feed_delivered")).all()
    assert sorted(r["decision"]["number"] for r in received) == numbers  # type: ignore[index]
    first, second = (m.id for m in stored)
    assert [o for i, o in attempts if i == first] == ["retry", "sent"]
    assert [o for i, o in attempts if i == second] == ["retry", "duplicate"]  # the receiver had it: 409, delivered
    assert len(delivered) == 2 and any("đã có, không tạo lại" in e.reason for e in delivered)


def test_the_report_deadline_is_warned_and_escalated_while_the_receiver_is_down(feed_on: Settings, receiver: Outbox) -> None:
    [inspection_id] = sanctioned(feed_on, 1, publish=False)
    with session_scope(feed_on) as session:
        report = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.NATIONAL_REPORT)).one()
    assert (report.starts_on, report.due_on) == (d(12, 5), d(15, 5))
    assert "03 ngày làm việc" in report.basis_vi and "20/2016/NĐ-CP" in report.basis_vi
    client = client_for(receiver)
    day, now = d(12, 5), utcnow()
    while day <= d(18, 5):  # the receiver answers 500 to every attempt, the sweeper runs every day
        receiver.faults[:] = ["500"]
        national_feed.deliver_pending(feed_on, client, now=now)
        deadlines.sweep(feed_on, day)
        day, now = day + timedelta(days=1), now + timedelta(hours=6)
    with session_scope(feed_on) as session:
        report = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.NATIONAL_REPORT)).one()
        events = session.exec(select(AuditEvent.action, AuditEvent.data).where(
            AuditEvent.entity_type == "deadline", AuditEvent.entity_id == report.id,
            col(AuditEvent.action).in_(["deadline_warning", "deadline_escalated"])).order_by(col(AuditEvent.id))).all()
    assert report.status == DeadlineStatus.OPEN and report.escalated_on == d(16, 5)
    assert [(a, data["on"]) for a, data in events] == [("deadline_warning", "2026-05-13"),
                                                       ("deadline_escalated", "2026-05-16")]
    [message] = feed_messages(feed_on)
    assert message.status == FeedStatus.DEAD and message.attempts == 4 and "500" in message.last_error  # for the lead
    # sending again is a person's decision with its reason: a blank one is refused and nothing changes
    with pytest.raises(Refused, match="Phải ghi lý do gửi lại"):
        national_feed.retry_dead(feed_on, message.id or 0, actor="SNV-LEAD", reason="  ")
    assert feed_messages(feed_on)[0].status == FeedStatus.DEAD
    # the receiver is back, the lead sends it again: taken once, the deadline closes (late: the escalation stays)
    national_feed.retry_dead(feed_on, message.id or 0, actor="SNV-LEAD", reason="Cơ sở dữ liệu quốc gia hoạt động lại")
    deliver_until_done(feed_on, client)
    assert deadlines.close_reported(feed_on) == 1
    with session_scope(feed_on) as session:
        report = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.NATIONAL_REPORT)).one()
    assert report.status == DeadlineStatus.MET and len(receiver.decisions()) == 1
    assert report.inspection_id == inspection_id


def test_the_payload_is_the_decisions_content(feed_on: Settings) -> None:
    [inspection_id] = sanctioned(feed_on, 1, publish=False)
    [message] = feed_messages(feed_on)
    payload = message.payload
    with session_scope(feed_on) as session:
        decision = session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION)).one()
        violations = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)
                                  .order_by(col(Violation.id))).all()
        inspection = session.get(Inspection, inspection_id)
        assert inspection is not None
        establishment = session.get(Establishment, inspection.establishment_id)
        official = session.get(Person, violations[0].decided_by_id)
    assert establishment is not None and official is not None
    assert payload["contract"] == CONTRACT == "kiemtra-national-feed/1"
    assert (payload["event"], payload["message_key"]) == ("issued", f"national:{decision.id}:issued")
    assert payload["decision"]["number"] == decision.number and payload["decision"]["issued_on"] == "2026-05-12"
    assert payload["decision"]["document_sha256"] == decision.sha256 and payload["decision"]["replaces"] is None
    party = payload["sanctioned_party"]
    assert (party["name"], party["tax_code"], party["address"]) == (establishment.name, establishment.tax_code,
                                                                    establishment.address)
    assert party["kind"] == ("organisation" if establishment.is_organisation else "household_business")
    assert [a["provision_code"] for a in payload["acts"]] == [v.provision_code for v in violations]
    assert [a["sanction"]["fine_vnd"] for a in payload["acts"]] == [v.final_amount for v in violations]
    assert payload["total_fine_vnd"] == sum(v.final_amount or 0 for v in violations)
    assert all(a["decree"]["number_vi"].startswith("Nghị định số ") for a in payload["acts"])
    for act in payload["acts"]:
        for measure in act["remedial_measures"]:
            assert measure["measure_vi"] and measure["due_on"] > "2026-05-12"
    decided = payload["decided_by"]
    assert decided["full_name"] == official.full_name and decided["position"] == official.title
    assert decided["body_vi"] and decided["decider_vi"] and decided["body_code"] == decision.issuer_code
    assert payload["execution"] is None and payload["comply_by"] == "2026-05-22"


def test_a_bad_signature_is_refused_by_the_stand_in_and_the_message_is_dead_with_the_reason(
        feed_on: Settings, receiver: Outbox) -> None:
    sanctioned(feed_on, 1, publish=False)
    report = national_feed.deliver_pending(feed_on, client_for(receiver, b"not-the-receivers-secret"))
    assert report.dead == 1 and receiver.decisions() == []
    [message] = feed_messages(feed_on)
    assert message.status == FeedStatus.DEAD and "401" in message.last_error and "bad_signature" in message.last_error
    unsigned = httpx.post(f"{receiver.url}/decisions", json={"contract": CONTRACT},
                          headers={"Idempotency-Key": message.idempotency_key}, timeout=5)
    assert unsigned.status_code == 401 and receiver.decisions() == []
    # the lead sends it again once the keys agree: it is taken once
    national_feed.retry_dead(feed_on, message.id or 0, actor="SNV-LEAD", reason="Đã thống nhất lại khóa ký")
    assert national_feed.deliver_pending(feed_on, client_for(receiver)).delivered == 1
    assert len(receiver.decisions()) == 1


def test_a_payment_with_its_receipt_reports_the_decision_executed(feed_on: Settings, receiver: Outbox) -> None:
    [inspection_id] = sanctioned(feed_on, 1, publish=False)
    deadlines.sweep(feed_on, d(13, 5))
    with session_scope(feed_on) as session:
        comply = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.COMPLY,
                                                     Deadline.subject_key == f"inspection:{inspection_id}")).one()
        mark_met_with_receipt(session, feed_on, comply.id or 0, d(20, 5), actor="SNV-LEAD",
                              reason="Biên lai nộp phạt số 0012345 ngày 20/05/2026",
                              receipt=ReceiptFile(PDF, "bien-lai.pdf", "application/pdf"))
    issued, executed = feed_messages(feed_on)
    assert (issued.event, executed.event) == (FeedEvent.ISSUED, FeedEvent.EXECUTED)
    assert executed.document_id == issued.document_id
    execution = executed.payload["execution"]
    assert execution["paid_on"] == "2026-05-20" and execution["amount_vnd"] == executed.payload["total_fine_vnd"]
    assert execution["receipt"]["content_type"] == "application/pdf" and len(execution["receipt"]["sha256"]) == 64
    deliver_until_done(feed_on, client_for(receiver))
    assert sorted(str(r["event"]) for r in receiver.decisions()) == ["executed", "issued"]


def test_without_a_receiver_the_feed_is_off_says_so_and_keeps_the_messages(settings: Settings) -> None:
    sanctioned(settings, 1, publish=False)
    result = national_report.deliver(settings).as_dict()
    assert "KIEMTRA_NATIONAL_FEED_URL" in result["national_feed"] and result["done"] == 0
    assert [m.status for m in feed_messages(settings)] == [FeedStatus.PENDING]
    with session_scope(settings) as session:  # no report deadline the engine cannot meet
        assert session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.NATIONAL_REPORT)).first() is None


def test_a_correction_and_an_annulment_are_reported_after_the_decision_in_order(feed_on: Settings,
                                                                                receiver: Outbox) -> None:
    [inspection_id] = sanctioned(feed_on, 1, publish=False)
    with session_scope(feed_on) as session:
        official = competent_official(session, inspection_id)
        acts = session.exec(select(Violation).where(Violation.inspection_id == inspection_id)).all()
        corrected = {v.id or 0: v.range_min for v in acts}
        code, first = official.code, session.exec(select(Document.number).where(
            Document.doc_type == DocumentType.SANCTION_DECISION)).one()
    doc = sanctions.correct_decision(feed_on, inspection_id, official_code=code, amounts=corrected, corrected_on=d(14, 5),
                                     reason="Áp dụng tình tiết giảm nhẹ bị bỏ sót")
    appeals.lodge_appeal(feed_on, doc.number, kind="lawsuit", reference="TL-03/2026/HC", lodged_on=d(25, 5),
                         actor="SNV-LEAD")
    appeals.resolve_appeal(feed_on, doc.number, upheld=False, resolved_on=d(1, 9), resolution_ref="Bản án 12/2026/HC-ST",
                           actor="SNV-LEAD")
    issued, replaced, annulled = feed_messages(feed_on)
    assert [m.event for m in (issued, replaced, annulled)] == [FeedEvent.ISSUED, FeedEvent.REPLACED, FeedEvent.ANNULLED]
    assert replaced.payload["decision"]["replaces"]["number"] == first
    assert replaced.payload["decision"]["replaces"]["reason_vi"] == "Áp dụng tình tiết giảm nhẹ bị bỏ sót"
    assert [a["sanction"]["fine_vnd"] for a in replaced.payload["acts"]] == list(corrected.values())
    assert annulled.document_id == replaced.document_id == doc.id
    receiver.faults[:] = ["500"]  # the first fails: the later events of the inspection wait behind it
    report = national_feed.deliver_pending(feed_on, client_for(receiver))
    assert (report.retrying, report.waiting, report.delivered) == (1, 2, 0)
    deliver_until_done(feed_on, client_for(receiver))
    assert sorted(str(r["event"]) for r in receiver.decisions()) == ["annulled", "issued", "replaced"]
    assert [m.status for m in feed_messages(feed_on)] == [FeedStatus.SENT] * 3


def test_the_lead_sees_the_feed_and_sends_a_dead_message_again_from_the_command_line(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from services.entry.cli import national_feed as cli_feed
    from services.entry.cli.app import app
    from services.settings import get_settings

    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    if settings.database_url:
        monkeypatch.setenv("KIEMTRA_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(cli_feed.console, "width", 200)
    get_settings.cache_clear()
    sanctioned(settings, 1, publish=False)
    runner = CliRunner()
    status = runner.invoke(app, ["campaign", "status", "PORTAL-01", "--json"])
    assert status.exit_code == 0, status.output
    feed = json.loads(status.output)["national_feed"]
    assert (feed["pending"], feed["sent"], feed["dead"]) == (1, 0, 0) and "KIEMTRA_NATIONAL_FEED_URL" in feed["off"]
    listed = runner.invoke(app, ["national-feed", "list"])
    assert listed.exit_code == 0, listed.output
    assert "TẮT" in listed.output and "ban hành" in listed.output and "chờ gửi" in listed.output
    [message] = feed_messages(settings)
    refused = runner.invoke(app, ["national-feed", "retry", str(message.id), "--reason", "Gửi lại"])
    assert refused.exit_code != 0 and "không ở trạng thái gửi lỗi" in refused.output
    with session_scope(settings) as session:
        stored = session.get(NationalFeedMessage, message.id)
        assert stored is not None
        stored.status = FeedStatus.DEAD
        session.add(stored)
    retried = runner.invoke(app, ["national-feed", "retry", str(message.id), "--reason", "Đã sửa cấu hình"])
    assert retried.exit_code == 0, retried.output
    assert [m.status for m in feed_messages(settings)] == [FeedStatus.PENDING]
    get_settings.cache_clear()


def test_the_delivery_stage_sends_through_the_configured_receiver_and_closes_the_report(
        feed_on: Settings, receiver: Outbox) -> None:
    sanctioned(feed_on, 1, publish=False)
    result = national_report.deliver(feed_on).as_dict()  # the portal-delivery flow's task: wiring from the settings
    assert (result["done"], result["dead"], result["reports_met"]) == (1, 0, 1)
    with session_scope(feed_on) as session:
        report = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.NATIONAL_REPORT)).one()
        message = session.exec(select(NationalFeedMessage)).one()
    assert report.status == DeadlineStatus.MET and message.status == FeedStatus.SENT and message.receiver_ref
    assert [r["message_key"] for r in receiver.decisions()] == [message.idempotency_key]

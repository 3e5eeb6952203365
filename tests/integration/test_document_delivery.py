"""Electronic delivery (issue 17, Done-when 4): each issued violation record and sanction decision reaches the
violator's e-mail exactly once through a loopback SMTP server (aiosmtpd), despite a temporary failure, a retry and a
repeated run; the attachment is the issued file (its SHA-256 is the stored one); a refusal is kept with its reason;
an altered file is never sent; a send whose outcome a crash hid is never repeated by the engine; the decision's
sending deadline (Luật XLVPHC Art.70) is met by the delivery."""
from __future__ import annotations

import email
import hashlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import col, select

from models import (AuditEvent, Deadline, DeadlineKind, DeadlineStatus, DeliveryAttempt, Document, DocumentDelivery,
                    DocumentDeliveryStatus, DocumentType)
from models.base import utcnow
from services.db import session_scope
from services.delivery import document_delivery as queue
from services.delivery.channels import Receipt, SmtpChannel, SmtpConfig
from services.errors import Conflict
from services.rules.calendar import today_in_vietnam
from services.settings import Settings
from services.stages import document_delivery
from tests.cases import INSPECTOR, approve_and_draw_up, decide, visit, working_before
from tests.conftest import Worlds
from tests.factories import create_scheduled_campaign, team_inspections

S = DocumentDeliveryStatus
FAILS = {"YT-01": {"workers_affected": 12, "note": "12 người lao động chưa được khám sức khỏe định kỳ."}}


def decided_world(settings: Settings) -> dict[str, Any]:
    """One inspection with its violation record and its sanction decision issued (decided 4 working days ago); the
    establishment has an e-mail contact (the demo registry gives each one)."""
    create_scheduled_campaign(settings, code="MAIL-01")
    today = today_in_vietnam()
    inspection_id = team_inspections(settings)[INSPECTOR][0]
    visit(settings, inspection_id, on=working_before(today, 12), client_id="mail-0001", fails=FAILS)
    approve_and_draw_up(settings, inspection_id, working_before(today, 11))
    decide(settings, inspection_id, working_before(today, 4))
    return {"inspection": inspection_id}


@dataclass
class Mailbox:
    """An aiosmtpd handler: ``data_replies`` / ``rcpt_replies`` answer the first DATA / RCPT, then it accepts."""

    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    offered: list[EmailMessage] = field(default_factory=list)  # every DATA received, refused or not
    accepted: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.offered.append(message)
        if self.data_replies:
            return self.data_replies.pop(0)
        self.accepted.append(message)
        return "250 2.0.0 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def world(settings: Settings, worlds: Worlds, mailbox: tuple[Mailbox, int]) -> tuple[Settings, Mailbox, int]:
    inspection_id = worlds.copy(settings, decided_world)["inspection"]
    box, port = mailbox
    mail = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                                       "smtp_from": "kiemtra@snv.example.vn", "smtp_timeout_s": 5.0,
                                       "delivery_backoff_s": 60.0, "delivery_max_attempts": 3})
    return mail, box, inspection_id


def _deliveries(settings: Settings) -> list[tuple[DocumentDelivery, Document]]:
    with session_scope(settings) as session:
        query = select(DocumentDelivery, Document).join(Document, col(Document.id) == col(DocumentDelivery.document_id))
        return list(session.exec(query.order_by(col(DocumentDelivery.id))).all())


def _attempts(settings: Settings, delivery_id: int | None) -> list[DeliveryAttempt]:
    with session_scope(settings) as session:
        return list(session.exec(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
                                 .order_by(col(DeliveryAttempt.number))).all())


def _attachment_sha(message: EmailMessage) -> str:
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return hashlib.sha256(payload).hexdigest()


def _run(settings: Settings, now: datetime) -> dict[str, Any]:
    return document_delivery.deliver(settings, now=now).as_dict()


def test_each_document_reaches_the_violator_once_despite_a_451_a_retry_and_repeated_runs(
        world: tuple[Settings, Mailbox, int]) -> None:
    settings, box, inspection_id = world
    rows = _deliveries(settings)
    assert sorted(doc.doc_type for _, doc in rows) == [DocumentType.SANCTION_DECISION, DocumentType.VIOLATION_RECORD]
    assert all(d.status == S.PENDING and d.recipient.startswith("atvsld.") for d, _ in rows)
    box.data_replies.append("451 4.3.0 Mail server temporarily rejected message")
    now = utcnow()

    first = _run(settings, now)
    assert (first["done"], first["retrying"]) == (1, 1)
    assert _run(settings, now + timedelta(seconds=30))["done"] == 0  # the back-off (60 s) is not over: nothing sent
    assert _run(settings, now + timedelta(minutes=2))["done"] == 1
    assert _run(settings, now + timedelta(hours=2))["done"] == 0  # every later run sends nothing more

    assert len(box.offered) == 3 and len(box.accepted) == 2
    by_id = {m["Message-ID"]: m for m in box.accepted}
    assert len(by_id) == 2  # one message per document
    for delivery, doc in _deliveries(settings):
        assert delivery.status == S.SENT and delivery.sent_at is not None
        message = by_id[delivery.message_id]
        assert _attachment_sha(message) == doc.sha256  # the issued file, byte for byte
        title = "Quyết định xử phạt" if doc.doc_type == DocumentType.SANCTION_DECISION else "Biên bản vi phạm hành chính"
        assert str(message["Subject"]).startswith(f"{title}") and doc.number in str(message["Subject"])
        body = message.get_body(("plain",))
        assert body is not None and doc.sha256 in body.get_content() and "Kính gửi" in body.get_content()
        assert message["To"] == delivery.recipient
    refused = box.offered[0]["Message-ID"]
    retried = next(d for d, _ in _deliveries(settings) if d.message_id == refused)
    assert [(a.outcome, a.reply_code) for a in _attempts(settings, retried.id)] == [("temporary", 451), ("sent", 250)]
    assert retried.message_id == refused  # the same Message-ID on the retry: a receiver can deduplicate


def test_a_decision_sent_by_e_mail_meets_its_sending_deadline_with_the_delivery_as_evidence(
        world: tuple[Settings, Mailbox, int]) -> None:
    settings, box, inspection_id = world
    _run(settings, utcnow())
    with session_scope(settings) as session:
        deadline = session.exec(select(Deadline).where(Deadline.kind == DeadlineKind.SEND_DECISION,
                                                       Deadline.subject_key == f"inspection:{inspection_id}")).one()
        assert deadline.status == DeadlineStatus.MET and deadline.met_on == today_in_vietnam()
        evidence = session.exec(select(AuditEvent).where(AuditEvent.action == "deadline_met_by_delivery",
                                                         AuditEvent.entity_id == deadline.id)).one()
        delivery = session.get_one(DocumentDelivery, evidence.data["delivery_id"])
    assert evidence.actor == queue.DELIVERY_ACTOR and evidence.data["message_id"] == delivery.message_id
    assert "gửi bằng phương thức điện tử" in deadline_reason(settings, deadline.id)


def deadline_reason(settings: Settings, deadline_id: int | None) -> str:
    with session_scope(settings) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "deadline", AuditEvent.entity_id == deadline_id,
                                                      AuditEvent.action == "deadline_status")).one()
        return event.reason


def test_a_550_is_failed_with_its_reason_and_not_retried_until_a_person_asks(world: tuple[Settings, Mailbox, int]) -> None:
    settings, box, _ = world
    box.rcpt_replies += ["550 5.1.1 Mailbox unavailable"] * 2
    now = utcnow()
    out = _run(settings, now)
    assert (out["done"], out["failed"]) == (0, 2)
    assert _run(settings, now + timedelta(days=2))["done"] == 0 and box.offered == []  # never retried on its own
    delivery, _ = _deliveries(settings)[0]
    assert delivery.status == S.FAILED and "550" in delivery.last_error and "Mailbox unavailable" in delivery.last_error
    assert [(a.outcome, a.reply_code) for a in _attempts(settings, delivery.id)] == [("permanent", 550)]
    queue.retry(settings, delivery.id or 0, actor="SNV-LEAD", reason="Cơ sở đã sửa hộp thư", now=now)
    assert _run(settings, now + timedelta(seconds=1))["done"] == 1 and len(box.accepted) == 1
    assert [a.number for a in _attempts(settings, delivery.id)] == [1, 2]
    with pytest.raises(Conflict):  # sent: never again
        queue.retry(settings, delivery.id or 0, actor="SNV-LEAD", reason="Gửi lại", now=now)


def test_an_altered_file_is_refused_and_not_sent(world: tuple[Settings, Mailbox, int]) -> None:
    settings, box, _ = world
    decision = next(doc for _, doc in _deliveries(settings) if doc.doc_type == DocumentType.SANCTION_DECISION)
    path = settings.documents_path / decision.path
    path.write_bytes(path.read_bytes().replace(b"%%EOF", b"%%EOF\n% altered", 1))
    out = _run(settings, utcnow())
    assert (out["done"], out["failed"]) == (1, 1)
    assert all(m["Message-ID"] != d.message_id for m in box.offered for d, doc in _deliveries(settings)
               if doc.id == decision.id)
    (delivery,) = [d for d, doc in _deliveries(settings) if doc.id == decision.id]
    assert delivery.status == S.FAILED and "không phải văn bản đã ban hành" in delivery.last_error
    assert [a.outcome for a in _attempts(settings, delivery.id)] == ["file_mismatch"]


def test_a_crash_between_sending_and_recording_is_never_resent_by_the_engine(world: tuple[Settings, Mailbox, int]) -> None:
    """The choice documented in services/delivery/document_delivery.py: SENDING past the lease is DEAD (outcome
    unknown); a person resends after checking, with the same Message-ID."""
    settings, box, _ = world
    now = utcnow()
    delivery, _ = _deliveries(settings)[0]
    claimed = queue.claim(settings, delivery.id or 0, now=now)
    assert claimed is not None
    SmtpChannel(SmtpConfig.from_settings(settings)).send(queue.outgoing(settings, claimed))  # … and the worker dies
    assert _run(settings, now + timedelta(seconds=10))["done"] == 1  # the other document; the claimed one is left alone
    out = _run(settings, now + queue.lease(settings) + timedelta(seconds=1))
    assert (out["done"], out["unknown_outcome"]) == (0, 1)
    row = next(d for d, _ in _deliveries(settings) if d.id == delivery.id)
    assert row.status == S.DEAD and "Không rõ kết quả" in row.last_error
    assert [a.outcome for a in _attempts(settings, delivery.id)] == ["unknown"]
    assert len(box.accepted) == 2  # sent once by the crashed run, never again
    assert queue.record(settings, claimed, Receipt(250, "late"), on_sent=None) == S.DEAD  # a late answer changes nothing


def test_the_sweeper_flow_sends_and_the_cli_lists_and_retries(world: tuple[Settings, Mailbox, int],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from flows import deadline_sweeper
    from services import wiring
    from services.entry.cli.app import app

    settings, box, _ = world
    box.rcpt_replies.append("550 5.1.1 Mailbox unavailable")
    with wiring.use(wiring.Wiring(settings)):
        out = deadline_sweeper.deliver_documents.fn()
    assert (out["stage"], out["done"], out["failed"]) == ("deliver-documents", 1, 1)
    for name, value in {"KIEMTRA_DATA_DIR": str(settings.data_dir), "KIEMTRA_ENVIRONMENT": "test",
                        "KIEMTRA_SMTP_HOST": "127.0.0.1", "KIEMTRA_SMTP_PORT": str(settings.smtp_port),
                        "KIEMTRA_SMTP_SECURITY": "none", "KIEMTRA_SMTP_PASSWORD": "mat-khau-bi-mat"}.items():
        monkeypatch.setenv(name, value)
    cli = CliRunner()
    listed = cli.invoke(app, ["deliveries", "list", "--status", "failed"])
    assert listed.exit_code == 0, listed.output
    (failed,) = [d for d, _ in _deliveries(settings) if d.status == S.FAILED]
    assert "550" in listed.output and "mat-khau" not in listed.output
    retried = cli.invoke(app, ["deliveries", "retry", str(failed.id), "--reason", "Cơ sở đã sửa hộp thư"])
    assert retried.exit_code == 0, retried.output
    sent = cli.invoke(app, ["deliveries", "send"])
    assert sent.exit_code == 0 and "mat-khau" not in sent.output, sent.output
    assert {d.status for d, _ in _deliveries(settings)} == {S.SENT} and len(box.accepted) == 2
    again = cli.invoke(app, ["deliveries", "retry", str(failed.id), "--reason", "Gửi lại"])
    assert again.exit_code != 0  # sent: refused


def test_without_a_server_the_deliveries_wait_and_without_an_e_mail_none_is_queued(settings: Settings, worlds: Worlds) -> None:
    from models import Contact, Establishment, Inspection

    inspection_id = worlds.copy(settings, decided_world)["inspection"]
    out = document_delivery.deliver(settings).as_dict()
    assert out["done"] == 0 and "KIEMTRA_SMTP_HOST" in out["smtp"]
    assert {d.status for d, _ in _deliveries(settings)} == {S.PENDING}
    with session_scope(settings) as session:
        inspection = session.get_one(Inspection, inspection_id)
        establishment = session.get_one(Establishment, inspection.establishment_id)
        contact = session.exec(select(Contact).where(Contact.owner_ref == establishment.tax_code)).one()
        contact.email = None
        session.add(contact)
        decision = session.exec(select(Document).where(Document.doc_type == DocumentType.SANCTION_DECISION)).one()
        assert queue.enqueue_document(session, settings, decision) == []


def test_a_login_refused_is_the_servers_fault_the_run_stops_and_the_password_is_never_written(
        settings: Settings, worlds: Worlds) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword
    from pydantic import SecretStr

    worlds.copy(settings, decided_world)
    box, port, secret = Mailbox(), _free_port(), "mat-khau-dung-7Qx"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"snv" and data.password == secret.encode()
        return AuthResult(success=ok, handled=False)

    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        wrong = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                                            "smtp_user": "snv", "smtp_password": SecretStr("sai-mat-khau-3Kp")})
        now = utcnow()
        out = document_delivery.deliver(wrong, now=now).as_dict()
        assert (out["done"], out["retrying"]) == (0, 1)  # the second one was not even tried: the server is the problem
        attempts = [a for d, _ in _deliveries(settings) for a in _attempts(settings, d.id)]
        assert [(a.outcome, a.reply_code) for a in attempts] == [("temporary", 535)]
        assert all("sai-mat-khau" not in d.last_error for d, _ in _deliveries(settings))
        right = wrong.model_copy(update={"smtp_password": SecretStr(secret)})
        assert document_delivery.deliver(right, now=now + timedelta(hours=1)).done == 2
    finally:
        controller.stop()
    assert len(box.accepted) == 2
    with session_scope(settings) as session:
        logged = [e.reason + str(e.data) for e in session.exec(select(AuditEvent))]
    assert not any(secret in text or "sai-mat-khau" in text for text in logged)


def test_two_runs_at_once_send_each_document_once(world: tuple[Settings, Mailbox, int]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings, box, _ = world
    now = utcnow()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _run(settings, now), range(2)))
    assert sum(r["done"] for r in results) == 2 and len(box.offered) == 2
    assert sorted(m["Message-ID"] for m in box.accepted) == sorted(d.message_id for d, _ in _deliveries(settings))
    assert all(len(_attempts(settings, d.id)) == 1 for d, _ in _deliveries(settings))

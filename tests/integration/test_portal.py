"""Publishing to the province portal against a real local HTTP server that fails, times out and gets the same
message twice: every final decision arrives exactly once, amendments and withdrawals follow, dead letters wait
for the lead."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from sqlmodel import select

from models import AuditEvent, PortalMessage, PortalStatus, Publication, Violation
from models.base import utcnow
from services.delivery import portal
from services.clients.portal import PortalClient
from services.db import session_scope
from services.portal_signature import verify
from services.errors import SignatureRefused
from services.settings import Settings
from services.stages import publishing, sanctions
from services.stages.common import Outcome
from tests.factories import create_scheduled_campaign, team_inspections
from tests.http_support import serve
from tests.cases import approve_and_draw_up, competent_official, d, decide, visit
from tests.integration.test_deadlines import VISIT

SECRET = b"portal-test-secret"


class Portal:
    """The portal's side: verifies the signature, keeps the first message per idempotency key."""

    def __init__(self) -> None:
        self.received: dict[str, dict[str, Any]] = {}  # key → body, as stored by the portal
        self.requests: list[str] = []  # every request's key, in order
        self.script: list[str] = []  # what to do with the next requests: "500", "timeout", "400"
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        portal_ = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                with portal_.lock:
                    portal_.requests.append(key)
                    action = portal_.script.pop(0) if portal_.script else "ok"
                try:
                    verify({"k1": SECRET}, method=self.command, path=self.path, idempotency_key=key,
                           key_id=self.headers["X-Kiemtra-Key-Id"], timestamp=self.headers["X-Kiemtra-Timestamp"],
                           signature=self.headers["X-Kiemtra-Signature"], body=body, now=time.time())
                except SignatureRefused as exc:
                    return self._answer(401, {"error": exc.code})
                if action in ("500", "400"):
                    return self._answer(int(action), {"error": action})
                with portal_.lock:
                    duplicate = key in portal_.received
                    portal_.received.setdefault(key, json.loads(body))
                if action == "timeout":  # stored, but the answer comes after the client gave up
                    time.sleep(0.6)
                self._answer(200, {"id": f"P-{list(portal_.received).index(key) + 1}", "duplicate": duplicate})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler


@pytest.fixture
def the_portal() -> Iterator[tuple[Portal, PortalClient]]:
    p = Portal()
    with serve(p.handler()) as url, httpx.Client(base_url=url, timeout=0.3) as http:
        yield p, PortalClient(http, SECRET)


def sanctioned(settings: Settings, count: int, *, publish: bool = True) -> list[int]:
    """``count`` inspections visited on 29/04/2026, each with one failed item, decided on 12/05 — the 7th working day
    after the record, the last day the law allows (Luật XLVPHC Art.66 cl.1, Art.65 cl.1 c) — (and published)."""
    create_scheduled_campaign(settings, code="PORTAL-01")
    ids = team_inspections(settings)["SNV-TT01"][:count]
    for n, inspection_id in enumerate(ids):
        visit(settings, inspection_id, on=VISIT, client_id=f"portal-{n:04d}")
        approve_and_draw_up(settings, inspection_id, VISIT)
        decide(settings, inspection_id, d(12, 5))
        if publish:
            assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.PUBLISHED
    return ids


def deliver_until_done(settings: Settings, client: PortalClient, rounds: int = 12) -> None:
    now = utcnow()
    for _ in range(rounds):
        portal.deliver_pending(settings, client, now=now)
        now += timedelta(days=1)  # past any backoff


def messages(settings: Settings) -> list[PortalMessage]:
    with session_scope(settings) as session:
        return list(session.exec(select(PortalMessage).order_by(PortalMessage.id)).all())


def test_every_decision_reaches_the_portal_once_through_failures_timeouts_and_duplicates(
        settings: Settings, the_portal: tuple[Portal, PortalClient]) -> None:
    p, client = the_portal
    sanctioned(settings, 3)
    # first attempt: 500; the next: stored by the portal but the answer is lost; then all fine
    p.script = ["500", "timeout"]
    report = portal.deliver_pending(settings, client)
    assert (report.delivered, report.retrying) == (1, 2)  # the third went through; the two others wait
    assert portal.deliver_pending(settings, client).delivered == 0  # backoff: not due yet
    deliver_until_done(settings, client)

    stored = messages(settings)
    assert [m.status for m in stored] == [PortalStatus.DELIVERED] * 3
    assert len(p.received) == 3  # one per decision, although the portal got one of them twice
    assert len(p.requests) == 5 and len(set(p.requests)) == 3
    numbers = sorted(body["outcome"]["so_quyet_dinh"] for body in p.received.values())
    with session_scope(settings) as session:
        published = sorted(pub.payload["so_quyet_dinh"] for pub in session.exec(select(Publication)).all())
        delivered_events = session.exec(select(AuditEvent).where(AuditEvent.action == "portal_delivered")).all()
    assert numbers == published and len(delivered_events) == 3
    assert any("cổng đã có" in e.reason for e in delivered_events)  # the retry of the lost answer
    # publishing again changes nothing
    for inspection_id in team_inspections(settings)["SNV-TT01"][:3]:
        assert publishing.publish_for_inspection(settings, inspection_id) == Outcome.ALREADY
    deliver_until_done(settings, client, rounds=2)
    assert len(p.requests) == 5 and len(messages(settings)) == 3


def test_withdrawals_and_corrections_follow_the_publication(settings: Settings,
                                                            the_portal: tuple[Portal, PortalClient]) -> None:
    p, client = the_portal
    _, second = sanctioned(settings, 2)
    with session_scope(settings) as session:
        first_number = session.exec(select(Publication).order_by(Publication.id)).first().payload["so_quyet_dinh"]
    # the withdrawal is queued before the publication was delivered: it must not overtake it
    publishing.withdraw_publication(settings, first_number, actor="SNV-LEAD", reason="Quyết định bị hủy theo kết quả khiếu nại")
    p.script = ["500"]
    deliver_until_done(settings, client)
    events = [(body["event"], body["outcome"]["so_quyet_dinh"]) for body in p.received.values()]
    assert events.index(("publish", first_number)) < events.index(("withdraw", first_number))

    # the second decision is corrected: the portal gets an amendment, the register shows the new decision only
    with session_scope(settings) as session:
        official = competent_official(session, second)
        amounts = {v.id: v.range_min for v in session.exec(select(Violation).where(Violation.inspection_id == second))}
    new = sanctions.correct_decision(settings, second, official_code=official.code, amounts=amounts,
                                     corrected_on=d(20, 5), reason="Áp dụng tình tiết giảm nhẹ")
    deliver_until_done(settings, client)
    amend = [body["outcome"] for body in p.received.values() if body["event"] == "amend"]
    assert len(amend) == 1 and amend[0]["so_quyet_dinh"] == new.number
    assert amend[0]["thay_the_quyet_dinh"] != new.number
    folder = publishing.write_register(settings)
    register = json.loads((folder / "register.json").read_text(encoding="utf-8"))
    assert [r["so_quyet_dinh"] for r in register] == [new.number]  # the withdrawn and the replaced are gone


def test_a_refused_message_waits_for_the_lead_who_sends_it_again(settings: Settings,
                                                                  the_portal: tuple[Portal, PortalClient]) -> None:
    p, client = the_portal
    sanctioned(settings, 1)
    p.script = ["400"]
    assert portal.deliver_pending(settings, client).dead == 1
    [dead] = portal.dead_messages(settings)
    assert dead["event"] == "publish" and "HTTP 400" in dead["last_error"]
    deliver_until_done(settings, client, rounds=3)
    assert not p.received  # a dead letter is not retried on its own
    portal.retry_dead(settings, dead["id"], actor="SNV-LEAD", reason="Cổng đã sửa lỗi định dạng")
    deliver_until_done(settings, client, rounds=1)
    assert [m.status for m in messages(settings)] == [PortalStatus.DELIVERED] and len(p.received) == 1


def test_retries_run_out_into_the_dead_letter_and_a_wrong_secret_is_refused(
        settings: Settings, the_portal: tuple[Portal, PortalClient]) -> None:
    p, client = the_portal
    sanctioned(settings, 1)
    p.script = ["500"] * settings.portal_max_attempts
    deliver_until_done(settings, client, rounds=settings.portal_max_attempts + 2)
    [m] = messages(settings)
    assert (m.status, m.attempts) == (PortalStatus.DEAD, settings.portal_max_attempts)
    portal.retry_dead(settings, m.id, actor="SNV-LEAD", reason="thử lại")
    wrong = PortalClient(client.http, b"another secret")
    assert portal.deliver_pending(settings, wrong).dead == 1  # 401: permanent
    assert not p.received


def test_the_lead_sees_dead_letters_and_retries_from_the_command_line(
        settings: Settings, the_portal: tuple[Portal, PortalClient], monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from services.entry.cli import portal as cli_portal
    from services.entry.cli.app import app
    from services.settings import get_settings

    p, client = the_portal
    sanctioned(settings, 1)
    p.script = ["400"]
    portal.deliver_pending(settings, client)
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KIEMTRA_ENVIRONMENT", "test")
    monkeypatch.setattr(cli_portal.console, "width", 200)
    get_settings.cache_clear()
    [m] = messages(settings)
    listed = CliRunner().invoke(app, ["portal", "dead"])
    assert listed.exit_code == 0, listed.output
    assert "HTTP 400" in listed.output and str(m.id) in listed.output
    again = CliRunner().invoke(app, ["portal", "retry", str(m.id), "--reason", "Cổng đã sửa lỗi"])
    assert again.exit_code == 0 and f"Tin số {m.id} đã được đưa lại hàng chờ gửi." in again.output
    twice = CliRunner().invoke(app, ["portal", "retry", str(m.id), "--reason", "lần nữa"])
    assert twice.exit_code == 1 and "không ở trạng thái gửi lỗi" in twice.output
    deliver_until_done(settings, client, rounds=1)
    assert len(p.received) == 1

"""Notifications: queued once per key, delivered through the gateway exactly once, failures kept for the lead."""
from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from models import AuditEvent, DeliveryStatus, Notification
from services.clients.gateway import GatewayClient, GatewayUnavailable, OutgoingMessage, make_gateway_http_client
from services.clients.retry import RetryPolicy
from services.db import session_scope
from services.errors import Conflict
from services.delivery.notifications import DeliveryReport, deliver_pending, enqueue, retry_failed
from services.settings import Settings
from tests.factories import count, create_campaign
from tests.http_support import serve

SUBJECT = "Thông báo kiểm tra an toàn, vệ sinh lao động"
BODY = "Kính gửi Công ty TNHH Cơ khí Hòa Bình: đoàn kiểm tra sẽ làm việc tại cơ sở vào ngày 16/3/2026."
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def gw_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"gateway_url": "http://gateway.test", "gateway_token": SecretStr("tok-3f9a"),
                                       "notify_max_attempts": 3})


@pytest.fixture
def campaign_id(settings: Settings) -> int:
    campaign_id = create_campaign(settings).id
    assert campaign_id is not None
    return campaign_id


def _enqueue(settings: Settings, campaign_id: int, key: str = "tb-1", **changes: Any) -> int:
    fields: dict[str, Any] = {"campaign_id": campaign_id, "inspection_id": None, "kind": "inspection_notice",
                              "recipient_kind": "establishment", "recipient_ref": "0100233488", "channel": "email",
                              "address": "antoan@cokhihoabinh.vn", "subject": SUBJECT, "body": BODY, **changes}
    with session_scope(settings) as session:
        notification_id = enqueue(session, key=key, **fields).id
    assert notification_id is not None
    return notification_id


def _row(settings: Settings, notification_id: int) -> Notification:
    with session_scope(settings) as session:
        return session.get_one(Notification, notification_id)


def _audit(settings: Settings) -> list[tuple[str, str | None, str | None]]:
    with session_scope(settings) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "notification").order_by(AuditEvent.id))
        return [(e.action, e.from_state, e.to_state) for e in events]


class FakeGateway:
    """A MockTransport handler; ``failures`` are served first, one per request, then receipts."""

    def __init__(self, failures: list[Handler] | None = None) -> None:
        self.failures, self.requests = list(failures or []), []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            return self.failures.pop(0)(request)
        return httpx.Response(202, json={"id": f"gw-{len(self.requests)}", "status": "accepted"})

    @property
    def keys(self) -> list[str]:
        return [r.headers["Idempotency-Key"] for r in self.requests]


def _gateway(settings: Settings, fake: FakeGateway, sleeps: list[float], *, attempts: int = 4) -> GatewayClient:
    policy = RetryPolicy(attempts=attempts, initial_s=0.2, jitter_s=0.0)  # no jitter: the waits are exact
    return GatewayClient(make_gateway_http_client(settings, transport=httpx.MockTransport(fake)), policy=policy,
                         sleep=sleeps.append)


def _status(code: int) -> Handler:
    return lambda request: httpx.Response(code, json={"error": "lỗi"})


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def test_a_notification_is_delivered_once_and_audited(gw_settings: Settings, campaign_id: int) -> None:
    notification_id = _enqueue(gw_settings, campaign_id)
    seen_while_sending: list[tuple[str, int]] = []

    def read_the_row(request: httpx.Request) -> httpx.Response:  # the database is free while the gateway works
        row = _row(gw_settings, notification_id)
        seen_while_sending.append((row.status, row.attempts))
        return httpx.Response(202, json={"id": "gw-1", "status": "accepted"})

    fake, sleeps = FakeGateway(failures=[read_the_row]), []
    client = _gateway(gw_settings, fake, sleeps)

    assert deliver_pending(gw_settings, client) == DeliveryReport(delivered=1, pending=0, failed=0)
    assert deliver_pending(gw_settings, client) == DeliveryReport(0, 0, 0)

    (request,) = fake.requests
    assert (request.method, str(request.url)) == ("POST", "http://gateway.test/messages")
    assert request.headers["Idempotency-Key"] == "tb-1"
    assert request.headers["Authorization"] == "Bearer tok-3f9a"
    assert json.loads(request.content) == {"channel": "email", "to": "antoan@cokhihoabinh.vn", "subject": SUBJECT, "body": BODY}
    row = _row(gw_settings, notification_id)
    assert (row.status, row.attempts, row.gateway_message_id, row.last_error) == (DeliveryStatus.DELIVERED, 1, "gw-1", "")
    assert row.delivered_at is not None and row.delivered_at.tzinfo is not None
    assert _audit(gw_settings) == [("notification_delivered", "pending", "delivered")]
    assert seen_while_sending == [("pending", 1)] and sleeps == []


@pytest.mark.parametrize("failure", [_status(503), _status(429), _timeout], ids=["503", "429", "timeout"])
def test_a_transient_failure_is_retried_with_the_same_key(gw_settings: Settings, campaign_id: int, failure: Handler) -> None:
    notification_id = _enqueue(gw_settings, campaign_id)
    fake, sleeps = FakeGateway(failures=[failure]), []

    report = deliver_pending(gw_settings, _gateway(gw_settings, fake, sleeps))

    assert report == DeliveryReport(delivered=1, pending=0, failed=0)
    assert fake.keys == ["tb-1", "tb-1"] and sleeps == [0.2]
    row = _row(gw_settings, notification_id)
    assert (row.status, row.attempts, row.gateway_message_id) == (DeliveryStatus.DELIVERED, 1, "gw-2")


def test_a_rejected_message_fails_at_once_and_the_lead_can_retry_it(gw_settings: Settings, campaign_id: int) -> None:
    notification_id = _enqueue(gw_settings, campaign_id)
    fake, sleeps = FakeGateway(failures=[_status(400)]), []
    client = _gateway(gw_settings, fake, sleeps)

    assert deliver_pending(gw_settings, client) == DeliveryReport(delivered=0, pending=0, failed=1)
    row = _row(gw_settings, notification_id)
    assert (row.status, row.attempts, len(fake.requests), sleeps) == (DeliveryStatus.FAILED, 1, 1, [])
    assert row.last_error.startswith("Cổng gửi thư/tin nhắn từ chối thông báo tb-1 (mã 400)")
    assert deliver_pending(gw_settings, client) == DeliveryReport(0, 0, 0) and len(fake.requests) == 1

    assert retry_failed(gw_settings, campaign_id=campaign_id, actor="SNV-LEAD") == 1
    assert deliver_pending(gw_settings, client) == DeliveryReport(delivered=1, pending=0, failed=0)
    assert _row(gw_settings, notification_id).status == DeliveryStatus.DELIVERED
    assert _audit(gw_settings) == [("notification_failed", "pending", "failed"), ("notification_retry", "failed", "pending"),
                                   ("notification_delivered", "pending", "delivered")]


def test_an_unavailable_gateway_leaves_it_pending_until_attempts_run_out(gw_settings: Settings, campaign_id: int) -> None:
    notification_id = _enqueue(gw_settings, campaign_id)
    fake, sleeps = FakeGateway(failures=[_status(503)] * 9), []
    client = _gateway(gw_settings, fake, sleeps, attempts=3)  # 3 requests per round, 3 rounds

    for attempt in (1, 2):
        assert deliver_pending(gw_settings, client) == DeliveryReport(delivered=0, pending=1, failed=0)
        row = _row(gw_settings, notification_id)
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, attempt)
        assert row.last_error == "Cổng gửi thư/tin nhắn trả lỗi 503 cho thông báo tb-1 sau 3 lần thử"
    assert _audit(gw_settings) == []
    assert deliver_pending(gw_settings, client) == DeliveryReport(delivered=0, pending=0, failed=1)

    row = _row(gw_settings, notification_id)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
    assert sleeps == [0.2, 0.4] * 3 and set(fake.keys) == {"tb-1"} and len(fake.requests) == 9
    assert _audit(gw_settings) == [("notification_failed", "pending", "failed")]
    assert deliver_pending(gw_settings, client) == DeliveryReport(0, 0, 0) and len(fake.requests) == 9


def test_a_message_whose_outcome_was_never_recorded_fails_after_max_attempts(gw_settings: Settings, campaign_id: int) -> None:
    notification_id = _enqueue(gw_settings, campaign_id)
    with session_scope(gw_settings) as session:  # as if the worker died after sending, three rounds running
        session.get_one(Notification, notification_id).attempts = 3
    fake = FakeGateway()

    assert deliver_pending(gw_settings, _gateway(gw_settings, fake, [])) == DeliveryReport(delivered=0, pending=0, failed=1)
    assert fake.requests == []
    row = _row(gw_settings, notification_id)
    assert (row.status, row.last_error) == (DeliveryStatus.FAILED, "Đã thử gửi 3 lần mà không ghi nhận được kết quả")


def test_oldest_first_within_the_limit_and_the_campaign(gw_settings: Settings, campaign_id: int) -> None:
    other = create_campaign(gw_settings, code="TEST-02").id
    assert other is not None
    for key in ("a", "b", "c"):
        _enqueue(gw_settings, campaign_id, key=key)
    _enqueue(gw_settings, other, key="z")
    fake = FakeGateway()
    client = _gateway(gw_settings, fake, [])

    assert deliver_pending(gw_settings, client, campaign_id=campaign_id, limit=2).delivered == 2
    assert deliver_pending(gw_settings, client, campaign_id=campaign_id).delivered == 1
    assert fake.keys == ["a", "b", "c"]


def test_a_2xx_that_is_not_a_receipt_is_temporary(gw_settings: Settings) -> None:
    fake = FakeGateway(failures=[lambda request: httpx.Response(200, text="OK")])
    message = OutgoingMessage(idempotency_key="tb-9", channel="sms", to="0912345678", subject="", body=BODY)
    with pytest.raises(GatewayUnavailable) as exc:
        _gateway(gw_settings, fake, []).send(message)
    assert (exc.value.status, exc.value.idempotency_key) == (200, "tb-9") and exc.value.request is not None


# --- enqueue ----------------------------------------------------------------------------------------------------

def test_enqueue_twice_with_one_key_stores_one_row(gw_settings: Settings, campaign_id: int) -> None:
    nfd = unicodedata.normalize("NFD", BODY)
    first = _enqueue(gw_settings, campaign_id, body=nfd, subject=unicodedata.normalize("NFD", SUBJECT))
    deliver_pending(gw_settings, _gateway(gw_settings, FakeGateway(), []))
    second = _enqueue(gw_settings, campaign_id)  # same text, NFC this time

    assert first == second
    row = _row(gw_settings, first)
    assert (row.body, row.subject, row.status) == (BODY, SUBJECT, DeliveryStatus.DELIVERED)  # stored NFC, unchanged
    with session_scope(gw_settings) as session:
        assert count(session, Notification) == 1


def test_one_key_with_different_content_is_a_conflict_and_stores_nothing(gw_settings: Settings, campaign_id: int) -> None:
    notification_id = _enqueue(gw_settings, campaign_id)
    with pytest.raises(Conflict) as exc:
        _enqueue(gw_settings, campaign_id, body=BODY + " Xin cảm ơn.")
    assert exc.value.message == "Khóa thông báo tb-1 đã dùng cho một thông báo khác (khác ở: body)."
    assert exc.value.ids == {"key": "tb-1", "notification_id": notification_id}

    with pytest.raises(Conflict), session_scope(gw_settings) as session:  # one transaction: all or nothing
        enqueue(session, key="tb-2", campaign_id=campaign_id, inspection_id=None, kind="inspection_notice",
                recipient_kind="person", recipient_ref="SNV-01", channel="sms", address="0912345678", subject="", body=BODY)
        enqueue(session, key="tb-1", campaign_id=campaign_id, inspection_id=None, kind="reschedule",
                recipient_kind="establishment", recipient_ref="0100233488", channel="email",
                address="antoan@cokhihoabinh.vn", subject=SUBJECT, body=BODY)
    with session_scope(gw_settings) as session:
        assert [n.idempotency_key for n in session.exec(select(Notification))] == ["tb-1"]
    assert _row(gw_settings, notification_id).body == BODY


# --- once against a real HTTP server ----------------------------------------------------------------------------

class LocalGateway:
    """What a real gateway keeps: each request's key, and each recipient's inbox (one message per key)."""

    def __init__(self, fail_first: str) -> None:
        self.fail_first, self.lock = fail_first, threading.Lock()
        self.requests: list[str] = []
        self.inbox: dict[str, dict[str, Any]] = {}  # idempotency key → message as delivered

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        key = handler.headers["Idempotency-Key"]
        message = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        with self.lock:
            self.requests.append(key)
            first = len(self.requests) == 1
            if first and self.fail_first == "503":
                handler.send_error(503)
                return
            delivered = self.inbox.setdefault(key, {**message, "id": f"gw-{len(self.inbox) + 1}"})
        if first and self.fail_first == "drop":  # delivered, but the answer is lost
            handler.close_connection = True
            return
        body = json.dumps({"id": delivered["id"], "status": "accepted"}).encode()
        handler.send_response(202)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture(params=["503", "drop"])
def local_gateway(request: pytest.FixtureRequest) -> Iterator[tuple[str, LocalGateway]]:
    gateway = LocalGateway(fail_first=request.param)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            gateway.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve(Handler) as url:
        yield url, gateway


def test_a_lost_answer_is_resent_and_delivered_exactly_once(settings: Settings, campaign_id: int,
                                                           local_gateway: tuple[str, LocalGateway]) -> None:
    url, gateway = local_gateway
    settings = settings.model_copy(update={"gateway_url": url, "gateway_timeout_s": 5.0})
    notification_id = _enqueue(settings, campaign_id)

    with make_gateway_http_client(settings) as http:
        client = GatewayClient(http, policy=RetryPolicy(attempts=1))  # the second try comes from the next delivery round
        assert deliver_pending(settings, client) == DeliveryReport(delivered=0, pending=1, failed=0)
        assert _row(settings, notification_id).last_error == {
            "503": "Cổng gửi thư/tin nhắn trả lỗi 503 cho thông báo tb-1 sau 1 lần thử",
            "drop": "Cổng gửi thư/tin nhắn không trả lời (RemoteProtocolError: Server disconnected without sending a response.) "
                    "cho thông báo tb-1 sau 1 lần thử"}[gateway.fail_first]
        assert deliver_pending(settings, client) == DeliveryReport(delivered=1, pending=0, failed=0)
        assert deliver_pending(settings, client) == DeliveryReport(0, 0, 0)

    assert gateway.requests == ["tb-1", "tb-1"]
    assert list(gateway.inbox.values()) == [{"channel": "email", "to": "antoan@cokhihoabinh.vn", "subject": SUBJECT,
                                             "body": BODY, "id": "gw-1"}]
    row = _row(settings, notification_id)
    assert (row.status, row.attempts, row.gateway_message_id) == (DeliveryStatus.DELIVERED, 2, "gw-1")

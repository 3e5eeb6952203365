"""Client of the e-mail/SMS gateway that delivers notifications.

``POST /messages`` with ``{"channel": "email"|"sms", "to", "subject", "body"}`` and the header
``Idempotency-Key``; a 2xx answers ``{"id": "...", "status": "accepted"}``. The gateway delivers a key once,
so every attempt of one message (retries here, and later delivery rounds) carries the same key. Transport
errors (timeouts and dropped connections included), 429 and 5xx are retried by the clients' one policy
(services/clients/retry.py: backoff with jitter, Retry-After honoured). The bearer token and the timeouts belong
to the injected ``httpx.Client`` (:func:`make_gateway_http_client`).

    KiemtraError
    └── GatewayError           request, idempotency_key, status (None for a transport error)
        ├── GatewayRejected    a 4xx other than 429: the message will never be accepted as it is (permanent)
        └── GatewayUnavailable retries ran out, or a 2xx that is not a receipt: try again later (temporary)
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from services.clients.retry import DEFAULT_POLICY, GaveUp, RetryPolicy, send
from services.errors import KiemtraError
from services.settings import Settings

__all__ = ["GatewayClient", "GatewayError", "GatewayReceipt", "GatewayRejected", "GatewayUnavailable",
           "OutgoingMessage", "as_channel", "make_gateway_http_client"]

Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")


def as_channel(value: str) -> Channel:
    """A stored channel name as a :data:`Channel` (``ValueError`` for any other)."""
    for channel in CHANNELS:
        if value == channel:
            return channel
    raise ValueError(f"channel must be one of {CHANNELS}, not {value!r}")


class GatewayError(KiemtraError):
    def __init__(self, message: str, *, request: httpx.Request | None, idempotency_key: str | None,
                 status: int | None = None) -> None:
        super().__init__(message, idempotency_key=idempotency_key, status=status)
        self.request, self.idempotency_key, self.status = request, idempotency_key, status


class GatewayRejected(GatewayError):
    pass


class GatewayUnavailable(GatewayError):
    pass


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    channel: Channel
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class GatewayReceipt:
    message_id: str
    status: str
    idempotency_key: str


def make_gateway_http_client(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The ``httpx.Client`` the composition root hands to :class:`GatewayClient` (base URL, token, timeouts)."""
    if not settings.gateway_url:
        raise GatewayError("Chưa cấu hình địa chỉ cổng gửi thư/tin nhắn (KIEMTRA_GATEWAY_URL).",
                           request=None, idempotency_key=None)
    headers = {}
    if settings.gateway_token is not None:
        headers["Authorization"] = f"Bearer {settings.gateway_token.get_secret_value()}"
    timeout = httpx.Timeout(settings.gateway_timeout_s, connect=min(settings.gateway_timeout_s, 5.0))
    return httpx.Client(base_url=settings.gateway_url, headers=headers, timeout=timeout, transport=transport)


class GatewayClient:
    def __init__(self, client: httpx.Client, *, policy: RetryPolicy = DEFAULT_POLICY,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client, self._policy, self._sleep = client, policy, sleep

    def send(self, message: OutgoingMessage) -> GatewayReceipt:
        key = message.idempotency_key
        request = self._client.build_request(
            "POST", "/messages", headers={"Idempotency-Key": key},
            json={"channel": message.channel, "to": message.to, "subject": message.subject, "body": message.body})
        response = self._send(request, key)
        if response.status_code >= 400:
            raise GatewayRejected(f"Cổng gửi thư/tin nhắn từ chối thông báo {key} (mã {response.status_code}): "
                                  f"{response.text[:300]}", request=request, idempotency_key=key, status=response.status_code)
        try:
            body = response.json()
            return GatewayReceipt(message_id=str(body["id"]), status=str(body.get("status", "")), idempotency_key=key)
        except (ValueError, KeyError, TypeError):  # not JSON, not an object, or no id: the answer is lost
            raise GatewayUnavailable(f"Cổng gửi thư/tin nhắn trả lời không đúng dạng cho thông báo {key} "
                                     f"(mã {response.status_code})", request=request, idempotency_key=key,
                                     status=response.status_code) from None

    def _send(self, request: httpx.Request, key: str) -> httpx.Response:
        try:
            return send(self._client, request, self._policy, sleep=self._sleep)
        except GaveUp as exc:
            problem = (f"trả lỗi {exc.status}" if exc.status is not None
                       else f"không trả lời ({type(exc.error).__name__}: {exc.error})")
            raise GatewayUnavailable(f"Cổng gửi thư/tin nhắn {problem} cho thông báo {key} sau {exc.attempts} lần thử",
                                     request=request, idempotency_key=key, status=exc.status) from exc.error

"""Client of the province portal's webhook that receives sanction outcomes.

``POST /outcomes`` with a JSON body ``{"event": "publish"|"amend"|"withdraw", "outcome": {...}}`` and headers
``Idempotency-Key`` (the same on every attempt of one message: the portal keeps the first and answers the same
for the rest) and the v2 signature (services/portal_signature.py): ``X-Kiemtra-Key-Id``, ``X-Kiemtra-Timestamp``
(Unix seconds) and ``X-Kiemtra-Signature: v2=<hex>`` over method, path, key, timestamp and the body's SHA-256.
Every call signs anew with the clock's time, so a message retried hours later is as fresh as its first attempt.
A 2xx (or 409 "already received") is delivered; a timeout, a dropped connection, 429 or 5xx is temporary; any
other 4xx (401: a bad signature, an unknown key id, a stale timestamp) is permanent. One call is one attempt:
the retries, their backoff and the dead letter belong to the stored messages (services/portal.py), so a crash
between attempts loses nothing.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from services.clients.retry import is_temporary_status
from services.errors import KiemtraError
from services.portal_signature import signature_headers
from services.settings import Settings

__all__ = ["PortalClient", "PortalRejected", "PortalUnavailable", "ReceiptSender", "make_portal_http_client"]


class PortalError(KiemtraError):
    pass


class PortalRejected(PortalError):
    """The portal will never accept this message as it is (a 4xx other than 409 and 429)."""


class PortalUnavailable(PortalError):
    """Try again later (timeout, connection, 429, 5xx, or an answer that is not a receipt)."""


@dataclass(frozen=True)
class PortalReceipt:
    ref: str
    duplicate: bool


class ReceiptSender(Protocol):
    """What the stored outboxes send through: one attempt, a receipt or PortalRejected / PortalUnavailable."""

    def send(self, idempotency_key: str, event: str, outcome: dict[str, Any]) -> PortalReceipt: ...


class PortalClient:
    """The portal's webhook; a subclass speaks the same protocol to another receiver (``path``, ``system_vi``,
    :meth:`body`: the national database feed, services/clients/national_feed.py)."""

    path = "/outcomes"
    system_vi = "Cổng thông tin"

    def __init__(self, http: httpx.Client, secret: bytes, *, key_id: str = "k1", clock: Any = time.time) -> None:
        self.http, self.secret, self.key_id, self.clock = http, secret, key_id, clock

    def send(self, idempotency_key: str, event: str, outcome: dict[str, Any]) -> PortalReceipt:
        body = self.body(event, outcome)
        request = self.http.build_request("POST", self.path, content=body, headers={
            "Idempotency-Key": idempotency_key, "Content-Type": "application/json; charset=utf-8"})
        # the path as the portal sees it on the request line (with KIEMTRA_PORTAL_URL's own path and any query)
        request.headers.update(signature_headers(self.key_id, self.secret, method=request.method,
                                                 path=request.url.raw_path.decode("ascii"), idempotency_key=idempotency_key,
                                                 timestamp=int(self.clock()), body=body))
        try:
            response = self.http.send(request)
        except httpx.TransportError as exc:  # timeouts and dropped connections included
            raise PortalUnavailable(f"{self.system_vi} không phản hồi: {type(exc).__name__}",
                                    idempotency_key=idempotency_key) from exc
        status = response.status_code
        if status == 409 or 200 <= status < 300:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            ref = str(answer.get("id") or "") if isinstance(answer, dict) else ""
            if not ref:
                raise PortalUnavailable(f"{self.system_vi} trả lời {status} nhưng không có mã tiếp nhận.",
                                        idempotency_key=idempotency_key, status=status)
            return PortalReceipt(ref, duplicate=status == 409 or bool(answer.get("duplicate")))
        if is_temporary_status(status):
            raise PortalUnavailable(f"{self.system_vi} tạm thời lỗi (HTTP {status}).", idempotency_key=idempotency_key,
                                    status=status)
        raise PortalRejected(f"{self.system_vi} từ chối (HTTP {status}): {response.text[:300]}",
                             idempotency_key=idempotency_key, status=status)

    def body(self, event: str, payload: dict[str, Any]) -> bytes:
        return json.dumps({"event": event, "outcome": payload}, ensure_ascii=False, sort_keys=True).encode()


def make_portal_http_client(settings: Settings) -> httpx.Client:
    if not settings.portal_url:
        raise KiemtraError("Chưa cấu hình KIEMTRA_PORTAL_URL.")
    return httpx.Client(base_url=settings.portal_url, timeout=settings.portal_timeout_s)

"""Client of the province portal's webhook that receives sanction outcomes.

``POST /outcomes`` with a JSON body ``{"event": "publish"|"amend"|"withdraw", "outcome": {...}}`` and headers
``Idempotency-Key`` (the same on every attempt of one message: the portal keeps the first and answers the same
for the rest), ``X-Kiemtra-Timestamp`` (Unix seconds) and ``X-Kiemtra-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<body bytes>"`` with the shared secret. A 2xx (or 409 "already received") is
delivered; a timeout, a dropped connection, 429 or 5xx is temporary; any other 4xx is permanent. One call is one
attempt: the retries, their backoff and the dead letter belong to the stored messages (services/portal.py),
so a crash between attempts loses nothing.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from services.errors import KiemtraError
from services.settings import Settings

__all__ = ["PortalClient", "PortalRejected", "PortalUnavailable", "make_portal_http_client", "sign"]


class PortalError(KiemtraError):
    pass


class PortalRejected(PortalError):
    """The portal will never accept this message as it is (a 4xx other than 409 and 429)."""


class PortalUnavailable(PortalError):
    """Try again later (timeout, connection, 429, 5xx, or an answer that is not a receipt)."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PortalReceipt:
    ref: str
    duplicate: bool


class PortalClient:
    def __init__(self, http: httpx.Client, secret: bytes, *, clock: Any = time.time) -> None:
        self.http, self.secret, self.clock = http, secret, clock

    def send(self, idempotency_key: str, event: str, outcome: dict[str, Any]) -> PortalReceipt:
        body = json.dumps({"event": event, "outcome": outcome}, ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(self.clock()))
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json; charset=utf-8",
                   "X-Kiemtra-Timestamp": timestamp, "X-Kiemtra-Signature": sign(self.secret, timestamp, body)}
        try:
            response = self.http.post("/outcomes", content=body, headers=headers)
        except httpx.TransportError as exc:  # timeouts and dropped connections included
            raise PortalUnavailable(f"Cổng thông tin không phản hồi: {type(exc).__name__}",
                                    idempotency_key=idempotency_key) from exc
        status = response.status_code
        if status == 409 or 200 <= status < 300:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            ref = str(answer.get("id") or "") if isinstance(answer, dict) else ""
            if not ref:
                raise PortalUnavailable(f"Cổng thông tin trả lời {status} nhưng không có mã tiếp nhận.",
                                        idempotency_key=idempotency_key, status=status)
            return PortalReceipt(ref, duplicate=status == 409 or bool(answer.get("duplicate")))  # type: ignore[union-attr]
        if status == 429 or status >= 500:
            raise PortalUnavailable(f"Cổng thông tin tạm thời lỗi (HTTP {status}).", idempotency_key=idempotency_key,
                                    status=status)
        raise PortalRejected(f"Cổng thông tin từ chối (HTTP {status}): {response.text[:300]}",
                             idempotency_key=idempotency_key, status=status)


def make_portal_http_client(settings: Settings) -> httpx.Client:
    if not settings.portal_url:
        raise KiemtraError("Chưa cấu hình KIEMTRA_PORTAL_URL.")
    return httpx.Client(base_url=settings.portal_url, timeout=settings.portal_timeout_s)

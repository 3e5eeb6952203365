"""Client of the national database on handling administrative violations (its receiving endpoint, or the
province's gateway to it): the transport of the national feed (contract: docs/national-feed.md).

No public schema of the national database is known, so the engine speaks one documented JSON contract
(``kiemtra-national-feed/1``) over the province portal's protocol (services/clients/portal.py): ``POST /decisions``
with the message as the body, ``Idempotency-Key`` = the message's key (``national:<document id>:<event>``) and the
v2 HMAC signature (services/portal_signature.py) signed anew at each attempt. 2xx, or 409 "already received", is
delivered; a timeout, a dropped connection, 429 or 5xx is temporary; any other 4xx is permanent (dead, with the
receiver's reason).

The transport is pluggable: anything with ``send(key, event, payload) -> receipt`` raising
:class:`~services.clients.portal.PortalRejected` / :class:`~services.clients.portal.PortalUnavailable` (a VNeID-era
gateway, a file drop); :func:`make_national_feed_http_client` builds the HTTP one from settings
(``KIEMTRA_NATIONAL_FEED_URL``, ``KIEMTRA_NATIONAL_FEED_SECRET``, ``KIEMTRA_NATIONAL_FEED_KEY_ID``,
``KIEMTRA_NATIONAL_FEED_TIMEOUT_S``).
"""
from __future__ import annotations

import json
from typing import Any

import httpx

from services.clients.portal import PortalClient, ReceiptSender
from services.errors import KiemtraError
from services.settings import Settings

__all__ = ["CONTRACT", "FeedTransport", "NationalFeedClient", "make_national_feed_http_client"]

CONTRACT = "kiemtra-national-feed/1"


FeedTransport = ReceiptSender  # anything that sends one message and answers with a receipt


class NationalFeedClient(PortalClient):
    """The HTTP transport: the portal client's signing, timeouts and answer reading, on ``/decisions``."""

    path = "/decisions"
    system_vi = "Cơ sở dữ liệu quốc gia về xử lý vi phạm hành chính"

    def body(self, event: str, payload: dict[str, Any]) -> bytes:
        # the payload already names its event and contract (services/delivery/national_payload.py)
        return json.dumps({**payload, "event": event}, ensure_ascii=False, sort_keys=True).encode()


def make_national_feed_http_client(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The HTTP client of the feed's receiver (``transport``: a test's stand-in, through services/wiring.py)."""
    if not settings.national_feed_url:
        raise KiemtraError("Chưa cấu hình KIEMTRA_NATIONAL_FEED_URL.")
    return httpx.Client(base_url=settings.national_feed_url, timeout=settings.national_feed_timeout_s, transport=transport)

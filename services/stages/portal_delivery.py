"""Sending the publications that are due to the province portal (the queue: :mod:`services.delivery.portal`)."""
from __future__ import annotations

from services.delivery.portal import deliver_pending
from services.settings import Settings
from services.stages.common import StageResult
from services.wiring import Wiring


def deliver(settings: Settings, campaign_code: str = "*", *, wiring: Wiring | None = None) -> StageResult:
    """The stage: send what is due through the configured portal (kept pending while none is configured).

    ``wiring`` (the composition root, :mod:`services.wiring`) opens the portal client; built from ``settings`` when not
    given."""
    result = StageResult("deliver-to-portal", campaign_code)
    if not settings.portal_url or settings.portal_secret is None:
        result.details = {"portal": "chưa cấu hình KIEMTRA_PORTAL_URL / KIEMTRA_PORTAL_SECRET: tin được giữ chờ gửi"}
        return result
    with (wiring or Wiring(settings)).portal() as client:
        report = deliver_pending(settings, client)
    result.done = report.delivered
    result.details = {"retrying": report.retrying, "dead": report.dead, "waiting": report.waiting}
    return result

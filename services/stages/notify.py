"""Sending the enqueued notifications through the configured gateway (opened by the composition root,
:mod:`services.wiring`)."""
from __future__ import annotations

from services.delivery.notifications import deliver_pending
from services.settings import Settings
from services.stages.common import StageResult
from services.wiring import Wiring

STAGE = "deliver-notifications"


def deliver(settings: Settings, campaign_code: str, campaign_id: int | None = None, *,
            wiring: Wiring | None = None) -> StageResult:
    """``wiring`` opens the gateway (built from ``settings`` when not given)."""
    result = StageResult(STAGE, campaign_code)
    if not settings.gateway_url:
        result.details = {"gateway": "chưa cấu hình KIEMTRA_GATEWAY_URL: thông báo được giữ ở trạng thái chờ gửi"}
        return result
    with (wiring or Wiring(settings)).gateway() as gateway:
        report = deliver_pending(settings, gateway, campaign_id=campaign_id)
    result.done = report.delivered
    result.details = {"pending": report.pending, "failed": report.failed}
    return result

"""Sending the enqueued notifications through the configured gateway (the composition root for it)."""
from __future__ import annotations

from services.clients.gateway import GatewayClient, make_gateway_http_client
from services.notifications import deliver_pending
from services.settings import Settings
from services.stages.common import StageResult

STAGE = "deliver-notifications"


def deliver(settings: Settings, campaign_code: str, campaign_id: int | None = None) -> StageResult:
    result = StageResult(STAGE, campaign_code)
    if not settings.gateway_url:
        result.details = {"gateway": "chưa cấu hình KIEMTRA_GATEWAY_URL: thông báo được giữ ở trạng thái chờ gửi"}
        return result
    with make_gateway_http_client(settings) as http:
        report = deliver_pending(settings, GatewayClient(http), campaign_id=campaign_id)
    result.done = report.delivered
    result.details = {"pending": report.pending, "failed": report.failed}
    return result

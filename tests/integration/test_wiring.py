"""The composition root (services/wiring.py): a test hands the stages and flows a fake outside system through it,
never by patching our own modules."""
from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from models import DeliveryStatus, Notification
from services import wiring
from services.db import session_scope
from services.delivery.notifications import enqueue
from services.settings import Settings
from services.stages import notify
from tests.factories import create_campaign


@pytest.fixture
def gw_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"gateway_url": "http://gateway.test", "gateway_token": SecretStr("tok-3f9a")})


@pytest.fixture
def notification_id(gw_settings: Settings) -> int:
    campaign_id = create_campaign(gw_settings).id
    with session_scope(gw_settings) as session:
        row = enqueue(session, key="tb-1", campaign_id=campaign_id, inspection_id=None, kind="inspection_notice",
                      recipient_kind="establishment", recipient_ref="0100233488", channel="email",
                      address="antoan@cokhihoabinh.vn", subject="Thông báo kiểm tra", body="Đoàn kiểm tra sẽ làm việc.")
    assert row.id is not None
    return row.id


class FakeGateway:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(202, json={"id": f"gw-{len(self.requests)}", "status": "accepted"})


def _status(settings: Settings, notification_id: int) -> str:
    with session_scope(settings) as session:
        return str(session.get_one(Notification, notification_id).status)


def test_the_notify_stage_sends_through_the_gateway_the_root_opens(gw_settings: Settings, notification_id: int) -> None:
    fake = FakeGateway()
    root = wiring.Wiring(gw_settings, transports={"gateway": httpx.MockTransport(fake)})
    result = notify.deliver(gw_settings, "*", wiring=root)
    assert result.done == 1
    assert [r.url.path for r in fake.requests] == ["/messages"]
    assert fake.requests[0].headers["Authorization"] == "Bearer tok-3f9a"  # the root built it from the settings
    assert _status(gw_settings, notification_id) == str(DeliveryStatus.DELIVERED)


def test_a_flow_task_reads_the_wiring_installed_for_its_process(gw_settings: Settings, notification_id: int) -> None:
    from flows import deadline_sweeper

    fake = FakeGateway()
    with wiring.use(wiring.Wiring(gw_settings, transports={"gateway": httpx.MockTransport(fake)})):
        out = deadline_sweeper.deliver.fn()
    assert out["done"] == 1 and len(fake.requests) == 1
    assert wiring.current().settings is not gw_settings  # uninstalled when the block ends


def test_without_a_gateway_the_stage_keeps_the_message_pending(settings: Settings, notification_id: int) -> None:
    result = notify.deliver(settings, "*", wiring=wiring.Wiring(settings))
    assert result.done == 0 and "KIEMTRA_GATEWAY_URL" in result.details["gateway"]
    assert _status(settings, notification_id) == str(DeliveryStatus.PENDING)


def test_a_fake_for_an_unknown_system_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="no outside system named"):
        wiring.Wiring(settings, transports={"gatway": httpx.MockTransport(FakeGateway())})

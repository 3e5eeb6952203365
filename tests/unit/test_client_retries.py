"""The clients' one retry policy (services/clients/retry.py), through each client that uses it: the gateway, the
registry API and the intake API. Waits are observed through the injected ``sleep``, never slept."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from services.clients.gateway import GatewayClient, GatewayRejected, GatewayUnavailable, OutgoingMessage
from services.demo.intake_client import IntakeClient, IntakeClientError
from services.clients.registry_api import RegistryApiClient, RegistryApiError
from services.clients.retry import RetryPolicy, retry_after_s
from services.delivery.portal import backoff as portal_backoff
from services.settings import Settings

BASE = "http://outside.test"
Handler = Callable[[httpx.Request], httpx.Response]
EXACT = RetryPolicy(attempts=4, initial_s=0.2, jitter_s=0.0, retry_after_max_s=10.0)  # no jitter: exact waits


class FakeServer:
    """A MockTransport handler: ``failures`` first, one per request, then ``answer``."""

    def __init__(self, answer: Handler, failures: list[Handler]) -> None:
        self.answer, self.failures = answer, list(failures)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.failures.pop(0)(request) if self.failures else self.answer(request)


def _gateway(http: httpx.Client, policy: RetryPolicy, sleep: Callable[[float], None]) -> Any:
    message = OutgoingMessage("tb-1", "email", "antoan@cokhihoabinh.vn", "Thông báo kiểm tra", "Kính gửi…")
    return GatewayClient(http, policy=policy, sleep=sleep).send(message)


def _registry(http: httpx.Client, policy: RetryPolicy, sleep: Callable[[float], None]) -> Any:
    return list(RegistryApiClient(http, policy=policy, sleep=sleep).iter_establishments("04"))


def _intake(http: httpx.Client, policy: RetryPolicy, sleep: Callable[[float], None]) -> Any:
    return IntakeClient(http, token="tok-1", policy=policy, sleep=sleep).inspections()


# each client: how to call it, and the answer that succeeds
CLIENTS: dict[str, tuple[Callable[..., Any], Handler]] = {
    "gateway": (_gateway, lambda r: httpx.Response(202, json={"id": "gw-1", "status": "accepted"})),
    "registry": (_registry, lambda r: httpx.Response(200, json={"items": [], "page": 1, "pages": 1, "total": 0})),
    "intake": (_intake, lambda r: httpx.Response(200, json=[])),
}


def _call(name: str, failures: list[Handler], policy: RetryPolicy = EXACT) -> tuple[FakeServer, list[float], Any]:
    """Call client ``name`` against a server that fails with ``failures`` first; the server, the waits, the result
    (or the exception raised)."""
    call, answer = CLIENTS[name]
    server, sleeps = FakeServer(answer, failures), list[float]()
    with httpx.Client(base_url=BASE, transport=httpx.MockTransport(server)) as http:
        try:
            result = call(http, policy, sleeps.append)
        except Exception as exc:  # noqa: BLE001 (the test looks at which)
            result = exc
    return server, sleeps, result


def _status(code: int, **headers: str) -> Handler:
    return lambda request: httpx.Response(code, headers=headers, json={"detail": f"lỗi {code}", "errors": []})


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


def _http_date(delta: timedelta) -> str:
    return format_datetime(datetime.now(UTC) + delta, usegmt=True)


@pytest.mark.parametrize("name", CLIENTS)
def test_retry_after_is_honoured_within_the_cap(name: str) -> None:
    failures = [_status(429, **{"Retry-After": "3"}),                    # seconds: waited as asked
                _status(503, **{"Retry-After": _http_date(timedelta(hours=1))}),  # an hour: the cap, 10 s
                _status(503, **{"Retry-After": _http_date(-timedelta(hours=1))}),  # already past: at once
                _status(500, **{"Retry-After": "7"})]                     # not a 429/503: the backoff (0.2 × 2³)
    server, sleeps, result = _call(name, failures, RetryPolicy(attempts=5, initial_s=0.2, jitter_s=0.0,
                                                               retry_after_max_s=10.0))
    assert not isinstance(result, Exception)
    assert (len(server.requests), sleeps) == (5, [3.0, 10.0, 0.0, 1.6])


@pytest.mark.parametrize(("value", "expected"), [("3", 3.0), (" 120 ", 120.0), ("0", 0.0), ("soon", None),
                                                 ("-1", None), ("1.5", None), ("", None)])
def test_retry_after_reads_delay_seconds_only_when_well_formed(value: str, expected: float | None) -> None:
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": value})) == expected


def test_retry_after_counts_only_on_429_and_503() -> None:
    assert retry_after_s(httpx.Response(429, headers={"Retry-After": "4"})) == 4.0
    assert retry_after_s(httpx.Response(502, headers={"Retry-After": "4"})) is None
    assert retry_after_s(httpx.Response(503)) is None
    ahead = retry_after_s(httpx.Response(503, headers={"Retry-After": _http_date(timedelta(seconds=90))}))
    assert ahead is not None and 85.0 <= ahead <= 90.0


def test_the_jitter_is_bounded_and_the_backoff_capped() -> None:
    policy = RetryPolicy(attempts=4, initial_s=0.2, jitter_s=0.1, max_s=0.5)
    for attempt, low, high in ((1, 0.2, 0.3), (2, 0.4, 0.5), (3, 0.5, 0.5), (60, 0.5, 0.5), (5000, 0.5, 0.5)):
        delays = [policy.delay(attempt) for _ in range(500)]
        assert low <= min(delays) and max(delays) <= high, attempt
    first = [policy.delay(1) for _ in range(500)]
    assert max(first) - min(first) > 0.05  # spread over the jitter, not one fixed value


@pytest.mark.parametrize("name", CLIENTS)
def test_every_client_waits_with_jitter(name: str) -> None:
    policy = RetryPolicy(attempts=3, initial_s=0.2, jitter_s=0.1)
    waits = [_call(name, [_status(502)] * 2, policy)[1] for _ in range(20)]
    assert all(len(w) == 2 and 0.2 <= w[0] <= 0.3 and 0.4 <= w[1] <= 0.5 for w in waits), waits
    assert len({w[0] for w in waits}) > 1  # not the same wait every time


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 413, 422])
@pytest.mark.parametrize("name", CLIENTS)
def test_a_4xx_is_never_retried(name: str, code: int) -> None:
    server, sleeps, result = _call(name, [_status(code, **{"Retry-After": "1"})])
    assert (len(server.requests), sleeps) == (1, [])
    expected = {"gateway": GatewayRejected, "registry": RegistryApiError, "intake": IntakeClientError}[name]
    assert isinstance(result, (GatewayRejected, RegistryApiError, IntakeClientError)) and type(result) is expected
    assert result.status == code


@pytest.mark.parametrize("name", CLIENTS)
def test_429_and_5xx_are_retried_by_every_client(name: str) -> None:
    server, sleeps, result = _call(name, [_status(429), _status(500), _status(503)])
    assert not isinstance(result, Exception)
    assert (len(server.requests), sleeps) == (4, [0.2, 0.4, 0.8])


def test_a_transport_error_is_retried_then_raised_as_the_gateways_error() -> None:
    server, sleeps, result = _call("gateway", [_refused] * 3, RetryPolicy(attempts=3, initial_s=0.2, jitter_s=0.0))
    assert (len(server.requests), sleeps) == (3, [0.2, 0.4])
    assert isinstance(result, GatewayUnavailable) and result.status is None and result.idempotency_key == "tb-1"
    assert result.message == ("Cổng gửi thư/tin nhắn không trả lời (ConnectError: Connection refused) "
                              "cho thông báo tb-1 sau 3 lần thử")
    assert isinstance(result.__cause__, httpx.ConnectError)


def test_a_transport_error_is_retried_then_raised_as_the_registrys_error() -> None:
    server, sleeps, result = _call("registry", [_refused] * 3, RetryPolicy(attempts=3, initial_s=0.2, jitter_s=0.0))
    assert (len(server.requests), sleeps) == (3, [0.2, 0.4])
    assert isinstance(result, RegistryApiError) and (result.status, result.page) == (None, 1)
    assert result.message == "API sổ đăng ký không trả lời trang 1 sau 3 lần thử: ConnectError('Connection refused')"
    assert result.request is not None and result.request.url.params["province"] == "04"


def test_a_transport_error_is_retried_then_raised_as_it_is_by_the_intake_client() -> None:
    server, sleeps, result = _call("intake", [_refused] * 3, RetryPolicy(attempts=3, initial_s=0.2, jitter_s=0.0))
    assert (len(server.requests), sleeps) == (3, [0.2, 0.4])
    assert isinstance(result, httpx.ConnectError)


def test_the_intake_client_resends_the_same_submission_and_reports_the_servers_words() -> None:
    busy = _status(503, **{"Retry-After": "30"})
    server, sleeps = FakeServer(CLIENTS["intake"][1], [busy] * 4), list[float]()
    with httpx.Client(base_url=BASE, transport=httpx.MockTransport(server)) as http:
        client = IntakeClient(http, token="tok-1", policy=EXACT, sleep=sleeps.append)
        with pytest.raises(IntakeClientError) as exc:
            client.submit_findings(7, "may-1-0001", [{"item_code": "A1", "compliant": True}])
    assert (exc.value.status, exc.value.detail) == (503, "lỗi 503")
    assert sleeps == [10.0] * 3  # the server's 30 s, capped
    assert {r.content for r in server.requests} == {server.requests[0].content}
    assert {r.headers["Authorization"] for r in server.requests} == {"Bearer tok-1"}


@pytest.mark.parametrize("fields", [{"attempts": 0}, {"initial_s": -1.0}, {"jitter_s": -0.1}])
def test_a_policy_that_cannot_work_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**fields)


def test_the_portals_stored_messages_wait_by_the_same_schedule_without_jitter(tmp_path: Any) -> None:
    """Between delivery runs, not inside one: 60 s doubling each attempt, never more than a day."""
    schedule = portal_backoff(Settings(environment="test", data_dir=tmp_path, portal_backoff_s=60.0))
    assert [schedule.delay(n) for n in (1, 2, 3, 4, 11, 12, 40)] == [60.0, 120.0, 240.0, 480.0, 61440.0, 86400.0, 86400.0]

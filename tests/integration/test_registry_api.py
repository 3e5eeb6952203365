"""The registry API client: paging, retries with backoff, typed errors, and the import of what it returns."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from models.establishment import Establishment
from models.registry import RegistryImport
from services.clients.registry_api import RegistryApiClient, RegistryApiError, import_from_api, make_http_client
from services.clients.retry import RetryPolicy
from services.db import session_scope
from services.demo.registry import generate_registry
from services.errors import RegistryImportRejected
from services.settings import Settings
from tests.factories import count
from tests.http_support import serve

TODAY = date(2026, 3, 1)
BASE = "http://registry.test/api/"


def _items(n: int, province: str = "04", seed: int = 11) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(r, default=str)) for r in
            generate_registry(n, province_codes=[province], seed=seed, as_of=TODAY)]


def _page(items: list[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
    pages = max(1, -(-len(items) // size))
    return {"items": items[(page - 1) * size: page * size], "page": page, "pages": pages, "total": len(items)}


class FakeRegistry:
    """A MockTransport handler over ``items``; ``failures`` are served first, one per request."""

    def __init__(self, items: list[dict[str, Any]], failures: list[Callable[[httpx.Request], httpx.Response]] | None = None):
        self.items, self.failures, self.requests = items, list(failures or []), []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            return self.failures.pop(0)(request)
        q = request.url.params
        return httpx.Response(200, json=_page(self.items, int(q["page"]), int(q["page_size"])))


def _client(fake: FakeRegistry, sleeps: list[float], *, attempts: int = 4, **kw: Any) -> RegistryApiClient:
    policy = RetryPolicy(attempts=attempts, initial_s=0.2, jitter_s=0.0)  # no jitter: the waits are exact
    return RegistryApiClient(make_http_client(BASE, transport=httpx.MockTransport(fake)), policy=policy,
                             sleep=sleeps.append, **kw)


def _status(code: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, text="lỗi")


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def test_pages_are_followed_to_the_last() -> None:
    items, sleeps = _items(10), []
    fake = FakeRegistry(items)
    records = list(_client(fake, sleeps, page_size=4).iter_establishments("04"))

    assert [r.tax_code for r in records] == [i["tax_code"] for i in items]
    assert records[0].last_inspected_on is None or isinstance(records[0].last_inspected_on, date)
    assert [str(r.url) for r in fake.requests] == [
        f"{BASE}establishments?province=04&page={p}&page_size=4" for p in (1, 2, 3)]
    assert sleeps == []


@pytest.mark.parametrize("failure", [_status(503), _timeout], ids=["503", "timeout"])
def test_a_transient_failure_is_retried_after_a_backoff(failure: Callable[[httpx.Request], httpx.Response]) -> None:
    sleeps: list[float] = []
    fake = FakeRegistry(_items(3), failures=[failure])
    assert len(list(_client(fake, sleeps).iter_establishments("04"))) == 3
    assert (len(fake.requests), sleeps) == (2, [0.2])


def test_retries_back_off_exponentially_then_give_up() -> None:
    sleeps: list[float] = []
    fake = FakeRegistry(_items(3), failures=[_status(503)] * 4)
    with pytest.raises(RegistryApiError) as exc:
        list(_client(fake, sleeps, attempts=4).iter_establishments("04"))
    assert (exc.value.status, exc.value.page, len(fake.requests)) == (503, 1, 4)
    assert sleeps == [0.2, 0.4, 0.8]


def test_a_4xx_is_not_retried_and_carries_the_request() -> None:
    sleeps: list[float] = []
    fake = FakeRegistry(_items(3), failures=[_status(404)])
    with pytest.raises(RegistryApiError) as exc:
        list(_client(fake, sleeps).iter_establishments(None))
    assert exc.value.status == 404 and exc.value.request is not None
    assert str(exc.value.request.url) == f"{BASE}establishments?page=1&page_size=500"
    assert "API sổ đăng ký trả lỗi 404 cho trang 1" in exc.value.message
    assert (len(fake.requests), sleeps) == (1, [])


def test_a_malformed_item_names_its_page_and_index() -> None:
    items = _items(7)
    items[5]["workforce"] = "nhiều"  # page 2 (size 4), items[1]
    with pytest.raises(RegistryApiError) as exc:
        list(_client(FakeRegistry(items), [], page_size=4).iter_establishments("04"))
    assert (exc.value.page, exc.value.index) == (2, 1)
    assert exc.value.message.startswith("API sổ đăng ký: trang 2, phần tử items[1] sai dạng (workforce:")


def test_a_body_that_is_not_a_page_is_an_error() -> None:
    fake = FakeRegistry([], failures=[lambda request: httpx.Response(200, json=[1, 2])])
    with pytest.raises(RegistryApiError) as exc:
        list(_client(fake, []).iter_establishments("04"))
    assert exc.value.page == 1 and exc.value.status == 200


def test_import_from_api_checks_and_upserts_like_a_file(settings: Settings) -> None:
    items = _items(12)
    client = _client(FakeRegistry(items), [], page_size=5)
    first = import_from_api(settings, client, "04", actor="dongbo", today=TODAY)
    second = import_from_api(settings, client, "04", actor="dongbo", today=TODAY)
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (12, 0, 0, 12)
    assert first.source == f"{BASE}establishments?province=04"

    items[7] = {**items[7], "tax_code": "0100233489"}
    items[2] = {**items[2], "hazardous_workers": items[2]["workforce"] + 1}
    with pytest.raises(RegistryImportRejected) as exc:
        import_from_api(settings, client, "04", actor="dongbo", today=TODAY)
    assert [(e.row, e.column) for e in exc.value.report.errors] == [(3, "Số lao động làm nghề NNĐHNH"), (8, "Mã số thuế")]
    assert exc.value.report.errors[1].reason == "Mã số thuế 0100233489 sai chữ số kiểm tra (chữ số thứ 10 phải là 8)"
    with session_scope(settings) as session:
        assert (count(session, Establishment), count(session, RegistryImport)) == (12, 2)


# --- once against a real HTTP server ----------------------------------------------------------------------------

@pytest.fixture
def registry_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    items = _items(230, seed=5)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != "/establishments" or q.get("province") != "04":
                self.send_error(404)
                return
            body = json.dumps(_page(items, int(q["page"]), int(q["page_size"])), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve(Handler) as url:
        yield url, items


def test_import_from_a_real_local_server(settings: Settings, registry_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, items = registry_server
    with make_http_client(url, timeout_s=5.0) as http:
        client = RegistryApiClient(http, page_size=100)
        result = import_from_api(settings, client, "04", actor="dongbo", today=TODAY)
        with pytest.raises(RegistryApiError) as exc:
            list(client.iter_establishments("20"))
    assert (result.rows, result.inserted, result.rejected) == (230, 230, 0)
    assert exc.value.status == 404
    with session_scope(settings) as session:
        assert count(session, Establishment) == 230
        entry = session.get(RegistryImport, result.import_id)
        assert entry is not None and entry.source == f"{url}/establishments?province=04"

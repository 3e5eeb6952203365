"""Client of the establishment registry API (paged JSON), and the import of what it returns.

``GET /establishments?province=04&page=1&page_size=500`` answers
``{"items": [...], "page": 1, "pages": 12, "total": 5873}``; items are keyed by the Establishment column
names. Transport errors (timeouts included), 429 and 5xx answers are retried by the clients' one policy
(services/clients/retry.py: backoff with jitter, Retry-After honoured); any other 4xx, a body that is not a page,
a malformed item, or retries running out raises :class:`RegistryApiError`. Timeouts belong to the injected
``httpx.Client`` (:func:`make_http_client`).

    KiemtraError
    └── RegistryApiError   request, status (None for a transport error), page, index (of the bad item)
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from services.clients.retry import DEFAULT_POLICY, GaveUp, RetryPolicy, send
from services.errors import KiemtraError
from services.registry.importer import import_records
from services.registry.report import ImportResult
from services.settings import Settings

__all__ = ["RegistryApiClient", "RegistryApiError", "RegistryRecord", "import_from_api", "make_http_client"]


class RegistryApiError(KiemtraError):
    def __init__(self, message: str, *, request: httpx.Request | None = None, status: int | None = None,
                 page: int | None = None, index: int | None = None) -> None:
        super().__init__(message, page=page, index=index, status=status)
        self.request, self.status, self.page, self.index = request, status, page, index


class RegistryRecord(BaseModel):
    """One establishment as the API sends it. Types are checked here; the registry rules (check digit,
    communes, counts ≤ workforce…) are checked by the importer, like a spreadsheet's."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tax_code: str
    name: str
    address: str
    province_code: str
    commune_code: str
    sector_vsic: str
    workforce: int
    ownership: str | None = None  # any label the import reads: enterprise, doanh_nghiep, Doanh nghiệp, DN…
    legal_representative: str | None = None
    representative_title: str | None = None
    hazardous_workers: int | None = None
    working_condition_class_max: int | None = None
    strict_equipment_count: int | None = None
    strict_work_workers: int | None = None
    last_health_exam_on: date | None = None
    last_disease_exam_on: date | None = None
    last_environment_monitoring_on: date | None = None
    monitoring_failing_ratio: float | None = None
    fatal_accidents_3y: int | None = None
    serious_accidents_3y: int | None = None
    accidents_3y: int | None = None
    accident_reports_late: int | None = None
    osh_organisation_gaps: int | None = None
    untrained_workers: int | None = None
    vulnerable_workers: int | None = None
    past_violations: int | None = None
    last_inspected_on: date | None = None
    open_complaints: int | None = None


class _Page(BaseModel):
    items: list[Any]
    page: int
    pages: int
    total: int


def make_http_client(base_url: str, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The ``httpx.Client`` the composition root hands to :class:`RegistryApiClient`."""
    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)), transport=transport)


class RegistryApiClient:
    def __init__(self, client: httpx.Client, *, page_size: int = 500, policy: RetryPolicy = DEFAULT_POLICY,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client, self._page_size, self._policy, self._sleep = client, page_size, policy, sleep

    def source(self, province_code: str | None) -> str:
        """The URL of the listing, as recorded in ``RegistryImport.source``."""
        params = {"province": province_code} if province_code else {}
        return str(self._client.build_request("GET", "/establishments", params=params).url)

    def iter_establishments(self, province_code: str | None) -> Iterator[RegistryRecord]:
        page, pages = 1, 1
        while page <= pages:
            body = self._page(province_code, page)
            for index, item in enumerate(body.items):
                try:
                    yield RegistryRecord.model_validate(item)
                except ValidationError as exc:
                    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'bản ghi'}: {e['msg']}" for e in exc.errors())
                    raise RegistryApiError(f"API sổ đăng ký: trang {page}, phần tử items[{index}] sai dạng ({problems})",
                                           page=page, index=index) from None
            pages = body.pages
            page += 1

    def _page(self, province_code: str | None, page: int) -> _Page:
        params: dict[str, Any] = {"page": page, "page_size": self._page_size}
        if province_code:
            params = {"province": province_code, **params}
        response = self._send(self._client.build_request("GET", "/establishments", params=params), page)
        try:
            return _Page.model_validate(response.json())
        except (ValueError, ValidationError):  # not JSON, or not a page
            raise RegistryApiError(f"API sổ đăng ký: trang {page} không đúng dạng {{items, page, pages, total}}",
                                   request=response.request, status=response.status_code, page=page) from None

    def _send(self, request: httpx.Request, page: int) -> httpx.Response:
        try:
            response = send(self._client, request, self._policy, sleep=self._sleep)
        except GaveUp as exc:
            if exc.response is None:
                raise RegistryApiError(f"API sổ đăng ký không trả lời trang {page} sau {exc.attempts} lần thử: "
                                       f"{exc.error!r}", request=request, page=page) from exc.error
            response = exc.response
        if response.status_code >= 400:
            raise RegistryApiError(f"API sổ đăng ký trả lỗi {response.status_code} cho trang {page} ({request.url})",
                                   request=request, status=response.status_code, page=page)
        return response


def import_from_api(settings: Settings, client: RegistryApiClient, province_code: str | None, *, actor: str,
                    valid_only: bool = False, today: date | None = None) -> ImportResult:
    """Pull every page, then check and upsert exactly as a spreadsheet import (record k reported as row k).

    All pages are fetched before anything is written, so a failed pull writes nothing. ``content_sha256``
    is over the records as received (canonical JSON, in order).
    """
    digest = hashlib.sha256()
    records = []
    for record in client.iter_establishments(province_code):
        data = record.model_dump()
        digest.update(json.dumps(record.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode())
        records.append(data)
    return import_records(settings, client.source(province_code), records, content_sha256=digest.hexdigest(),
                          actor=actor, valid_only=valid_only, today=today)

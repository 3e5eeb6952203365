"""The public register served read-only, without login, under ``/cong-khai`` (``services/publishing/register.py`` builds it).

* ``GET /cong-khai`` — the page: ``?q=`` (establishment name, tax code or decision number), ``xa`` (a commune's
  name), ``can_cu`` (a legal provision), ``tu``/``den`` (decision dates), ``sap_xep`` and ``trang`` (20 rows a
  page). All handled here on the server: search and paging work without JavaScript (the page has none).
* ``GET /cong-khai/register.json``, ``GET /cong-khai/register.csv`` — the same rows as the page for the same query,
  in the same order, not paged (without a query: the whole register, as the files in ``documents/public/``).

Every answer is built from the stored publications at request time (retention counted from today in Việt Nam)
and passes the register's de-identification guard first: when it refuses, nothing is served (503).
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from services.publishing.register import PublicView, open_data, public_view
from services.publishing.query import RegisterQuery
from services.errors import DeidentificationError

router = APIRouter(prefix="/cong-khai", tags=["public register"], include_in_schema=False)
log = logging.getLogger(__name__)

BASE = "/cong-khai"
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
PAGE_HEADERS = {**COMMON, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                                     "frame-ancestors 'none'; base-uri 'none'"}
DATA_HEADERS = {**COMMON, "Access-Control-Allow-Origin": "*"}
UNAVAILABLE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sổ công khai tạm ngừng hiển thị</title></head>
<body><main><h1>Sổ công khai tạm ngừng hiển thị</h1>
<p>Sổ công khai kết quả xử phạt đang được rà soát để bảo vệ dữ liệu cá nhân. Vui lòng quay lại sau.</p></main></body></html>
"""


def _view(request: Request) -> PublicView | None:
    query = RegisterQuery.from_params(request.query_params)
    with Session(request.app.state.engine) as session:
        try:
            return public_view(session, query, base=BASE)
        except DeidentificationError as exc:  # the lead sees the details in the publishing stage; the public nothing
            log.error("Sổ công khai không được phục vụ: %s", exc.message)
            return None


def _unavailable(media_type: str) -> Response:
    body = UNAVAILABLE if media_type == "text/html" else ""
    return Response(body, status_code=503, media_type=media_type, headers={**COMMON, "Retry-After": "600"})


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def register_page(request: Request) -> Response:
    view = _view(request)
    if view is None:
        return _unavailable("text/html")
    return HTMLResponse(view.html, headers=PAGE_HEADERS)


@router.get("/register.json")
def register_json(request: Request) -> Response:
    view = _view(request)
    if view is None:
        return _unavailable("application/json")
    return Response(open_data(view.selected)["register.json"], media_type="application/json", headers=DATA_HEADERS)


@router.get("/register.csv")
def register_csv(request: Request) -> Response:
    view = _view(request)
    if view is None:
        return _unavailable("text/csv")
    return Response(open_data(view.selected)["register.csv"], media_type="text/csv; charset=utf-8",
                    headers={**DATA_HEADERS, "Content-Disposition": 'attachment; filename="register.csv"'})

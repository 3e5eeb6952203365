"""Last-resort answers of the intake API: whatever leaks out of a handler is answered in the API's one error shape
(``{"detail": …, "errors": […]}``, Vietnamese) and recorded in the log with the route and a request id.

- a database error (SQLAlchemy): a ``DataError`` can only come from what was sent (a value the database cannot
  hold) → 422; the database unreachable or busy → 503; anything else → 500. The log names the error class, the
  database's SQLSTATE and the constraint, table or column, never the statement or its parameters (they hold what
  people sent, tokens' hashes included);
- any other exception → 500 (the server logs its traceback);
- the framework's own HTTP errors (a body it could not parse: 400, an unknown path: 404, …), which it words in
  English, in Vietnamese.

Every answer says whether anything was stored (nothing: the unit of work rolled back) and gives the request id,
also sent as ``X-Request-ID``, so a person can quote it and the log line be found.
"""
from __future__ import annotations

import logging
import re
import traceback
import uuid
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NOT_STORED = "Yêu cầu chưa được xử lý và không có dữ liệu nào được lưu."
STATUS_VI = {
    400: "Không đọc được nội dung gửi lên: sai định dạng (JSON, biểu mẫu) hoặc không phải văn bản UTF-8.",
    401: "Chưa xác thực.", 403: "Không có quyền.", 404: "Không tìm thấy địa chỉ này.",
    405: "Địa chỉ này không nhận phương thức {method}.", 406: "Không trả lời được ở định dạng yêu cầu.",
    413: "Nội dung gửi lên quá lớn.", 415: "Loại nội dung gửi lên không được nhận.",
    429: "Quá nhiều yêu cầu; hãy thử lại sau.",
}
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, sa.exc.DisconnectionError)


def request_id(request: Request) -> str:
    """The id a proxy or client gave (``X-Request-ID``, when it is a plain token), else a new one; kept per request."""
    known = getattr(request.state, "request_id", None)
    if known:
        return str(known)
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    rid = sent if _SAFE_ID.fullmatch(sent) else uuid.uuid4().hex[:16]
    request.state.request_id = rid
    return rid


def _route(request: Request) -> str:
    """The route's template (``/api/inspections/{inspection_id}/findings``), not the path people typed."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def _database_facts(exc: sa.exc.SQLAlchemyError) -> str:
    """What failed, without the statement or its values: psycopg's diagnostics, or the driver's first line."""
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if diag is not None:
        facts = {"sqlstate": getattr(orig, "sqlstate", None), "table": diag.table_name, "column": diag.column_name,
                 "constraint": diag.constraint_name}
        return " ".join(f"{k}={v}" for k, v in facts.items() if v)
    if orig is not None:
        return f"{type(orig).__name__}: {str(orig).splitlines()[0][:200] if str(orig) else ''}"
    return ""


def _answer(status: int, detail: str, rid: str, *, headers: dict[str, str] | None = None,
            errors: list[str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "errors": errors or []},
                        headers={REQUEST_ID_HEADER: rid, **(headers or {})})


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, sa.exc.SQLAlchemyError)
    rid = request_id(request)
    frames = "".join(traceback.format_tb(exc.__traceback__))  # where it failed; the message would hold the values
    log.error("database error %s on %s (request %s): %s\n%s", type(exc).__name__, _route(request), rid,
              _database_facts(exc), frames)
    if isinstance(exc, sa.exc.DataError):
        return _answer(422, "Dữ liệu gửi lên có giá trị cơ sở dữ liệu không lưu được (ký tự không hợp lệ, số hoặc "
                            f"chuỗi quá dài). {NOT_STORED} Mã yêu cầu: {rid}.", rid)
    if isinstance(exc, UNAVAILABLE):
        return _answer(503, f"Cơ sở dữ liệu tạm thời không truy cập được. {NOT_STORED} Hãy gửi lại sau ít phút "
                            f"(giữ nguyên mã gửi). Mã yêu cầu: {rid}.", rid, headers={"Retry-After": "30"})
    return _answer(500, f"Lỗi hệ thống khi ghi hoặc đọc dữ liệu. {NOT_STORED} Hãy báo mã yêu cầu {rid} cho quản "
                        "trị hệ thống.", rid)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: the server logs the traceback after this answer (Starlette re-raises); here the request id. A database
    error raised outside the routes (a middleware's token look-up) arrives here too: answered as one."""
    if isinstance(exc, sa.exc.SQLAlchemyError):
        return await database_error(request, exc)
    rid = request_id(request)
    log.error("unhandled %s on %s (request %s)", type(exc).__name__, _route(request), rid)
    return _answer(500, f"Lỗi hệ thống. {NOT_STORED} Hãy báo mã yêu cầu {rid} cho quản trị hệ thống.", rid)


async def framework_error(request: Request, exc: Exception) -> JSONResponse:
    """The framework's HTTP errors are worded in English (ASCII); ours (Vietnamese) pass through as they are."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if not detail or detail.isascii():
        detail = STATUS_VI.get(exc.status_code, "Yêu cầu không hợp lệ.").format(method=request.method)
    return JSONResponse(status_code=exc.status_code, content={"detail": detail, "errors": []},
                        headers=dict(exc.headers or {}))


def install(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    handlers: list[tuple[Any, Any]] = [(sa.exc.SQLAlchemyError, database_error), (StarletteHTTPException, framework_error),
                                       (Exception, unexpected_error)]
    for kind, handler in handlers:
        app.add_exception_handler(kind, handler)

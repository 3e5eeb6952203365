"""What every intake endpoint shares: the session, the caller, and errors in Vietnamese."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from sqlmodel import Session

from models import Person
from services.errors import Conflict, Forbidden, IntakeError, NotFound
from services.db import read_only_session
from services.intake import logic

PYDANTIC_VI = {
    "missing": "thiếu trường bắt buộc", "int_type": "phải là số nguyên", "int_parsing": "phải là số nguyên",
    "greater_than_equal": "không được âm hoặc nhỏ hơn giá trị cho phép", "less_than_equal": "vượt giá trị tối đa",
    "string_too_short": "quá ngắn", "string_too_long": "quá dài", "string_pattern_mismatch": "có ký tự không hợp lệ",
    "enum": "giá trị không hợp lệ (pass, fail, not_applicable)", "extra_forbidden": "trường không được phép",
    "json_invalid": "JSON không hợp lệ", "too_short": "danh sách trống", "too_long": "danh sách quá dài",
    "date_from_datetime_parsing": "ngày không hợp lệ (YYYY-MM-DD)", "date_parsing": "ngày không hợp lệ (YYYY-MM-DD)",
    "model_attributes_type": "phải là một đối tượng JSON", "dict_type": "phải là một đối tượng JSON",
    "list_type": "phải là một danh sách", "string_type": "phải là chuỗi ký tự",
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def where(error: Any) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "json_invalid":  # loc is ("body", <character offset>), not a list index
        return f"body (ký tự thứ {loc[-1]})" if len(loc) > 1 else "body"
    return _field(loc)


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session)]


async def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    """The bearer token's form only (async: FastAPI runs it in the event loop, not in a worker thread)."""
    return _token(authorization)


def _token(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise http_error(401, "Thiếu mã truy cập (Authorization: Bearer …).")
    return authorization.removeprefix("Bearer ").strip()


def person_or_401(session: Session, token: str) -> Person:
    person = logic.person_for_token(session, token)
    if person is None:
        raise http_error(401, "Mã truy cập không hợp lệ hoặc đã bị thu hồi.")
    return person


def current_person(request: Request, authorization: Annotated[str | None, Header()] = None) -> Person:
    token = _token(authorization)
    # A read-only look-up on its own connection: it never queues behind writers (see services.db._WriterGate).
    with read_only_session(request.app.state.engine) as db:
        return person_or_401(db, token)


PersonDep = Annotated[Person, Depends(current_person)]
# For writes through the batch writer: only the header's form is checked here (in the event loop, no thread);
# the person is looked up inside the write's own transaction (see app._store).
TokenDep = Annotated[str, Depends(bearer_token)]


class HTTPError(Exception):
    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        self.status, self.message, self.errors = status, message, errors or []


def http_error(status: int, message: str, errors: list[str] | None = None) -> HTTPError:
    return HTTPError(status, message, errors)


class mapped_errors:
    """Maps the engine's errors to HTTP answers (narrowly: only our own error classes)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, _t: Any, exc: BaseException | None, _tb: Any) -> None:
        if exc is None or isinstance(exc, HTTPError):
            return
        status = {NotFound: 404, Forbidden: 403, Conflict: 409}.get(type(exc))
        if status is None and isinstance(exc, IntakeError):
            status = 422
        if status is not None:
            raise HTTPError(status, exc.message, list(exc.ids.get("errors", [])))  # type: ignore[attr-defined]



"""What every intake endpoint shares: the session, the caller, and errors in Vietnamese."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from models import AccessToken, Person, WebSession
from models.base import table_of, utcnow
from services.errors import Conflict, Forbidden, InvalidTransition, KiemtraError, NotFound, NotStored, Refused
from services.db import READ_ONLY
from services.intake import logic
from services.intake.schemas import FindingsSubmission, SubmissionReceipt

PYDANTIC_VI = {
    "missing": "thiếu trường bắt buộc", "int_type": "phải là số nguyên", "int_parsing": "phải là số nguyên",
    "greater_than_equal": "không được âm hoặc nhỏ hơn giá trị cho phép", "less_than_equal": "vượt giá trị tối đa",
    "string_too_short": "quá ngắn", "string_too_long": "quá dài", "string_pattern_mismatch": "có ký tự không hợp lệ",
    "enum": "giá trị không hợp lệ (pass, fail, not_applicable)", "extra_forbidden": "trường không được phép",
    "json_invalid": "JSON không hợp lệ", "too_short": "danh sách trống", "too_long": "danh sách quá dài",
    "date_from_datetime_parsing": "ngày không hợp lệ (YYYY-MM-DD)", "date_parsing": "ngày không hợp lệ (YYYY-MM-DD)",
    "model_attributes_type": "phải là một đối tượng JSON", "dict_type": "phải là một đối tượng JSON",
    "list_type": "phải là một danh sách", "string_type": "phải là chuỗi ký tự",
    "string_unicode": "có ký tự không hợp lệ (không phải chuỗi Unicode hợp lệ, ví dụ một nửa cặp surrogate)",
    "literal_error": "giá trị không hợp lệ (chỉ nhận: {expected})", "model_type": "phải là một đối tượng JSON",
    "bool_type": "phải là true hoặc false", "bool_parsing": "phải là true hoặc false",
    "int_from_float": "phải là số nguyên", "int_parsing_size": "số quá lớn", "greater_than": "phải lớn hơn {gt}",
    "less_than": "phải nhỏ hơn {lt}", "float_type": "phải là một số", "float_parsing": "phải là một số",
    "date_type": "ngày không hợp lệ (YYYY-MM-DD)", "date_from_datetime_inexact": "ngày không hợp lệ (YYYY-MM-DD)",
    "json_type": "phải là JSON hợp lệ",
}
# what the body as a whole is refused for: not JSON at all (or sent without Content-Type: application/json), missing
BODY_VI = {"model_attributes_type": "nội dung gửi lên phải là một đối tượng JSON (Content-Type: application/json)",
           "dict_type": "nội dung gửi lên phải là một đối tượng JSON (Content-Type: application/json)",
           "model_type": "nội dung gửi lên phải là một đối tượng JSON (Content-Type: application/json)",
           "missing": "thiếu nội dung gửi lên (một đối tượng JSON, Content-Type: application/json)"}


def message_vi(error: Any) -> str:
    """The Vietnamese message of one validation error: ours for a value we refused (the text policy), else the table;
    never pydantic's English (an error type the table lacks is named by its code)."""
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and ctx.get("error") is not None:
        return str(ctx["error"])
    if tuple(error["loc"]) == ("body",) and error["type"] in BODY_VI:
        return BODY_VI[error["type"]]
    template = PYDANTIC_VI.get(error["type"], f"giá trị không hợp lệ ({error['type']})")
    return template.format_map(defaultdict(str, {k: str(v).replace("' or '", "' hoặc '") for k, v in ctx.items()}))


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


MISSING_TOKEN = "Thiếu mã truy cập (Authorization: Bearer …)."
BAD_TOKEN = "Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi."


def _token(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise http_error(401, MISSING_TOKEN)
    return authorization.removeprefix("Bearer ").strip()


class TokenLookup:
    """Token → person on one read-only connection kept for the app, used only from the event loop.

    One index probe (~0.1 ms) in the loop costs less than a hop to a worker thread, and it runs before the body
    is validated: a revoked token is a 401 whatever the body says, and never reaches the batch writer. Each
    look-up ends its read transaction, so it holds no snapshot and never waits for a writer (WAL)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine: sa.Engine = engine
        self._conn: sa.Connection | None = None

    def person(self, token: str) -> Person | None:
        """The person of an API token in force (``accesstoken``: not revoked, not expired); a web session's id is
        not a token and finds nothing here."""
        people, tokens = table_of(Person), table_of(AccessToken)
        row = self._first(sa.select(people, tokens.c.expires_at.label("token_expires_at"),
                                    tokens.c.revoked_at.label("token_revoked_at"))
                          .join(tokens, tokens.c.person_id == people.c.id)
                          .where(tokens.c.token_hash == logic.hash_token(token)))
        if row is None or row["token_revoked_at"] is not None:
            return None
        if row["token_expires_at"] is not None and row["token_expires_at"] <= utcnow():
            return None
        return Person(**{c.name: row[c.name] for c in people.columns})

    def web_session(self, session_id: str) -> tuple[Person, datetime] | None:
        """The person of the web session whose cookie holds ``session_id`` and when the session ends, if it works now
        (``access.person_for_session``'s rules: not logged out, not expired, its token in force); None otherwise."""
        people, tokens, webs = table_of(Person), table_of(AccessToken), table_of(WebSession)
        row = self._first(sa.select(people, webs.c.expires_at.label("session_expires_at"),
                                    tokens.c.expires_at.label("token_expires_at"))
                          .join(webs, webs.c.person_id == people.c.id).join(tokens, tokens.c.id == webs.c.token_id)
                          .where(webs.c.session_hash == logic.hash_token(session_id), webs.c.revoked_at.is_(None),
                                 tokens.c.revoked_at.is_(None)))
        now = utcnow()
        if row is None or row["session_expires_at"] <= now:
            return None
        if row["token_expires_at"] is not None and row["token_expires_at"] <= now:
            return None
        return Person(**{c.name: row[c.name] for c in people.columns}), row["session_expires_at"]

    def _first(self, query: sa.Select[Any]) -> Any:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(**{READ_ONLY: True})
        try:
            row = self._conn.execute(query).mappings().first()
            self._conn.rollback()
        except Exception:
            self._conn.invalidate()  # a dropped database connection: open a new one next time
            self._conn = None
            raise
        return row

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


async def current_person(request: Request, authorization: Annotated[str | None, Header()] = None) -> Person:
    """The caller: the one the body-limits middleware already identified for this request (limits.BodyLimits puts it in
    the request's state), else looked up here (GET routes)."""
    known = getattr(request.state, "person", None)
    if known is not None:
        return known
    person = request.app.state.tokens.person(_token(authorization))
    if person is None:
        raise http_error(401, BAD_TOKEN)
    return person


PersonDep = Annotated[Person, Depends(current_person)]


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
        if not isinstance(exc, KiemtraError):  # no error, an HTTPError already, or not one of ours
            return
        status = next((code for kind, code in ((NotFound, 404), (Forbidden, 403), (Conflict, 409), (InvalidTransition, 409),
                                               (Refused, 422), (NotStored, 503)) if isinstance(exc, kind)), None)
        if status is not None:
            raise HTTPError(status, exc.message, exc.field_errors())


async def submit_findings(request: Request, person: Person, inspection_id: int,
                          body: FindingsSubmission) -> tuple[SubmissionReceipt, bool]:
    """A findings version through the logic, committed by the batch writer (``POST /api/inspections/{id}/findings``
    and the field app's ``/form/api/`` twin): (receipt, created)."""
    rules = logic.EvidenceRules.from_settings(request.app.state.settings)
    with mapped_errors():
        receipt, created = await request.app.state.writer.run(
            lambda db: logic.submit_findings(db, person, inspection_id, body, rules))
    return receipt, created


def answered(out: BaseModel, created: bool, headers: dict[str, str] | None = None) -> Any:
    """201 (the route's status) with ``out`` when something was created, 200 with the same answer for an idempotent
    retry; with ``headers``, always a response of its own carrying them."""
    if created and headers is None:
        return out
    return JSONResponse(status_code=201 if created else 200, content=out.model_dump(mode="json"), headers=headers)

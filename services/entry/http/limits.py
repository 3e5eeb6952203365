"""What the API checks before it reads a request body: the caller, the body's size and (JSON) its nesting.

FastAPI reads and parses a route's whole body before its dependencies run, so without this a request with no
token was read to its end (100 MB: the server grew by 380 MB) only to be refused, and a deeply nested JSON body
held the event loop for seconds. :class:`BodyLimits` is a pure ASGI middleware in front of the app; for every
``/api/`` request that carries a body (POST, PUT, PATCH, DELETE) — there is no public write under ``/api/`` — it:

1. checks ``Authorization: Bearer …`` (``app.state.tokens``) before receiving any byte: 401, with the messages
   of :mod:`services.entry.http.deps`, and ``Connection: close`` so the rest of the body is never read;
2. refuses a ``Content-Length`` above the route's limit (:data:`LIMITS`) with 413 before reading, and counts a
   chunked body while it arrives, cutting it at the limit (413, connection closed);
3. JSON routes: buffers the (limited) body and refuses one nested deeper than :data:`MAX_DEPTH` with a 422 naming
   ``body`` before any parser sees it. Evidence uploads are streamed to the app as they arrive, only counted.

``/form/api/`` (the inspectors' offline field app, docs/field-offline.md) is handled the same way, its caller being
the ``/form`` web session's cookie and its CSRF header instead of a token (:mod:`.field_identity`: 403 for another
site's request or a bad CSRF header, 401 without a working session); its routes are the API's under ``/form``, with
the same limits. The rest of ``/form`` (the web form) and ``/cong-khai`` (the public register) keep their own
handling (``web.read_form`` caps its bodies).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.entry.http import field_identity
from services.entry.http.deps import BAD_TOKEN, MISSING_TOKEN
from services.settings import Settings

KIB, MIB = 1024, 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_DEPTH = 32  # the deepest legitimate body (a decision: object → circumstances → act → list) is 4 levels
DEFAULT_MAX_BYTES = 64 * KIB  # an /api route with a body that has no row below
TOO_LARGE = "Dữ liệu gửi lên vượt quá giới hạn {max_bytes:,} byte của yêu cầu này."


@dataclass(frozen=True)
class BodyLimit:
    pattern: re.Pattern[str]
    max_bytes: Callable[[Settings], int]
    streamed: bool = False  # handed to the app as it arrives (counted, not buffered, no JSON scan)
    message: str = TOO_LARGE


def _fixed(n: int) -> Callable[[Settings], int]:
    return lambda _settings: n


# The largest legitimate bodies, measured by tests/integration/test_body_limits.py with every text at its schema
# maximum (services/intake/schemas.py, selection_api.py) and every non-ASCII character escaped as \uXXXX (6 bytes,
# what Python's json.dumps sends by default; UTF-8 takes 3): each limit is at least twice the largest body.
LIMITS: tuple[BodyLimit, ...] = (
    # 30 checklist items (more are refused as unknown or repeated) with 2,000-character notes, 50 attachments with
    # 255-character names, a 1,000-character reason: 450 KB
    BodyLimit(re.compile(r"(?:/form)?/api/inspections/[^/]+/findings"), _fixed(1 * MIB)),
    BodyLimit(re.compile(r"(?:/form)?/api/inspections/[^/]+/review"), _fixed(64 * KIB)),  # a 2,000-character comment: 12 KB
    # 30 acts, each with 40 circumstances and a 2,000-character reason (the schema sets no maximum there): 390 KB
    BodyLimit(re.compile(r"(?:/form)?/api/inspections/[^/]+/decision"), _fixed(1 * MIB)),
    # 500 additions and 500 removals with 100-character reasons: 650 KB. The schema would take 1,000-character
    # reasons (6 MB): a lead who writes that much splits the change; 8 MB buffered per request is not worth it.
    BodyLimit(re.compile(r"(?:/form)?/api/campaigns/[^/]+/selection/changes"), _fixed(2 * MIB)),
    BodyLimit(re.compile(r"(?:/form)?/api/campaigns/[^/]+/selection/approve"), _fixed(64 * KIB)),  # a 1,000-character note: 5 KB
    # an evidence file: the store's own limit (the handler checks it again against the declared size)
    BodyLimit(re.compile(r"(?:/form)?/api/submissions/[^/]+/attachments/[^/]+"), lambda s: s.evidence_max_bytes, streamed=True,
              message="Tệp vượt quá dung lượng tối đa {max_bytes:,} byte."),
)


def limit_for(path: str) -> BodyLimit | None:
    return next((rule for rule in LIMITS if rule.pattern.fullmatch(path)), None)


_BRACKETS_ONLY = bytes.maketrans(b"{}", b"[]"), bytes(sorted(set(range(256)) - set(b"[]{}")))


def _nested(depth: int) -> re.Pattern[bytes]:
    """Balanced brackets nested at most ``depth`` deep: a finite automaton, matched in one possessive pass."""
    pattern = b""
    for _ in range(depth):
        pattern = rb"(?:\[" + pattern + rb"\])*+"
    return re.compile(pattern)


_WITHIN_DEPTH = _nested(MAX_DEPTH)


def _outside_strings(body: bytes) -> bytes:
    """What lies outside JSON strings: escaped backslashes, then escaped quotes taken out, the rest split at the quotes
    (an unterminated string runs to the end; the parser refuses it anyway)."""
    return b"".join(body.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[::2])


def too_deep(body: bytes) -> bool:
    """Whether ``body`` nests arrays/objects deeper than :data:`MAX_DEPTH`, without parsing it: ~1 ms for the largest
    legitimate submission (450 KB), ~30 ms for 1 MiB built to be slow (a quarter of a million strings).

    Strings removed and only the brackets kept, one regex pass matches what stays within the depth. MAX_DEPTH + 1
    closing brackets are appended so a truncated body is judged on what it has: the match then stops at an unmatched
    "]" (where a parser stops too), or at the "[" of an element that goes deeper than allowed."""
    brackets = _outside_strings(body).translate(*_BRACKETS_ONLY) + b"]" * (MAX_DEPTH + 1)
    within = _WITHIN_DEPTH.match(brackets)
    assert within is not None, "the pattern matches at least the empty string"
    end = within.end()
    return brackets[end:end + 1] == b"["


class BodyTooLarge(Exception):
    """A body went past its limit (for a streamed one: raised from ``receive`` inside the app, answered here)."""


class BodyLimits:
    """The ASGI middleware (see the module docstring); ``scope["app"]`` is the FastAPI app, for its state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" and scope["method"] in BODY_METHODS else ""
        if not path.startswith(("/api/", field_identity.PREFIX)):
            return await self.app(scope, receive, send)
        state = scope["app"].state
        headers = _headers(scope)
        if path.startswith("/api/"):
            refusal = _identity_refusal(state.tokens, headers.get("authorization"), scope)
            if refusal is not None:
                return await _answer(send, 401, refusal, close=True)
        else:
            caller = _web_identity(state.tokens, headers, scope)
            if isinstance(caller, field_identity.Refusal):
                return await _answer(send, caller.status, caller.detail, close=True)
        rule = limit_for(scope["path"])
        max_bytes = rule.max_bytes(state.settings) if rule else DEFAULT_MAX_BYTES
        too_large = (rule.message if rule else TOO_LARGE).format(max_bytes=max_bytes)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            return await _answer(send, 413, too_large, close=True)
        if rule is not None and rule.streamed:
            return await self._streamed(scope, receive, send, max_bytes, too_large)
        try:
            body = await _read(receive, max_bytes)
        except BodyTooLarge:
            return await _answer(send, 413, too_large, close=True)
        if body is None:
            return None  # the client went away: nobody to answer
        if too_deep(body):
            return await _answer(send, 422, "Dữ liệu gửi lên không hợp lệ.",
                                 [f"body: dữ liệu JSON lồng nhau quá {MAX_DEPTH} cấp"])
        await self.app(scope, _replay(body, receive), send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, max_bytes: int, too_large: str) -> None:
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge(too_large)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _answer(send, 413, too_large, close=True)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _identity_refusal(tokens: Any, authorization: str | None, scope: Scope) -> str | None:
    """The 401 message for this Authorization header (``deps``' words), None if it is good; the person found is kept in
    the request's state, so ``deps.current_person`` does not look the token up a second time.

    With the database unreachable the caller cannot be checked here: the request goes on under the size limits, and
    the route's own token check meets the same error and answers it as every database failure is (failures.py)."""
    if not authorization or not authorization.startswith("Bearer "):
        return MISSING_TOKEN
    try:
        person = tokens.person(authorization.removeprefix("Bearer ").strip())
    except sa.exc.SQLAlchemyError:
        return None
    if person is None:
        return BAD_TOKEN
    scope.setdefault("state", {})["person"] = person
    return None


def _web_identity(tokens: Any, headers: dict[str, str], scope: Scope) -> field_identity.WebCaller | field_identity.Refusal | None:
    """The web session's caller of a ``/form/api/`` write, kept in the request's state for the route; None when the
    database is unreachable (the route's own check meets the same error, as for a token)."""
    try:
        caller = field_identity.identify(tokens, headers, method=scope["method"], path=scope["path"],
                                         own_url=str(Request(scope).url))
    except sa.exc.SQLAlchemyError:
        return None
    if isinstance(caller, field_identity.WebCaller):
        scope.setdefault("state", {})["web_caller"] = caller
    return caller


async def _read(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body (None: the client went away); :class:`BodyTooLarge` once it passes ``max_bytes``, the rest
    unread."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body as one message, then the real channel (so a disconnect is still seen)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(send: Send, status: int, detail: str, errors: list[str] | None = None, *, close: bool = False) -> None:
    """An answer in the API's error shape; ``close`` ends the connection after it, so an unread body stays unread."""
    payload = json.dumps({"detail": detail, "errors": errors or []}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})

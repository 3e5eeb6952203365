"""What the web form (:mod:`services.entry.http.web`) posts, read and checked without HTTP or a database.

* :func:`parse_body`: an ``application/x-www-form-urlencoded`` or ``multipart/form-data`` body → fields and
  files (the stdlib has no multipart parser and ``python-multipart`` is not a dependency; browsers send
  well-formed bodies, and anything else is refused as :class:`FormRefused`);
* :func:`csrf_token`: the anti-forgery token a page carries, an HMAC keyed by the web session's id (the login page's
  by its pre-login cookie, :func:`login_nonce_ok`); :func:`cross_site`: a POST sent from another site;
* :func:`build_submission`: the checklist's fields → a ``FindingsSubmission`` (pydantic's refusals are turned
  into the Vietnamese ``IntakeError`` the logic raises, so the page shows one kind of error list);
* :func:`place_errors`: those errors, split into the form's summary and the lines shown under each item.

Errors::

    IntakeError (services.errors)
    └── FormRefused      a body that is not a form, too large, or not what the page sent → 400/413
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError

from services.errors import IntakeError
from services.entry.http.deps import message_vi, where
from services.intake.schemas import FindingsSubmission


class FormRefused(IntakeError):
    """The body is not a form this page sent (``status``: 400, or 413 when too large)."""

    def __init__(self, message: str, *, status: int = 400, **ids: object) -> None:
        super().__init__(message, **ids)
        self.status = status


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ParsedForm:
    fields: dict[str, str] = field(default_factory=dict)  # first value of each name, NFC
    files: list[UploadedFile] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- bodies


def parse_body(content_type: str | None, body: bytes) -> ParsedForm:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as exc:
            raise FormRefused("Dữ liệu biểu mẫu không phải UTF-8.") from exc
        form = ParsedForm()
        for name, value in pairs:
            form.fields.setdefault(name, nfc(value))
        return form
    if kind == "multipart/form-data":
        match = re.search(r'boundary="?([^";]{1,200})"?', content_type or "")
        if match is None:
            raise FormRefused("Biểu mẫu thiếu ranh giới (boundary).")
        return _parse_multipart(body, match.group(1).encode("latin-1"))
    raise FormRefused(f"Loại dữ liệu '{kind or '(không có)'}' không phải biểu mẫu.")


_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _parse_multipart(body: bytes, boundary: bytes) -> ParsedForm:
    """RFC 7578 as browsers send it: parts split on CRLF--boundary; names and file names in quotes, with
    ``"``, CR and LF percent-escaped (the HTML standard's encoding)."""
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise FormRefused("Biểu mẫu gửi lên không trọn vẹn.")
    form = ParsedForm()
    for chunk in chunks[1:-1]:
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise FormRefused("Một phần của biểu mẫu không có tiêu đề.")
        headers = _headers(head.decode("utf-8", errors="replace"))
        params = {k.lower(): _unescape(v) for k, v in _PARAM.findall(headers.get("content-disposition", ""))}
        name = params.get("name")
        if name is None:
            raise FormRefused("Một phần của biểu mẫu không có tên trường.")
        if "filename" in params:
            if params["filename"] or content:
                form.files.append(UploadedFile(field=name, filename=nfc(params["filename"]),
                                               content_type=headers.get("content-type", "application/octet-stream"),
                                               data=content))
            continue
        try:
            form.fields.setdefault(name, nfc(content.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise FormRefused(f"Trường '{name}' không phải văn bản UTF-8.") from exc
    return form


def _headers(text: str) -> dict[str, str]:
    out = {}
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def _unescape(value: str) -> str:
    return value.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


# --------------------------------------------------------------------------- anti-forgery


def csrf_token(session_id: str, purpose: str) -> str:
    """Only a page served to the holder of the web session ``session_id`` (the cookie's random id, never an API
    token) can carry this (``purpose``: the page's client id, ``logout``, or ``login`` with the pre-login id)."""
    return hmac.new(session_id.encode(), f"kiemtra-form|{purpose}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(session_id: str, purpose: str, sent: str) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(session_id, purpose), sent)


def new_login_nonce(now: float) -> str:
    """The pre-login cookie's value: when it was made, and a random part (login CSRF, before any session)."""
    return f"{int(now)}.{secrets.token_urlsafe(24)}"


def login_nonce_ok(nonce: str, sent: str, *, now: float, max_age_s: int) -> bool:
    """The login form was served by us to this browser (the hidden field is the HMAC of its cookie) not long ago."""
    issued, dot, _ = nonce.partition(".")
    if not dot or not issued.isdigit() or not 0 <= now - int(issued) <= max_age_s:
        return False
    return csrf_ok(nonce, "login", sent)


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)


def cross_site(headers: Mapping[str, str], own_url: str) -> str | None:
    """Why a POST to the form comes from another site (None when it does not): ``Sec-Fetch-Site`` saying so, or an
    ``Origin`` (without one, a ``Referer``) whose scheme://host:port is not this server's. A request with neither
    header (not a browser, or an old one) passes here; its CSRF token is still checked."""
    fetch_site = headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site in ("cross-site", "same-site"):
        return f"Sec-Fetch-Site: {fetch_site}"
    own = _origin(own_url)
    origin = headers.get("origin", "").strip()
    if origin:
        if origin == "null" and fetch_site == "same-origin":  # a browser hiding its origin from our own page
            return None
        return None if _origin(origin) == own and own is not None else f"Origin: {origin[:200]}"
    referer = headers.get("referer", "").strip()
    if referer and _origin(referer) != own:
        return f"Referer: {referer[:200]}"
    return None


# --------------------------------------------------------------------------- the checklist


def item_values(form: ParsedForm, codes: Sequence[str]) -> dict[str, dict[str, str]]:
    """What was entered for each item, kept as typed (to show again with the errors)."""
    return {code: {key: form.get(f"{key}.{code}").strip()
                   for key in ("result", "workers", "devices", "note", "act_kind", "committed_on")}
            for code in codes}


def build_submission(*, client_submission_id: str, reason: str, values: dict[str, dict[str, str]],
                     photo: UploadedFile | None) -> FindingsSubmission:
    """Only answered items are sent (the logic names the missing ones); counts are sent for failed items."""
    findings: list[dict[str, Any]] = []
    for code, entered in values.items():
        if not entered["result"]:
            continue
        finding: dict[str, Any] = {"item_code": code, "result": entered["result"], "note": entered["note"]}
        if entered["result"] == "fail":
            finding |= {k: entered[f] for k, f in (("workers_affected", "workers"), ("devices_affected", "devices"),
                                                   ("committed_on", "committed_on")) if entered[f]}
            if entered["act_kind"] in ("ongoing", "ended"):  # the inspector's correction of the item's default kind
                finding["ongoing"] = entered["act_kind"] == "ongoing"
        findings.append(finding)
    raw: dict[str, Any] = {"client_submission_id": client_submission_id, "findings": findings, "reason": reason}
    if photo is not None:
        raw["attachments"] = [{"name": photo.filename or "anh-hien-truong", "sha256": photo.sha256,
                               "size": len(photo.data), "content_type": photo.content_type}]
    try:
        return FindingsSubmission.model_validate(raw)
    except ValidationError as exc:
        errors = [f"{where(e)}: {message_vi(e)}" for e in exc.errors()]
        raise IntakeError("Kết quả kiểm tra không hợp lệ.", errors=errors) from exc


FIELD_LABELS = {"result": "kết quả", "workers_affected": "số người lao động", "devices_affected": "số thiết bị",
                "note": "ghi chú", "item_code": "mã mục", "committed_on": "ngày thực hiện hành vi",
                "ongoing": "hành vi đang tiếp diễn hay đã kết thúc"}
_FINDING_ERROR = re.compile(r"^findings\[(\d+)\](?:\.(\w+))?: (.*)$", re.S)


def place_errors(errors: Sequence[str], sent_codes: Sequence[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(summary lines, lines per item code). ``findings[i]`` is the i-th *sent* item (``sent_codes``)."""
    summary: list[str] = []
    per_item: dict[str, list[str]] = {}
    for error in errors:
        match = _FINDING_ERROR.match(error)
        if match is None or int(match.group(1)) >= len(sent_codes):
            summary.append(error.removeprefix("reason: ").removeprefix("findings: "))
            continue
        code, label = sent_codes[int(match.group(1))], FIELD_LABELS.get(match.group(2) or "", "")
        message = match.group(3)
        per_item.setdefault(code, []).append(message[:1].upper() + message[1:])
        summary.append(f"Mục {code}{f' ({label})' if label else ''}: {message}")
    return summary, per_item

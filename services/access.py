"""API tokens and web sessions over a Session (the caller owns the transaction; nothing here commits).

* Tokens are random (``secrets.token_urlsafe(32)``), shown once by :func:`issue_token` / :func:`rotate`; only
  their SHA-256 is stored (``models.access.AccessToken``). Issuing, rotating, expiring and revoking are audited.
* A token works while it is neither revoked nor past its ``expires_at`` (:func:`person_for_token`).
* A web session (``models.access.WebSession``) is a random id in the browser's cookie, its hash in the table,
  12 hours at most, ended by logout; it works only while the token it was opened with works, and revoking a
  token also ends the sessions opened with it (:func:`revoke`). A session id is never a token, nor the reverse:
  they are looked up in different tables.

Errors: ``NotFound`` (no such person or token), ``InvalidTransition`` (a token already revoked),
``KiemtraError`` (a missing reason, a number of days below 1).
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from models import AccessToken, Person, WebSession
from models.base import id_of, utcnow
from services import audit
from services.rules.calendar import VIETNAM
from services.errors import InvalidTransition, KiemtraError, NotFound

SESSION_HOURS = 12


def hash_token(token: str) -> str:
    """What is stored of a token or a session id: its SHA-256 (hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_person(session: Session, code: str, *, field: str = "person") -> Person:
    person = session.exec(select(Person).where(Person.code == code.strip().upper())).first()
    if person is None:
        raise NotFound(f"{field}: không có cán bộ mã '{code}'.", person_code=code)
    return person


def get_token(session: Session, token_id: int) -> AccessToken:
    row = session.get(AccessToken, token_id)
    if row is None:
        raise NotFound(f"Không có mã truy cập số {token_id}.", token_id=token_id)
    return row


# --------------------------------------------------------------------------- issue, rotate, expire, revoke


def record_token(session: Session, *, person: Person, token: str, by: str, label: str = "",
                 expires_at: datetime | None = None) -> AccessToken:
    """Stores the hash of ``token`` for ``person`` (audited). :func:`issue_token` draws the token; only the demo
    passes one of its own (services.demo.seed.seed_people)."""
    row = AccessToken(person_id=id_of(person), token_hash=hash_token(token), label=label.strip(), created_by=by,
                      expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(session, actor=by, action="token_issued", entity=row, reason=label.strip(),
                 data={"person": person.code, "expires_at": expires_at.isoformat() if expires_at else None})
    return row


def issue_token(session: Session, *, person: Person, by: str, label: str = "",
                days: int | None = None) -> tuple[str, AccessToken]:
    """A new random token for ``person``, valid ``days`` days (None: until revoked). The plain token is returned
    here only: show it once."""
    if days is not None and days < 1:
        raise KiemtraError(f"days: số ngày hiệu lực phải từ 1 trở lên (nhận {days}).", days=days)
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=days) if days is not None else None
    return token, record_token(session, person=person, token=token, by=by, label=label, expires_at=expires_at)


def rotate(session: Session, *, person: Person, by: str, days: int | None = None, label: str = "",
           token_id: int | None = None) -> tuple[str, AccessToken, list[AccessToken]]:
    """A new token for ``person``; the old ones (all of theirs still in force, or only ``token_id``) revoked."""
    token, row = issue_token(session, person=person, by=by, label=label or "Xoay vòng mã truy cập", days=days)
    if token_id is not None:
        old = [get_token(session, token_id)]
        if old[0].person_id != person.id:
            raise KiemtraError(f"Mã truy cập số {token_id} không phải của cán bộ {person.code}.", token_id=token_id)
    else:
        old = [t for t in tokens_of(session, person) if t.id != row.id and t.revoked_at is None]
    revoked = revoke_rows(session, old, by=by, reason=f"Thay bằng mã truy cập số {row.id}")
    audit.record(session, actor=by, action="token_rotated", entity=row, reason=label,
                 data={"person": person.code, "revoked": [t.id for t in revoked]})
    return token, row, revoked


def expire(session: Session, *, token_id: int, on: date, by: str) -> AccessToken:
    """The token stops working at 00:00 (Việt Nam time) of ``on``; a day already begun ends it now."""
    row = get_token(session, token_id)
    if row.revoked_at is not None:
        raise InvalidTransition(f"Mã truy cập số {token_id} đã bị thu hồi; không đặt hạn được nữa.", token_id=token_id)
    before = row.expires_at
    row.expires_at = datetime.combine(on, time(0), tzinfo=VIETNAM).astimezone(UTC)
    session.add(row)
    audit.record(session, actor=by, action="token_expiry_set", entity=row, reason=f"Hết hạn từ ngày {on:%d/%m/%Y}",
                 data={"from": before.isoformat() if before else None, "to": row.expires_at.isoformat()})
    return row


def revoke(session: Session, *, by: str, reason: str, token_id: int | None = None,
           person: Person | None = None) -> list[AccessToken]:
    """Revokes one token (``token_id``) or every token of ``person`` still in force."""
    if (token_id is None) == (person is None):
        raise KiemtraError("Hãy chỉ ra đúng một trong hai: số mã truy cập hoặc mã cán bộ (--person).")
    if token_id is not None:
        row = get_token(session, token_id)
        if row.revoked_at is not None:
            raise InvalidTransition(f"Mã truy cập số {token_id} đã bị thu hồi từ trước.", token_id=token_id)
        rows = [row]
    else:
        assert person is not None
        rows = [t for t in tokens_of(session, person) if t.revoked_at is None]
    return revoke_rows(session, rows, by=by, reason=reason)


def revoke_rows(session: Session, rows: Sequence[AccessToken], *, by: str, reason: str) -> list[AccessToken]:
    """Revokes ``rows`` and ends the web sessions opened with them: a revoked token leaves no way in."""
    if not reason.strip():
        raise KiemtraError("reason: cần ghi lý do thu hồi mã truy cập.")
    now, out = utcnow(), []
    for row in rows:
        row.revoked_at, row.revoked_by, row.revoke_reason = now, by, reason.strip()
        session.add(row)
        ended = session.exec(select(WebSession).where(WebSession.token_id == row.id,
                                                      col(WebSession.revoked_at).is_(None))).all()
        for web in ended:
            web.revoked_at = now
            session.add(web)
        audit.record(session, actor=by, action="token_revoked", entity=row, reason=reason.strip(),
                     data={"web_sessions_ended": len(ended)})
        out.append(row)
    session.flush()
    return out


def tokens_of(session: Session, person: Person | None = None) -> list[AccessToken]:
    query = select(AccessToken).order_by(col(AccessToken.id))
    if person is not None:
        query = query.where(AccessToken.person_id == person.id)
    return list(session.exec(query).all())


def state_vi(row: AccessToken, now: datetime | None = None) -> str:
    return {"active": "còn hiệu lực", "expired": "đã hết hạn", "revoked": "đã thu hồi"}[row.state(now or utcnow())]


# --------------------------------------------------------------------------- look-ups


def token_row(session: Session, token: str) -> AccessToken | None:
    """The token's row if it works now (not revoked, not expired)."""
    row = session.exec(select(AccessToken).where(AccessToken.token_hash == hash_token(token))).first()
    return row if row is not None and row.state(utcnow()) == "active" else None


def person_for_token(session: Session, token: str) -> Person | None:
    row = token_row(session, token) if token else None
    return session.get(Person, row.person_id) if row is not None else None


def start_web_session(session: Session, *, token: AccessToken) -> str:
    """A new web session for the token's person; returns the random id for the cookie (only its hash is kept)."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(person_id=token.person_id, token_id=id_of(token), session_hash=hash_token(session_id),
                           created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS)))
    token.last_used_on = now.astimezone(VIETNAM).date()
    session.add(token)
    session.flush()
    return session_id


def log_in(session: Session, *, code: str, token: str) -> tuple[str, Person] | None:
    """A login (the /form and /console forms alike): a new web session when ``token`` is in force and is the token of
    the person ``code``; its cookie id and the person, or None (nothing written)."""
    row = token_row(session, token) if token else None
    person = session.get(Person, row.person_id) if row is not None else None
    if row is None or person is None or person.code != code:
        return None
    return start_web_session(session, token=row), person


def person_for_session(session: Session, session_id: str) -> Person | None:
    """The person of a web session that works now: not logged out, not expired, its token still in force."""
    if not session_id:
        return None
    web = session.exec(select(WebSession).where(WebSession.session_hash == hash_token(session_id))).first()
    now = utcnow()
    if web is None or web.revoked_at is not None or web.expires_at <= now:
        return None
    token = session.get(AccessToken, web.token_id)
    if token is None or token.state(now) != "active":
        return None
    return session.get(Person, web.person_id)


def end_web_session(session: Session, session_id: str) -> bool:
    """Logout: the session's row is revoked, so the cookie's id works nowhere any more."""
    web = session.exec(select(WebSession).where(WebSession.session_hash == hash_token(session_id))).first()
    if web is None or web.revoked_at is not None:
        return False
    web.revoked_at = utcnow()
    session.add(web)
    return True

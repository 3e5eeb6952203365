"""The stored outboxes' sending steps, shared by the province portal (services/delivery/portal.py) and the national
database feed (services/delivery/national_feed.py): one message at a time in three steps — a short transaction
counts and claims the attempt, the receiver is called outside any transaction, a second short transaction records
the outcome — so a crash at any point leaves a message that is simply sent again with the same idempotency key.

A :class:`Lane` names what differs between outboxes (the row model, the "done" state, the audit actions, the attempt
budget and backoff, what to write on success and after each attempt); the states ``pending`` and ``dead`` are
common. A temporary failure waits ``backoff_s × 2^(attempts − 1)``, at most a day (the clients' schedule,
services/clients/retry.py); after ``max_attempts``, or on a permanent refusal, the message is DEAD until a person
sends it again (:func:`retry_dead`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from models.base import utcnow
from services import audit
from services.clients.retry import RetryPolicy
from services.db import session_scope
from services.errors import Conflict, NotFound, Refused
from services.settings import Settings

PENDING, DEAD = "pending", "dead"
MAX_BACKOFF = timedelta(days=1)


@dataclass(frozen=True)
class Sent:
    """The receiver took the message (``duplicate``: it had it already)."""
    ref: str
    duplicate: bool = False


@dataclass(frozen=True)
class Failed:
    error: str
    permanent: bool  # a refusal that no retry changes (4xx): dead at once


Attempt = Callable[[str, str, dict[str, Any]], Sent | Failed]  # (key, event, payload) → outcome, one call


def _nothing(session: Session, row: Any, attempt: int, outcome: str, detail: str) -> None:
    return None


@dataclass(frozen=True)
class Lane:
    model: type[Any]
    done: str  # the state of a delivered message
    actor: str  # who the audit events name
    prefix: str  # audit actions: <prefix>_delivered, <prefix>_dead, <prefix>_retry
    max_attempts: int
    backoff_s: float
    timeout_s: float
    mark_done: Callable[[Any, Sent], None]  # the model's own fields of a delivered message
    duplicate_vi: str = " (bên nhận đã có, không tạo lại)"
    name_vi: str = "tin"
    log_attempt: Callable[[Session, Any, int, str, str], None] = field(default=_nothing)

    @property
    def policy(self) -> RetryPolicy:
        """Without jitter: one sender, runs minutes apart — nothing to spread."""
        return RetryPolicy(attempts=self.max_attempts, initial_s=self.backoff_s, max_s=MAX_BACKOFF.total_seconds(),
                           jitter_s=0.0)

    @property
    def claim_for(self) -> timedelta:
        """How long a counted attempt stays claimed by its run (longer than one send; a crashed run's message is
        sent again after it)."""
        return timedelta(seconds=max(60.0, 3 * self.timeout_s))


@dataclass
class Tally:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


@dataclass(frozen=True)
class Report:
    """What one delivery run of a lane did (the portal's and the national feed's alike)."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    waiting: int = 0  # not yet due, or behind an undelivered message of the same stream

    @classmethod
    def of(cls, tally: Tally, waiting: int) -> Report:
        return cls(tally.delivered, tally.retrying, tally.dead, waiting)


@dataclass(frozen=True)
class _Claimed:
    key: str
    event: str
    payload: dict[str, Any]
    attempts: int
    moment: datetime


def _claim(settings: Settings, lane: Lane, message_id: int, now: datetime, tally: Tally) -> _Claimed | None:
    """Step 1: count the attempt and claim the message, or None when another run has it (or it is not due)."""
    moment = max(now, utcnow())  # a long run: claims and backoffs count from the send, not the run's start
    with session_scope(settings) as session:
        m = session.get(lane.model, message_id, with_for_update=True)
        if m is None or m.status != PENDING or m.next_attempt_at > now:
            return None
        if m.attempts >= lane.max_attempts:  # every attempt so far ended without an outcome (a crash)
            m.status, m.last_error = DEAD, f"{m.attempts} lần gửi không ghi được kết quả"
            audit.record(session, actor=lane.actor, action=f"{lane.prefix}_dead", entity=m, reason=m.last_error)
            tally.dead += 1
            return None
        m.attempts += 1
        m.next_attempt_at = moment + lane.claim_for  # a run at the same time skips it until the outcome
        session.add(m)
        return _Claimed(m.idempotency_key, str(m.event), dict(m.payload), m.attempts, moment)


def _record(settings: Settings, lane: Lane, message_id: int, c: _Claimed, outcome: Sent | Failed, tally: Tally) -> None:
    """Step 3: the outcome, unless another run recorded one meanwhile (its claim had run out)."""
    with session_scope(settings) as session:
        m = session.get(lane.model, message_id, with_for_update=True)
        assert m is not None
        if m.status != PENDING:
            return
        data = {"attempts": c.attempts, "key": c.key}
        if isinstance(outcome, Sent):
            m.status, m.last_error = lane.done, ""
            lane.mark_done(m, outcome)
            audit.record(session, actor=lane.actor, action=f"{lane.prefix}_delivered", entity=m, data=data,
                         reason=f"{c.event} → {outcome.ref}" + (lane.duplicate_vi if outcome.duplicate else ""))
            lane.log_attempt(session, m, c.attempts, "duplicate" if outcome.duplicate else "sent", outcome.ref)
            tally.delivered += 1
        elif outcome.permanent or c.attempts >= lane.max_attempts:
            m.status, m.last_error = DEAD, outcome.error[:1000]
            audit.record(session, actor=lane.actor, action=f"{lane.prefix}_dead", entity=m, reason=outcome.error, data=data)
            lane.log_attempt(session, m, c.attempts, "dead", outcome.error)
            tally.dead += 1
        else:
            delay = timedelta(seconds=lane.policy.delay(c.attempts))
            m.next_attempt_at, m.last_error = c.moment + delay, outcome.error[:1000]
            lane.log_attempt(session, m, c.attempts, "retry", outcome.error)
            tally.retrying += 1
        session.add(m)


def send_due(settings: Settings, lane: Lane, due: list[int], now: datetime, attempt: Attempt) -> Tally:
    """Send each due message once (claim, call outside any transaction, record)."""
    tally = Tally()
    for message_id in due:
        claimed = _claim(settings, lane, message_id, now, tally)
        if claimed is None:
            continue
        outcome = attempt(claimed.key, claimed.event, claimed.payload)  # 2. outside any transaction
        _record(settings, lane, message_id, claimed, outcome, tally)
    return tally


def require_reason(reason: str) -> None:
    """Sending again is a person's decision: it says why (nothing changes without a reason)."""
    if not reason.strip():
        raise Refused("Phải ghi lý do gửi lại.", errors=["reason: phải ghi lý do gửi lại (ví dụ: đã sửa cấu hình)"])


def retry_dead(settings: Settings, lane: Lane, message_id: int, *, actor: str, reason: str,
               now: datetime | None = None) -> None:
    """A person sends a dead message again: back to pending with a fresh attempt budget (audited, with their reason)."""
    require_reason(reason)
    with session_scope(settings) as session:
        m = session.get(lane.model, message_id)
        if m is None:
            raise NotFound(f"Không có {lane.name_vi} số {message_id}.", message_id=message_id)
        if m.status != DEAD:
            raise Conflict(f"Tin số {message_id} không ở trạng thái gửi lỗi (hiện: {m.status}).", message_id=message_id)
        audit.record(session, actor=actor, action=f"{lane.prefix}_retry", entity=m, reason=reason.strip(),
                     from_state=str(m.status), to_state=PENDING, data={"after_attempts": m.attempts})
        m.status, m.attempts, m.next_attempt_at = PENDING, 0, now or utcnow()
        session.add(m)

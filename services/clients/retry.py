"""One retry policy for the clients of outside systems: which failures are temporary, how many attempts, how long
to wait between them.

Temporary (:func:`is_temporary_status`, :func:`is_temporary`): a transport error (timeouts and dropped connections
included), or an answer 429 or 5xx. Anything else (2xx, 3xx, any other 4xx) is the answer and is never retried.
After failed attempt n the wait is ``initial_s × 2^(n−1)`` plus a random jitter in ``[0, jitter_s]``, at most
``max_s``; a 429 or 503 that says ``Retry-After`` (seconds, or an HTTP date) waits what the server asked instead,
at most ``retry_after_max_s``.

The loop is tenacity's (:func:`send`, with an injectable ``sleep`` so tests see the waits without waiting);
stamina, its opinionated wrapper, has no such seam and its testing mode sets every wait to 0. The gateway,
registry-API and intake clients send through :func:`send` and turn :class:`GaveUp` into their own errors. The
portal's stored messages are retried across delivery runs, not here (services/portal.py), but wait by the same
schedule (:meth:`RetryPolicy.delay`).
"""
from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import tenacity

__all__ = ["DEFAULT_POLICY", "GaveUp", "RetryPolicy", "is_temporary", "is_temporary_status", "retry_after_s", "send"]

_SECONDS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # the first try and three retries
    initial_s: float = 0.2
    max_s: float = 5.0
    jitter_s: float = 0.1
    retry_after_max_s: float = 10.0  # a server asking for more still gets a retry, this much later

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, not {self.attempts}")
        if min(self.initial_s, self.max_s, self.jitter_s, self.retry_after_max_s) < 0:
            raise ValueError(f"RetryPolicy waits cannot be negative: {self}")

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based): the server's ``retry_after`` (capped) if it
        gave one, else the exponential backoff with jitter."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max_s)
        try:
            backoff = self.initial_s * 2.0 ** (attempt - 1)
        except OverflowError:
            backoff = self.max_s
        return min(self.max_s, backoff + random.uniform(0.0, self.jitter_s))  # noqa: S311 (jitter, not a secret)


DEFAULT_POLICY = RetryPolicy()


def is_temporary_status(status: int) -> bool:
    """429 (too many requests) and 5xx: the same request may succeed later."""
    return status == 429 or status >= 500


def retry_after_s(response: httpx.Response) -> float | None:
    """The wait a 429 or 503 asks for in ``Retry-After`` (delay-seconds or an HTTP date), None when absent or
    unreadable (the backoff applies then)."""
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _TemporaryAnswer(Exception):
    """A 429/5xx inside the loop, raised so tenacity retries it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class GaveUp(Exception):
    """Every attempt failed temporarily; the last failure is ``error`` (transport) or ``response`` (429/5xx).
    Internal to the clients: each raises its own error from it."""

    def __init__(self, attempts: int, *, error: httpx.TransportError | None = None,
                 response: httpx.Response | None = None) -> None:
        super().__init__(f"{attempts} attempts: {error!r}" if error else f"{attempts} attempts: {response}")
        self.attempts, self.error, self.response = attempts, error, response

    @property
    def status(self) -> int | None:
        """The last answer's status; None when the last attempt got no answer."""
        return self.response.status_code if self.response is not None else None


def is_temporary(exc: BaseException) -> bool:
    """A failure worth another attempt: a transport error or a temporary answer."""
    return isinstance(exc, (httpx.TransportError, _TemporaryAnswer))


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    def wait(state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        after = retry_after_s(failure.response) if isinstance(failure, _TemporaryAnswer) else None
        return policy.delay(state.attempt_number, retry_after=after)
    return wait


def send(client: httpx.Client, request: httpx.Request, policy: RetryPolicy = DEFAULT_POLICY, *,
         sleep: Callable[[float], None] = time.sleep) -> httpx.Response:
    """The first answer that is not temporary, whatever its status; :class:`GaveUp` when every attempt failed
    temporarily. Every attempt sends the same ``request`` (same headers, so the same idempotency key)."""
    tries = 0

    def attempt() -> httpx.Response:
        nonlocal tries
        tries += 1
        response = client.send(request)
        if is_temporary_status(response.status_code):
            raise _TemporaryAnswer(response)
        return response

    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(policy.attempts), wait=_wait(policy),
                                 retry=tenacity.retry_if_exception(is_temporary), sleep=sleep, reraise=True)
    try:
        return retrying(attempt)
    except _TemporaryAnswer as exc:
        raise GaveUp(tries, response=exc.response) from None
    except httpx.TransportError as exc:
        raise GaveUp(tries, error=exc) from exc

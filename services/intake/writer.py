"""The intake's writes, on one thread, several to a transaction (group commit).

Fifty inspectors sending at once used to mean fifty threads queuing for SQLite's single write lock, each
paying for its own transaction and its own commit. Here every write is a job on one queue; the writer
thread takes what has queued up (at most ``max_batch``), runs each job in its own SAVEPOINT inside one
transaction and commits once. A job that fails (a conflict, a bad request, a bug) rolls back only its
savepoint and gets its own error; the others still commit. A job's answer is delivered only after the
commit, so an acknowledged write is on disk; if the commit itself fails, every job of the batch gets that
error and none is acknowledged.

The same code runs on PostgreSQL, where a unique-constraint race with another process (a worker, a second
API process) is possible: such a job is run once more in the next batch, where it sees the other write.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.errors import NotStored

log = logging.getLogger(__name__)

Job = Callable[[Session], Any]


@dataclass
class _Pending:
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    attempts: int = 0


def _deliver(p: _Pending, result: Any = None, error: BaseException | None = None) -> None:
    def settle() -> None:
        if p.future.done():  # the client went away; the write stands, nobody waits for the answer
            return
        if error is not None:
            p.future.set_exception(error)
        else:
            p.future.set_result(result)

    try:
        p.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the event loop has closed (server shutting down)
        log.warning("intake answer dropped: event loop closed")


class BatchWriter:
    """Runs write jobs ``job(session) -> answer`` on one thread with group commit (see the module docstring).

    The thread starts with the first job and ends after ``idle_s`` without work, so an app that is built
    and never used (tests, the CLI) leaves no thread behind for long."""

    def __init__(self, engine: Engine, *, max_batch: int = 100, idle_s: float = 5.0) -> None:
        self.engine, self.max_batch, self.idle_s = engine, max_batch, idle_s
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = self.jobs = 0  # counters, for the benchmark and tests

    async def run(self, job: Job) -> Any:
        loop = asyncio.get_running_loop()
        pending = _Pending(job, loop.create_future(), loop)
        self._put(pending)
        # Not cancellable from here: the writer runs the job whatever happens to the request (a write may already
        # be committed); a request that is gone simply leaves its answer unread.
        return await pending.future

    def _put(self, pending: _Pending) -> None:
        with self._lock:
            self._queue.put(pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="intake-writer", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        try:
            self._loop()
        finally:  # whatever ended the loop, the next job starts a new thread
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Pending]) -> None:
        answers: list[tuple[_Pending, Any, BaseException | None]] = []
        again: list[_Pending] = []
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                for p in batch:
                    savepoint = session.begin_nested()
                    try:
                        result = p.job(session)
                        savepoint.commit()
                    except sa.exc.IntegrityError as e:
                        savepoint.rollback()
                        if p.attempts == 0:  # a concurrent writer elsewhere got there first: look again
                            p.attempts += 1
                            again.append(p)
                        else:
                            answers.append((p, None, e))
                    except Exception as e:  # noqa: BLE001 — the job's own error, for its caller only
                        savepoint.rollback()
                        answers.append((p, None, e))
                    else:
                        answers.append((p, result, None))
                    # Jobs may write through Core as well as the ORM; let the next one read from the database.
                    session.expire_all()
                session.commit()
        except BaseException as e:  # noqa: BLE001 — the transaction (or its commit) failed: nothing is acknowledged
            log.exception("intake batch of %d failed", len(batch))
            refusal = NotStored("Hệ thống chưa lưu được dữ liệu gửi lên; hãy gửi lại (giữ nguyên mã gửi).", cause=repr(e))
            for p in batch:
                _deliver(p, error=refusal)
            return  # the thread goes on with the next batch
        self.batches += 1
        self.jobs += len(answers)
        for p, result, error in answers:
            _deliver(p, result, error)
        for p in again:
            self._queue.put(p)

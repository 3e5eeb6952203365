"""Starting the next stages of a campaign from the console, and watching them.

The choice (issue 15, "start the next stage … in-process otherwise"): the console runs **the same entry as
``kiemtra campaign run``** — the ``run-campaign`` flow (``flows.run_campaign.run_campaign``), called in this process
with Prefect heartbeats off (``services.entry.cli.in_process``), against the Prefect server kiemtra manages
(``services.runtime.server.ensure_server``, as the CLI's ``prepare``; skipped when a Prefect API is already
configured). It runs in a background thread, one run per campaign at a time, so the page answers at once and the
dashboard shows "đang chạy" (refreshing itself) until the outcome: the stages run and what the campaign waits for,
or the error. Runs on Prefect workers through the deployment are left to ``kiemtra server deploy`` and Prefect's own
tools: the stages are idempotent, so a run started here and one on a worker never do a step twice.

``CampaignRuns.runner`` is the function that runs (``(settings, code) -> run_campaign's result``): tests may give
another one. The outcome is kept in memory (the last run per campaign); who started it, and why, is audited.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.base import utcnow
from services.errors import Conflict
from services.settings import Settings

Runner = Callable[[Settings, str], dict[str, Any]]


def run_in_process(settings: Settings, code: str) -> dict[str, Any]:
    """``kiemtra campaign run CODE``'s run: the run-campaign flow in this process (a Prefect server ensured)."""
    from flows.run_campaign import run_campaign
    from services import wiring
    from services.entry.cli.in_process import in_process_run

    if not os.environ.get("PREFECT_API_URL"):
        from services.runtime.server import ensure_server

        ensure_server(settings)
    with wiring.use(wiring.for_settings(settings)), in_process_run():
        return dict(run_campaign(code))


@dataclass
class RunRecord:
    code: str
    by: str
    started_at: datetime
    state: str = "running"  # running | done | failed
    finished_at: datetime | None = None
    seconds: float = 0.0
    stages: list[dict[str, Any]] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)
    error: str = ""


class CampaignRuns:
    """The campaign runs started from the console (one at a time per campaign), in background threads."""

    def __init__(self, settings: Settings, runner: Runner = run_in_process) -> None:
        self.settings, self.runner = settings, runner
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._threads: dict[str, threading.Thread] = {}

    def last(self, code: str) -> RunRecord | None:
        with self._lock:
            return self._runs.get(code)

    def start(self, code: str, by: str) -> RunRecord:
        """Starts a run of ``code`` (``Conflict`` while one is running)."""
        with self._lock:
            running = self._runs.get(code)
            if running is not None and running.state == "running":
                raise Conflict(f"Đợt kiểm tra {code} đang chạy (do {running.by} bắt đầu lúc "
                               f"{running.started_at:%H:%M:%S}); hãy chờ kết quả.", campaign_code=code)
            record = RunRecord(code=code, by=by, started_at=utcnow())
            self._runs[code] = record
            thread = threading.Thread(target=self._run, args=(record,), name=f"console-run-{code}", daemon=True)
            self._threads[code] = thread
        thread.start()
        return record

    def wait(self, code: str, timeout: float = 600) -> RunRecord | None:
        """Waits for the run of ``code`` to end (tests, shutdown)."""
        thread = self._threads.get(code)
        if thread is not None:
            thread.join(timeout)
        return self.last(code)

    def _run(self, record: RunRecord) -> None:
        t0 = time.monotonic()
        try:
            out = self.runner(self.settings, record.code)
            stages, waiting, state, error = list(out.get("stages", [])), list(out["state"]["waiting_for"]), "done", ""
        except Exception as exc:  # noqa: BLE001 - the outcome is shown to the lead, whatever failed
            stages, waiting, state = [], [], "failed"
            error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        with self._lock:
            record.stages, record.waiting_for, record.error = stages, waiting, str(error)[:2000]
            record.seconds, record.finished_at, record.state = time.monotonic() - t0, utcnow(), state

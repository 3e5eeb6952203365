"""Starting the next stages of a campaign from the console, and watching them.

The choice (issue 15, "start the next stage through the Prefect deployment when workers run, or in-process
otherwise"), made by :func:`choose_way` at each press of the button:

* the ``run-campaign`` deployment (``kiemtra server deploy``) exists on the Prefect API and its work pool has at least
  one worker ONLINE → ``prefect.deployments.run_deployment(..., timeout=0)``: a flow run a worker picks up;
* otherwise **the same entry as ``kiemtra campaign run``** in this process: a flow run of ``run-campaign`` is created
  on the Prefect API first (so that its id is known at once), then run here in a background thread with
  ``prefect.flow_engine.run_flow`` (heartbeats off, ``services.entry.cli.in_process``), one run per campaign at a time.

Either way the flow run's id is audited (``campaign_run_requested``: ``data.flow_run_id``, ``data.way``), and the
dashboard follows the latest audited run by asking the Prefect API for that flow run's state and its sub-flows (the
stages): the progress survives a restart of the console. The in-memory :class:`RunRecord` is only a cache of an
in-process run's result (the stages' counts, the error). The stages are idempotent, so a run started here and one on a
worker never do a step twice.

``CampaignRuns.runner`` (``(settings, code) -> run_campaign's result``) may be given by tests: such a stand-in runs
in-process without Prefect (no flow run). ``CampaignRuns.prefect`` (:class:`PrefectCalls`) holds the few Prefect client
functions used, so tests can pass fakes.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from models.base import utcnow
from services.errors import Conflict
from services.settings import Settings

Runner = Callable[[Settings, str], dict[str, Any]]
DEPLOYMENT = "run-campaign/run-campaign"
STATE_VI = {"SCHEDULED": "Đang chờ", "PENDING": "Đang chờ", "RUNNING": "Đang chạy", "COMPLETED": "Hoàn tất",
            "FAILED": "Lỗi", "CRASHED": "Lỗi (tiến trình dừng đột ngột)", "CANCELLING": "Đang hủy",
            "CANCELLED": "Đã hủy", "PAUSED": "Tạm dừng"}
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass(frozen=True)
class Way:
    """Where a run goes: on a worker (through the deployment) or in this process, and why."""
    on_worker: bool
    pool: str = ""
    workers: tuple[str, ...] = ()
    why: str = ""

    @property
    def name(self) -> str:
        return "worker" if self.on_worker else "in_process"


def _status(worker: Any) -> str:
    status = getattr(worker, "status", "")
    return str(getattr(status, "value", status)).upper()


def choose_way(read_deployment: Callable[[str], Any], read_workers: Callable[[str], list[Any]],
               deployment: str = DEPLOYMENT) -> Way:
    """The deployment when it exists and a worker of its pool is ONLINE; else this process."""
    try:
        found = read_deployment(deployment)
    except Exception:  # noqa: BLE001 - missing (ObjectNotFound) or unreachable: this process
        return Way(False, why="chưa đăng ký deployment run-campaign trên Prefect")
    pool = str(getattr(found, "work_pool_name", "") or "")
    if not pool:
        return Way(False, why="deployment run-campaign không có work pool")
    try:
        online = tuple(sorted(str(w.name) for w in read_workers(pool) if _status(w) == "ONLINE"))
    except Exception:  # noqa: BLE001
        online = ()
    if not online:
        return Way(False, pool=pool, why=f"không có worker nào đang trực tuyến ở work pool {pool}")
    return Way(True, pool=pool, workers=online)


@dataclass(frozen=True)
class Progress:
    """A flow run's state on the Prefect API, and its sub-flows (the stages) in order."""
    state: str  # state type: PENDING, RUNNING, COMPLETED, …
    state_name: str
    stages: tuple[tuple[str, str], ...] = ()  # (flow name, state type)
    message: str = ""

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def label(self) -> str:
        return STATE_VI.get(self.state, self.state_name or self.state)


@contextmanager
def _client() -> Iterator[Any]:
    from prefect.client.orchestration import get_client
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"client.max_retries": 0}), \
            get_client(sync_client=True, httpx_settings={"timeout": 5.0}) as client:
        yield client


def read_deployment(name: str) -> Any:
    with _client() as client:
        return client.read_deployment_by_name(name)


def read_workers(pool: str) -> list[Any]:
    with _client() as client:
        return list(client.read_workers_for_work_pool(pool))


def start_deployment(name: str, parameters: dict[str, Any]) -> str:
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    flow_run = run_deployment(name=name, parameters=parameters, timeout=0)
    assert isinstance(flow_run, FlowRun)
    return str(flow_run.id)


def create_flow_run(code: str) -> str:
    """A flow run of ``run-campaign`` for ``code``, created (PENDING) for this process to run."""
    from flows.run_campaign import run_campaign

    with _client() as client:
        return str(client.create_flow_run(run_campaign, parameters={"campaign_code": code}).id)


def read_progress(flow_run_id: str) -> Progress:
    """The flow run's state and its sub-flows' (the stages run), from the Prefect API (raises when unreachable)."""
    from prefect.client.schemas.filters import (FlowFilter, FlowFilterId, FlowRunFilter,
                                                FlowRunFilterParentFlowRunId)
    from prefect.client.schemas.sorting import FlowRunSort

    with _client() as client:
        run = client.read_flow_run(UUID(flow_run_id))
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=50)
        ids = list({c.flow_id for c in children})
        names = {f.id: f.name for f in client.read_flows(flow_filter=FlowFilter(id=FlowFilterId(any_=ids)))} \
            if ids else {}
    state = run.state
    return Progress(state=str(state.type.value) if state else "PENDING", state_name=state.name if state else "",
                    stages=tuple((names.get(c.flow_id, c.name), str(c.state.type.value) if c.state else "PENDING")
                                 for c in children),
                    message=(state.message or "")[:500] if state else "")


@dataclass(frozen=True)
class PrefectCalls:
    """The Prefect client functions the console uses (tests pass fakes)."""
    read_deployment: Callable[[str], Any] = read_deployment
    read_workers: Callable[[str], list[Any]] = read_workers
    start_deployment: Callable[[str, dict[str, Any]], str] = start_deployment
    create_flow_run: Callable[[str], str] = create_flow_run
    read_progress: Callable[[str], Progress] = read_progress


def run_flow_run(settings: Settings, code: str, flow_run_id: str) -> dict[str, Any]:
    """Runs the flow run made by :func:`create_flow_run` in this process (as the CLI's run, with its id)."""
    from prefect.flow_engine import run_flow

    from flows.run_campaign import run_campaign
    from services import wiring
    from services.entry.cli.in_process import in_process_run

    with _client() as client:
        flow_run = client.read_flow_run(UUID(flow_run_id))
    with wiring.use(wiring.for_settings(settings)), in_process_run():
        out = run_flow(run_campaign, flow_run=flow_run, parameters={"campaign_code": code})
    assert isinstance(out, dict)
    return dict(out)


def ensure_prefect(settings: Settings) -> None:
    """Points this process at the Prefect API (the managed server started if needed), as the CLI's ``prepare``."""
    if not os.environ.get("PREFECT_API_URL"):
        from services.runtime.server import ensure_server

        ensure_server(settings)


def known_api_url(settings: Settings) -> str:
    """The Prefect API this console would use, without starting anything: the configured one, or the managed
    server's (its pid file), or ""."""
    if settings.prefect_api_url:
        return settings.prefect_api_url.rstrip("/")
    from services.runtime.pidfile import pid_path, read_pid_file

    record = read_pid_file(pid_path(settings)) or {}
    return str(record.get("api_url") or "")


@dataclass
class RunRecord:
    code: str
    by: str
    started_at: datetime
    state: str = "running"  # running | done | failed  (in-process runs; a worker's run is followed on Prefect)
    finished_at: datetime | None = None
    seconds: float = 0.0
    stages: list[dict[str, Any]] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)
    error: str = ""
    way: str = "in_process"
    flow_run_id: str = ""
    workers: tuple[str, ...] = ()
    why: str = ""


class CampaignRuns:
    """The campaign runs started from the console: on a worker, or in this process (background threads)."""

    def __init__(self, settings: Settings, runner: Runner | None = None, prefect: PrefectCalls | None = None) -> None:
        self.settings, self.runner = settings, runner
        self.prefect = prefect if prefect is not None else (PrefectCalls() if runner is None else None)
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._threads: dict[str, threading.Thread] = {}

    def last(self, code: str) -> RunRecord | None:
        with self._lock:
            return self._runs.get(code)

    def progress(self, flow_run_id: str) -> Progress:
        """The flow run's progress on the Prefect API (raises when it cannot be read)."""
        if self.prefect is None:
            raise RuntimeError("no Prefect API for this console")
        if self.prefect.read_progress is not read_progress or os.environ.get("PREFECT_API_URL"):
            return self.prefect.read_progress(flow_run_id)
        from prefect.settings import temporary_settings

        api_url = known_api_url(self.settings)  # after a restart, before any run: never ephemeral Prefect in a GET
        if not api_url:
            raise RuntimeError("no Prefect API known (KIEMTRA_PREFECT_API_URL, or the managed server's pid file)")
        with temporary_settings(updates={"api.url": api_url}):
            return read_progress(flow_run_id)

    def start(self, code: str, by: str) -> RunRecord:
        """Starts a run of ``code`` (``Conflict`` while one of this process runs): on a worker or here."""
        with self._lock:
            running = self._runs.get(code)
            if running is not None and running.state == "running":
                raise Conflict(f"Đợt kiểm tra {code} đang chạy (do {running.by} bắt đầu lúc "
                               f"{running.started_at:%H:%M:%S}); hãy chờ kết quả.", campaign_code=code)
        record = RunRecord(code=code, by=by, started_at=utcnow())
        if self.prefect is not None:
            self._prefect_start(record)
        if record.way == "worker":
            with self._lock:
                self._runs[code] = record
            return record
        with self._lock:
            self._runs[code] = record
            thread = threading.Thread(target=self._run, args=(record,), name=f"console-run-{code}", daemon=True)
            self._threads[code] = thread
        thread.start()
        return record

    def _prefect_start(self, record: RunRecord) -> None:
        assert self.prefect is not None
        try:
            if self.prefect.read_deployment is read_deployment:
                ensure_prefect(self.settings)
            way = choose_way(self.prefect.read_deployment, self.prefect.read_workers)
            record.way, record.workers, record.why = way.name, way.workers, way.why
            if way.on_worker:
                record.flow_run_id = self.prefect.start_deployment(DEPLOYMENT, {"campaign_code": record.code})
                record.state = "on_worker"
            else:
                record.flow_run_id = self.prefect.create_flow_run(record.code)
        except Conflict:
            raise
        except Exception as exc:  # noqa: BLE001 - the Prefect API is down: say so, start nothing
            raise Conflict(f"Không kết nối được máy chủ Prefect nên chưa chạy được đợt {record.code}: "
                           f"{type(exc).__name__}: {exc}"[:500], campaign_code=record.code) from exc

    def wait(self, code: str, timeout: float = 600) -> RunRecord | None:
        """Waits for the in-process run of ``code`` to end (tests, shutdown)."""
        thread = self._threads.get(code)
        if thread is not None:
            thread.join(timeout)
        return self.last(code)

    def _run(self, record: RunRecord) -> None:
        t0 = time.monotonic()
        try:
            if self.runner is not None:
                out = self.runner(self.settings, record.code)
            else:
                out = run_flow_run(self.settings, record.code, record.flow_run_id)
            stages, waiting, state, error = list(out.get("stages", [])), list(out["state"]["waiting_for"]), "done", ""
        except Exception as exc:  # noqa: BLE001 - the outcome is shown to the lead, whatever failed
            stages, waiting, state = [], [], "failed"
            error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        with self._lock:
            record.stages, record.waiting_for, record.error = stages, waiting, str(error)[:2000]
            record.seconds, record.finished_at, record.state = time.monotonic() - t0, utcnow(), state


# --------------------------------------------------------------------------- what the dashboard shows


@dataclass(frozen=True)
class RunView:
    """The campaign's latest audited run as the dashboard shows it."""
    by: str
    at: datetime
    way: str
    workers: tuple[str, ...]
    flow_run_id: str
    progress: Progress | None  # None: not asked (no flow run) or not answered (api_down)
    api_down: bool
    cached: RunRecord | None  # this process's record of the same run (an in-process run's result)
    running: bool
    lost: bool  # an in-process run still "running" on Prefect that no process here runs (the console restarted)


def latest_audited(session: Any, campaign_id: int) -> Any:
    """The last ``campaign_run_requested`` audit row of the campaign (or None)."""
    from sqlmodel import col, select

    from models import AuditEvent

    return session.exec(select(AuditEvent).where(AuditEvent.action == "campaign_run_requested",
                                                 AuditEvent.entity_type == "campaign",
                                                 AuditEvent.entity_id == campaign_id)
                        .order_by(col(AuditEvent.id).desc()).limit(1)).first()


def run_view(runs: CampaignRuns, session: Any, campaign_id: int, code: str) -> RunView | None:
    """The latest run from the audit row, its state from the Prefect API (the stored state when unreachable)."""
    event, cached = latest_audited(session, campaign_id), runs.last(code)
    if event is None:
        return None
    data = event.data or {}
    flow_run_id, way = str(data.get("flow_run_id") or ""), str(data.get("way") or "in_process")
    if cached is not None and cached.flow_run_id != flow_run_id:
        cached = None
    progress, api_down = None, False
    if flow_run_id:
        try:
            progress = runs.progress(flow_run_id)
        except Exception:  # noqa: BLE001 - unreachable or unknown: the page says so
            api_down = True
    local = cached is not None and cached.state == "running"
    lost = way == "in_process" and progress is not None and not progress.final and cached is None
    running = local or (way == "worker" and progress is not None and not progress.final)
    return RunView(by=event.actor, at=event.at, way=way, workers=tuple(data.get("workers") or ()),
                   flow_run_id=flow_run_id, progress=progress, api_down=api_down, cached=cached, running=running,
                   lost=lost)

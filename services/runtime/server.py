"""A long-lived local Prefect server, managed by PID file (never Prefect's ephemeral mode).

Prefect's ephemeral mode starts an API server inside every process (8-10 s here) and loses most
task-run records at exit, so the CLI, the demo and the tests run against one ``prefect server``
process instead:

The room (``services/runtime/``), split by concern: this module (the server's life: ensure, stop, status, the work
pool), :mod:`~services.runtime.pidfile` (the PID file and whether its process is ours), :mod:`~services.runtime.launch`
(starting it detached and waiting for it), :mod:`~services.runtime.process` (/proc, ports, ending a process group)
and :mod:`~services.runtime.client` (pointing a Prefect client at it).

* :func:`ensure_server` reuses the server recorded in ``<prefect_home>/server.pid`` only if it is ours:
  the PID is alive, started when the file says (its start time in /proc, so a PID given since to
  another process is not taken for it), carries the random identity the file records in its
  environment, runs ``prefect server start`` on the recorded port, and a process of its session
  listens on that port and answers ``/api/health``. Otherwise it starts ``prefect server start``
  detached (own session / process group), waits until *that* process answers, and writes the PID
  file. A port held by another program is never used: with the default port the next free one is
  taken (and recorded); a port set explicitly (``KIEMTRA_PREFECT_PORT``) is refused with the
  holder's PID and command line. With ``settings.prefect_api_url`` set it only checks that API's
  health. Either way it then points the *current* process at the server
  (:func:`~services.runtime.client.configure_prefect_client`), even if ``prefect`` was already imported.
* :func:`server_lost` says, in Vietnamese, that the server went away during a run (the CLI prints it
  instead of the client's traceback).
* :func:`stop_server` stops a server started by us (SIGTERM to its process group, SIGKILL after a
  timeout) and removes the PID file; if this process is its client, pending logs/events are sent first.
* :func:`server_status` reports without changing anything.

Nothing happens at import; ``prefect`` itself is only imported when needed.
"""
from __future__ import annotations

import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.errors import PortTaken, PrefectServerError
from services.runtime import launch, pidfile, process
from services.runtime.client import configure_prefect_client, flush_prefect_client
from services.runtime.process import HOST

if TYPE_CHECKING:  # pragma: no cover
    from services.settings import Settings

__all__ = ["PrefectServer", "ServerStatus", "WORK_POOL_NAME", "ensure_server", "ensure_work_pool", "server_lost",
           "server_status", "stop_server"]

WORK_POOL_NAME = "kiemtra-process"
PORT_TRIES = 20  # with the default port: how many ports after it to try when it is held by another program


@dataclass(frozen=True)
class PrefectServer:
    api_url: str  # e.g. http://127.0.0.1:4209/api
    pid: int | None  # None for an external API (settings.prefect_api_url)
    started_here: bool  # True if this call started the process
    log_path: Path | None  # the server's stdout/stderr; None for an external API
    port: int | None = None
    home: Path | None = None  # PREFECT_HOME of the server (holds the PID file and the SQLite DB)

    @property
    def external(self) -> bool:
        return self.pid is None

    @property
    def ui_url(self) -> str:
        return self.api_url[: -len("/api")] if self.api_url.endswith("/api") else self.api_url


@dataclass(frozen=True)
class ServerStatus:
    running: bool  # process alive (or, for an external API, healthy)
    healthy: bool  # /api/health answered
    api_url: str | None
    pid: int | None
    managed: bool  # a PID file of ours exists
    log_path: Path | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["log_path"] = str(self.log_path) if self.log_path else None
        return data


def _settings(settings: "Settings | None") -> "Settings":
    if settings is None:
        from services.settings import get_settings

        return get_settings()
    return settings


def _api_url(port: int) -> str:
    return f"http://{HOST}:{port}/api"




def ensure_server(
    settings: "Settings | None" = None,
    *,
    timeout: float = 60.0,
    configure_process: bool = True,
) -> PrefectServer:
    """Return a healthy Prefect API, starting the managed local server if needed.

    * ``settings.prefect_api_url`` set: check its ``/health`` and use it (nothing is started).
    * else reuse the server in ``<prefect_home>/server.pid`` if alive and healthy;
    * else start ``prefect server start --host 127.0.0.1 --port settings.prefect_port`` detached,
      with PREFECT_HOME = ``settings.prefect_home_path`` (SQLite DB, PID file and log inside it).

    Raises :class:`PrefectServerError` if the API is unreachable, the port is taken by something
    else, or the server does not become healthy within ``timeout`` (with the log tail).
    With ``configure_process`` (default) the current process is pointed at the server.
    """
    settings = _settings(settings)
    if settings.prefect_api_url:
        api_url = settings.prefect_api_url.rstrip("/")
        if not launch.health(api_url, timeout=min(timeout, 10.0)):
            raise PrefectServerError(
                f"the Prefect API configured by KIEMTRA_PREFECT_API_URL ({api_url}) does not answer "
                f"{api_url}/health"
            )
        server = PrefectServer(api_url=api_url, pid=None, started_here=False, log_path=None)
    else:
        with pidfile.locked(settings):
            server = _reuse_or_start(settings, timeout)
    if configure_process:
        configure_prefect_client(server.api_url, server.home or pidfile.prefect_home(settings))
    return server


def _reuse_or_start(settings: "Settings", timeout: float) -> PrefectServer:
    home, pid_path, log_path = pidfile.prefect_home(settings), pidfile.pid_path(settings), pidfile.log_path(settings)
    record = pidfile.read_pid_file(pid_path)
    if record is not None and not record.get("corrupt") and pidfile.not_ours(record, home) is None:
        pid, port = int(record["pid"]), int(record["port"])
        try:  # ours: it answers now, or is still starting (its starter died mid-wait)
            launch.wait_healthy(_api_url(port), pid, log_path, timeout=min(timeout, 15.0), port=port)
        except PrefectServerError:
            process.terminate(pid, timeout=10.0)  # hung server of ours: replace it
        else:
            return PrefectServer(_api_url(port), pid, False, log_path, port=port, home=home)
    pid_path.unlink(missing_ok=True)  # stale, or naming a process that is not ours: never signalled, never reused

    fixed = "prefect_port" in settings.model_fields_set  # set by KIEMTRA_PREFECT_PORT (or in code): that port or none
    ports = [settings.prefect_port] if fixed else list(range(settings.prefect_port, settings.prefect_port + PORT_TRIES))
    held: list[str] = []
    for port in ports:
        holder = process.holder(port)
        if holder is None:
            try:
                return _start(settings, port, timeout)
            except PortTaken as exc:  # taken between our check and the server's bind
                holder = str(exc)
        held.append(f"cổng {HOST}:{port}: {holder}")
    hint = ("Dừng chương trình đó, hoặc chọn cổng khác bằng KIEMTRA_PREFECT_PORT." if fixed else
            "Dừng các chương trình đó, hoặc chọn cổng khác bằng KIEMTRA_PREFECT_PORT.")
    raise PrefectServerError(f"Không khởi động được máy chủ Prefect cục bộ: {'; '.join(held[:3])}"
                             f"{f' (và {len(held) - 3} cổng khác)' if len(held) > 3 else ''}. kiemtra chỉ dùng lại máy "
                             f"chủ do chính nó khởi động (ghi trong {pid_path}). {hint}")


def _start(settings: "Settings", port: int, timeout: float) -> PrefectServer:
    """Start our server on ``port`` and record it (PID, start time, identity) once it is the one answering."""
    home, pid_path, log_path = pidfile.prefect_home(settings), pidfile.pid_path(settings), pidfile.log_path(settings)
    identity = secrets.token_hex(16)
    pid = launch.spawn(settings, port, identity)
    info = process.process_info(pid)
    pidfile.write_pid_file(
        pid_path,
        {
            "pid": pid,
            "port": port,
            "api_url": _api_url(port),
            "log_path": str(log_path),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "start_ticks": info.start_ticks if info else None,
            "identity": identity,
            "home": str(home),
        },
    )
    try:
        launch.wait_healthy(_api_url(port), pid, log_path, timeout, port=port)
    except PrefectServerError:
        process.terminate(pid, timeout=5.0)
        pid_path.unlink(missing_ok=True)
        raise
    return PrefectServer(_api_url(port), pid, True, log_path, port=port, home=home)


def server_lost(server: PrefectServer) -> str | None:
    """A one-paragraph Vietnamese explanation if ``server`` no longer answers (None while it does)."""
    if launch.health(server.api_url, timeout=2.0):
        return None
    where = f"tiến trình số {server.pid}, " if server.pid else ""
    log = f" Nhật ký của máy chủ: {server.log_path}." if server.log_path else ""
    return (f"Máy chủ Prefect ({where}{server.api_url}) đã dừng hoặc không còn trả lời trong khi đợt kiểm tra đang "
            f"chạy, nên lần chạy này dừng lại. Những gì đã lưu vẫn còn nguyên: chạy lại lệnh, kiemtra sẽ khởi động "
            f"lại máy chủ và làm tiếp từ bước đang dở, không tạo trùng.{log}")


def stop_server(settings: "Settings | None" = None, *, timeout: float = 15.0) -> bool:
    """Stop the managed server recorded in the PID file; True if a running server was stopped.

    SIGTERM to the server's process group, SIGKILL after ``timeout`` s; the PID file is removed
    in every case. An external API (``settings.prefect_api_url``) is never touched.
    """
    settings = _settings(settings)
    pid_path = pidfile.pid_path(settings)
    if not pid_path.exists():
        return False
    with pidfile.locked(settings):
        record = pidfile.read_pid_file(pid_path)
        pid = record.get("pid") if record else None
        stopped = False
        # Only the very process we started: a PID file without an identity (an older version's) is never trusted to
        # signal a PID, which may since be another program's; its server, if still up, is named when its port is held.
        if record is not None and isinstance(pid, int) and pidfile.not_ours(record, pidfile.prefect_home(settings)) is None:
            if record and os.environ.get("PREFECT_API_URL") == record.get("api_url"):
                flush_prefect_client()  # this process is a client: ship its pending logs first
            if not process.terminate(pid, timeout):
                raise PrefectServerError(f"prefect server (pid {pid}) survived SIGKILL")
            stopped = True
        pid_path.unlink(missing_ok=True)
    return stopped


def server_status(settings: "Settings | None" = None) -> ServerStatus:
    """Report on the configured/managed Prefect server without starting or stopping anything."""
    settings = _settings(settings)
    if settings.prefect_api_url:
        api_url = settings.prefect_api_url.rstrip("/")
        healthy = launch.health(api_url)
        return ServerStatus(
            running=healthy,
            healthy=healthy,
            api_url=api_url,
            pid=None,
            managed=False,
            log_path=None,
            detail=f"external API (KIEMTRA_PREFECT_API_URL) {'healthy' if healthy else 'NOT answering'}",
        )
    log_path = pidfile.log_path(settings)
    record = pidfile.read_pid_file(pidfile.pid_path(settings))
    if record is None:
        return ServerStatus(False, False, None, None, False, log_path, "not running (no PID file)")
    pid, port = record.get("pid"), record["port"]  # both keys are in every record read_pid_file returns
    stale = pidfile.not_ours(record, pidfile.prefect_home(settings))
    if stale is not None:
        return ServerStatus(False, False, None, pid, True, log_path, f"not running (stale PID file, pid {pid}: {stale})")
    api_url = _api_url(port)
    healthy = launch.health(api_url)
    detail = f"running, pid {pid}, {api_url} " + ("healthy" if healthy else "NOT answering /health")
    return ServerStatus(True, healthy, api_url, pid, True, log_path, detail)


def ensure_work_pool(name: str = WORK_POOL_NAME) -> bool:
    """Create the ``process`` work pool that prefect.yaml's deployments use, if missing.

    ``prefect deploy`` refuses to deploy to a pool that does not exist. Uses the current process's
    Prefect settings (call :func:`ensure_server` first). Returns True if the pool was created.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type="process",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                    description="kiemtra inspection-campaign flows (local processes)",
                )
            )
        except ObjectAlreadyExists:
            return False
    return True

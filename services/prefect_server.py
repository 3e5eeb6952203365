"""A long-lived local Prefect server, managed by PID file (never Prefect's ephemeral mode).

Prefect's ephemeral mode starts an API server inside every process (8-10 s here) and loses most
task-run records at exit, so the CLI, the demo and the tests run against one ``prefect server``
process instead:

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
  (:func:`configure_prefect_client`), even if ``prefect`` was already imported.
* :func:`server_lost` says, in Vietnamese, that the server went away during a run (the CLI prints it
  instead of the client's traceback).
* :func:`stop_server` stops a server started by us (SIGTERM to its process group, SIGKILL after a
  timeout) and removes the PID file; if this process is its client, pending logs/events are sent first.
* :func:`server_status` reports without changing anything.

Nothing happens at import; ``prefect`` itself is only imported when needed.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import httpx

from services import local_process

if TYPE_CHECKING:  # pragma: no cover
    from services.settings import Settings

__all__ = [
    "PrefectServer",
    "PrefectServerError",
    "ServerStatus",
    "WORK_POOL_NAME",
    "configure_prefect_client",
    "ensure_server",
    "ensure_work_pool",
    "flush_prefect_client",
    "prefect_client_env",
    "quiet_unreachable_api",
    "restore_prefect_client",
    "server_lost",
    "server_status",
    "stop_server",
]

HOST = "127.0.0.1"
PID_FILE_NAME = "server.pid"
LOCK_FILE_NAME = "server.lock"
LOG_FILE_NAME = "server.log"
DB_FILE_NAME = "server.db"
WORK_POOL_NAME = "kiemtra-process"
IDENTITY_ENV = "KIEMTRA_PREFECT_SERVER_ID"  # a random token given to the server we start, recorded in the PID file
PORT_TRIES = 20  # with the default port: how many ports after it to try when it is held by another program

#: Environment variables :func:`configure_prefect_client` may set in this process.
CLIENT_ENV_KEYS = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE")


class PrefectServerError(RuntimeError):
    """The Prefect server could not be started, reached or stopped."""


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


# --------------------------------------------------------------------------------------------
# paths, PID file, lock


def _settings(settings: "Settings | None") -> "Settings":
    if settings is None:
        from services.settings import get_settings

        return get_settings()
    return settings


def _home(settings: "Settings") -> Path:
    return settings.prefect_home_path


def _pid_path(settings: "Settings") -> Path:
    return _home(settings) / PID_FILE_NAME


def _log_path(settings: "Settings") -> Path:
    return _home(settings) / LOG_FILE_NAME


def _api_url(port: int) -> str:
    return f"http://{HOST}:{port}/api"


def _read_pid_file(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
        int(data["pid"]), int(data["port"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # corrupt or foreign: treat as stale
        return {"pid": None, "port": None, "corrupt": True}
    return data


def _write_pid_file(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(data), indent=2))
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(settings: "Settings") -> Iterator[None]:
    """Serialise ensure/stop between processes sharing one PREFECT_HOME."""
    home = _home(settings)
    home.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(home / LOCK_FILE_NAME, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------
# process helpers


def _not_ours(record: Mapping[str, Any], home: Path) -> str | None:
    """Why the process of a PID file is not the server we started (None: it is; whether it listens is asked apart)."""
    pid, port, token = record.get("pid"), record.get("port"), record.get("identity")
    if not local_process.available():  # no /proc (macOS): a live PID of a file this version wrote, as before
        return None if token and isinstance(pid, int) and not _gone(pid) else f"không còn tiến trình số {pid}"
    info = local_process.process_info(pid if isinstance(pid, int) else None)
    if info is None or info.state in ("Z", "X"):
        return f"không còn tiến trình số {pid}"
    if not token or info.start_ticks != record.get("start_ticks"):
        return f"tiến trình số {pid} không phải tiến trình kiemtra đã khởi động ({info.cmdline[:200]})"
    if not local_process.environ_has(info.pid, IDENTITY_ENV, str(token)) or str(home) != record.get("home"):
        return f"tiến trình số {pid} không mang định danh ghi trong tệp PID ({info.cmdline[:200]})"
    if not _prefect_argv(info.argv, port):
        return f"tiến trình số {pid} không phải 'prefect server start' trên cổng {port} ({info.cmdline[:200]})"
    return None


def _prefect_argv(argv: tuple[str, ...], port: Any) -> bool:
    names = [Path(a).name for a in argv]
    return ("prefect" in names and "server" in argv and "start" in argv and "--port" in argv
            and argv[argv.index("--port") + 1:][:1] == (str(port),))


def _listens_for(pid: int, port: int) -> bool:
    """A process of ``pid``'s session (the server leads its own) listens on ``port`` (not knowable without /proc)."""
    return not local_process.available() or any(p.session == pid for p in local_process.listeners(port))


def _holder(port: int) -> str | None:
    """Who holds ``port`` on this machine, in words (None: nobody listens and it can be bound)."""
    holders = local_process.listeners(port)
    if holders:
        return "; ".join(f"tiến trình số {p.pid} ({p.cmdline[:200]})" for p in holders)
    if local_process.someone_listens(port) or not _port_free(port):
        return "một chương trình của người dùng khác (không xem được số tiến trình)"
    return None


def _reap(pid: int) -> None:
    """Collect ``pid`` if it happens to be our child (avoids zombies); harmless otherwise."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _gone(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    return False


def _signal_group(pid: int, sig: int) -> None:
    """Signal the server's process group (it leads its own session), else the process alone."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    try:
        if pgid == pid and pgid != os.getpgrp():
            os.killpg(pgid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM the group, SIGKILL after ``timeout`` s. True once the process is gone."""
    if _gone(pid):
        return True
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            break
        time.sleep(0.1)
    else:
        _signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not _gone(pid):
            time.sleep(0.05)
    # Stragglers in the group (uvicorn workers etc.): make sure none survive.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return _gone(pid)


def _health(api_url: str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _prefect_executable() -> str:
    candidate = Path(sys.executable).parent / "prefect"
    if candidate.exists():
        return str(candidate)
    raise PrefectServerError(f"no 'prefect' executable next to {sys.executable}; is prefect installed?")


def _server_env(settings: "Settings", port: int) -> dict[str, str]:
    home = _home(settings)
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")}
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": (settings.prefect_database_url.get_secret_value()
                                                       if settings.prefect_database_url else
                                                       f"sqlite+aiosqlite:///{home / DB_FILE_NAME}"),
            "PREFECT_SERVER_API_HOST": HOST,
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# Tiny launcher run by a fresh interpreter: forks, puts the child in its own session (so it is
# the leader of its own process group, survives our exit and gets no SIGHUP), redirects its
# output to the log, execs the server and prints the child's PID. The server is therefore not our
# child: no zombie, no ResourceWarning from a dropped Popen, nothing tied to this process.
_LAUNCHER = r"""
import os, sys
log, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.setsid()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0); os.dup2(fd, 1); os.dup2(fd, 2)
    os.closerange(3, 65536)
    try:
        os.execve(argv[0], argv, os.environ)
    finally:
        os._exit(127)
print(pid, flush=True)
"""


def _spawn(settings: "Settings", port: int, identity: str) -> int:
    log_path = _log_path(settings)
    with open(log_path, "a") as fh:
        fh.write(f"\n==== kiemtra: starting prefect server on {HOST}:{port} at {time.strftime('%F %T')} ====\n")
    argv = [_prefect_executable(), "server", "start", "--host", HOST, "--port", str(port), "--analytics-off"]
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(log_path), *argv],
        env={**_server_env(settings, port), IDENTITY_ENV: identity},
        cwd=str(_home(settings)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip().isdigit():
        raise PrefectServerError(f"could not launch prefect server: {result.stderr.strip() or result.stdout}")
    return int(result.stdout.strip())


class _PortTaken(PrefectServerError):
    """Our server could not bind its port: another program took it first."""


def _wait_healthy(api_url: str, pid: int, log_path: Path, timeout: float, port: int | None = None) -> None:
    """Until ``pid`` answers ``/api/health``: with ``port``, a process of its session must be the one listening
    there (another program that took the port a moment earlier answers /health too, and is not ours)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _health(api_url, timeout=2.0) and (port is None or _listens_for(pid, port)):
            return
        if _gone(pid):
            holder = _holder(port) if port is not None else None
            if holder is not None:
                raise _PortTaken(f"cổng {HOST}:{port} đã bị chiếm bởi {holder}")
            raise PrefectServerError(
                f"prefect server (pid {pid}) exited during startup; last lines of {log_path}:\n"
                f"{_log_tail(log_path)}"
            )
        time.sleep(0.25)
    raise PrefectServerError(
        f"prefect server (pid {pid}) did not answer {api_url}/health within {timeout:.0f} s; "
        f"last lines of {log_path}:\n{_log_tail(log_path)}"
    )


# --------------------------------------------------------------------------------------------
# pointing this process (and child processes) at the server


def prefect_client_env(server: PrefectServer) -> dict[str, str]:
    """Environment variables that point a *child* process (``prefect deploy``, a worker) at ``server``."""
    env = {"PREFECT_API_URL": server.api_url, "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false"}
    if server.home is not None:
        env["PREFECT_HOME"] = str(server.home)
    return env


def _refresh_prefect_settings() -> None:
    """Make an already-imported prefect re-read its settings from the environment.

    Prefect 3 builds ``prefect.context.GLOBAL_SETTINGS_CONTEXT`` from the environment once, when
    ``prefect.context`` is imported; ``get_current_settings()`` (used by ``get_client()``, the flow
    engine and ``PREFECT_API_URL.value()``) returns it whenever no explicit settings context
    (``temporary_settings``, ``use_profile``) is active. 3.8 provides
    ``refresh_global_settings_context()`` for exactly this. If prefect is not imported yet there is
    nothing to do: it will read the environment when it is.
    """
    context = sys.modules.get("prefect.context")
    if context is None:
        return
    refresh = getattr(context, "refresh_global_settings_context", None)
    if refresh is not None:
        refresh()
    else:  # pragma: no cover - older prefect
        context.GLOBAL_SETTINGS_CONTEXT = context.root_settings_context()


def configure_prefect_client(api_url: str, prefect_home: Path | None = None) -> dict[str, str | None]:
    """Point this process's Prefect client at ``api_url``; returns the previous values for
    :func:`restore_prefect_client`.

    Sets ``PREFECT_API_URL`` (and ``PREFECT_HOME``) in ``os.environ`` so child processes inherit
    them, forbids ephemeral mode, and refreshes prefect's global settings context so a prefect
    imported earlier picks them up too. An explicitly entered ``temporary_settings`` block still
    wins inside that block (that is its purpose).
    """
    previous = {key: os.environ.get(key) for key in CLIENT_ENV_KEYS}
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "false"
    if prefect_home is not None:
        Path(prefect_home).mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(prefect_home)
    _refresh_prefect_settings()
    return previous


def flush_prefect_client(timeout: float = 10.0) -> None:
    """Send this process's pending Prefect logs and events now (before its server goes away).

    Flow-run logs and task-run events are shipped by background queue services that otherwise
    drain only at interpreter exit; stopping the server first loses them ("Error logging to API").
    Nothing to do if prefect was never imported. Call from synchronous code.
    """
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=timeout, at_exit=False)


def restore_prefect_client(previous: Mapping[str, str | None]) -> None:
    """Undo :func:`configure_prefect_client` (restore the environment and prefect's settings)."""
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _refresh_prefect_settings()


# --------------------------------------------------------------------------------------------
# public API


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
        if not _health(api_url, timeout=min(timeout, 10.0)):
            raise PrefectServerError(
                f"the Prefect API configured by KIEMTRA_PREFECT_API_URL ({api_url}) does not answer "
                f"{api_url}/health"
            )
        server = PrefectServer(api_url=api_url, pid=None, started_here=False, log_path=None)
    else:
        with _locked(settings):
            server = _reuse_or_start(settings, timeout)
    if configure_process:
        configure_prefect_client(server.api_url, server.home or _home(settings))
    return server


def _reuse_or_start(settings: "Settings", timeout: float) -> PrefectServer:
    home, pid_path, log_path = _home(settings), _pid_path(settings), _log_path(settings)
    record = _read_pid_file(pid_path)
    if record is not None and not record.get("corrupt") and _not_ours(record, home) is None:
        pid, port = int(record["pid"]), int(record["port"])
        try:  # ours: it answers now, or is still starting (its starter died mid-wait)
            _wait_healthy(_api_url(port), pid, log_path, timeout=min(timeout, 15.0), port=port)
        except PrefectServerError:
            _terminate(pid, timeout=10.0)  # hung server of ours: replace it
        else:
            return PrefectServer(_api_url(port), pid, False, log_path, port=port, home=home)
    pid_path.unlink(missing_ok=True)  # stale, or naming a process that is not ours: never signalled, never reused

    fixed = "prefect_port" in settings.model_fields_set  # set by KIEMTRA_PREFECT_PORT (or in code): that port or none
    ports = [settings.prefect_port] if fixed else list(range(settings.prefect_port, settings.prefect_port + PORT_TRIES))
    held: list[str] = []
    for port in ports:
        holder = _holder(port)
        if holder is None:
            try:
                return _start(settings, port, timeout)
            except _PortTaken as exc:  # taken between our check and the server's bind
                holder = str(exc)
        held.append(f"cổng {HOST}:{port}: {holder}")
    hint = ("Dừng chương trình đó, hoặc chọn cổng khác bằng KIEMTRA_PREFECT_PORT." if fixed else
            "Dừng các chương trình đó, hoặc chọn cổng khác bằng KIEMTRA_PREFECT_PORT.")
    raise PrefectServerError(f"Không khởi động được máy chủ Prefect cục bộ: {'; '.join(held[:3])}"
                             f"{f' (và {len(held) - 3} cổng khác)' if len(held) > 3 else ''}. kiemtra chỉ dùng lại máy "
                             f"chủ do chính nó khởi động (ghi trong {pid_path}). {hint}")


def _start(settings: "Settings", port: int, timeout: float) -> PrefectServer:
    """Start our server on ``port`` and record it (PID, start time, identity) once it is the one answering."""
    home, pid_path, log_path = _home(settings), _pid_path(settings), _log_path(settings)
    identity = secrets.token_hex(16)
    pid = _spawn(settings, port, identity)
    info = local_process.process_info(pid)
    _write_pid_file(
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
        _wait_healthy(_api_url(port), pid, log_path, timeout, port=port)
    except PrefectServerError:
        _terminate(pid, timeout=5.0)
        pid_path.unlink(missing_ok=True)
        raise
    return PrefectServer(_api_url(port), pid, True, log_path, port=port, home=home)


class _NoTracebackWhenUnreachable(logging.Filter):
    """Prefect's own records about an API it cannot reach keep their line and lose their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("prefect") and record.exc_info and _unreachable(record.exc_info[1]):
            record.exc_info, record.exc_text = None, None
        return True


def _unreachable(exc: BaseException | None) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, httpx.TransportError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def quiet_unreachable_api() -> None:
    """For a command's process: Prefect logs a failed flow run with its whole traceback (a hundred lines when its API
    went away); the command says why itself (:func:`server_lost`), so Prefect's record keeps one line."""
    import prefect.main  # noqa: F401 — Prefect configures its logging when imported; the filter goes on its handlers

    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _NoTracebackWhenUnreachable) for f in handler.filters):
            handler.addFilter(_NoTracebackWhenUnreachable())


def server_lost(server: PrefectServer) -> str | None:
    """A one-paragraph Vietnamese explanation if ``server`` no longer answers (None while it does)."""
    if _health(server.api_url, timeout=2.0):
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
    pid_path = _pid_path(settings)
    if not pid_path.exists():
        return False
    with _locked(settings):
        record = _read_pid_file(pid_path)
        pid = record.get("pid") if record else None
        stopped = False
        # Only the very process we started: a PID file without an identity (an older version's) is never trusted to
        # signal a PID, which may since be another program's; its server, if still up, is named when its port is held.
        if record is not None and _not_ours(record, _home(settings)) is None:
            if record and os.environ.get("PREFECT_API_URL") == record.get("api_url"):
                flush_prefect_client()  # this process is a client: ship its pending logs first
            if not _terminate(pid, timeout):
                raise PrefectServerError(f"prefect server (pid {pid}) survived SIGKILL")
            stopped = True
        pid_path.unlink(missing_ok=True)
    return stopped


def server_status(settings: "Settings | None" = None) -> ServerStatus:
    """Report on the configured/managed Prefect server without starting or stopping anything."""
    settings = _settings(settings)
    if settings.prefect_api_url:
        api_url = settings.prefect_api_url.rstrip("/")
        healthy = _health(api_url)
        return ServerStatus(
            running=healthy,
            healthy=healthy,
            api_url=api_url,
            pid=None,
            managed=False,
            log_path=None,
            detail=f"external API (KIEMTRA_PREFECT_API_URL) {'healthy' if healthy else 'NOT answering'}",
        )
    log_path = _log_path(settings)
    record = _read_pid_file(_pid_path(settings))
    if record is None:
        return ServerStatus(False, False, None, None, False, log_path, "not running (no PID file)")
    pid, port = record.get("pid"), record.get("port")
    stale = _not_ours(record, _home(settings))
    if stale is not None:
        return ServerStatus(False, False, None, pid, True, log_path, f"not running (stale PID file, pid {pid}: {stale})")
    api_url = _api_url(port)
    healthy = _health(api_url)
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

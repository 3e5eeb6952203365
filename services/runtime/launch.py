"""Starting the Prefect server detached, and waiting until *that* process answers.

:func:`spawn` runs a tiny launcher in a fresh interpreter that forks, puts the server in its own session and execs
``prefect server start``; :func:`wait_healthy` waits for ``/api/health`` from a process of that session listening on
the port (another program that took the port first answers /health too, and is not ours: :class:`PortTaken`).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from services.errors import PortTaken, PrefectServerError
from services.runtime import pidfile, process
from services.runtime.process import HOST

if TYPE_CHECKING:  # pragma: no cover
    from services.settings import Settings

DB_FILE_NAME = "server.db"


def health(api_url: str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _prefect_executable() -> str:
    candidate = Path(sys.executable).parent / "prefect"
    if candidate.exists():
        return str(candidate)
    raise PrefectServerError(f"no 'prefect' executable next to {sys.executable}; is prefect installed?")


def _server_env(settings: "Settings", port: int) -> dict[str, str]:
    home = pidfile.prefect_home(settings)
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


def spawn(settings: "Settings", port: int, identity: str) -> int:
    log_path = pidfile.log_path(settings)
    with open(log_path, "a") as fh:
        fh.write(f"\n==== kiemtra: starting prefect server on {HOST}:{port} at {time.strftime('%F %T')} ====\n")
    argv = [_prefect_executable(), "server", "start", "--host", HOST, "--port", str(port), "--analytics-off"]
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(log_path), *argv],
        env={**_server_env(settings, port), pidfile.IDENTITY_ENV: identity},
        cwd=str(pidfile.prefect_home(settings)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip().isdigit():
        raise PrefectServerError(f"could not launch prefect server: {result.stderr.strip() or result.stdout}")
    return int(result.stdout.strip())


def wait_healthy(api_url: str, pid: int, log_path: Path, timeout: float, port: int | None = None) -> None:
    """Until ``pid`` answers ``/api/health``: with ``port``, a process of its session must be the one listening
    there (another program that took the port a moment earlier answers /health too, and is not ours)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health(api_url, timeout=2.0) and (port is None or process.listens_for(pid, port)):
            return
        if process.gone(pid):
            holder = process.holder(port) if port is not None else None
            if holder is not None:
                raise PortTaken(f"cổng {HOST}:{port} đã bị chiếm bởi {holder}")
            raise PrefectServerError(
                f"prefect server (pid {pid}) exited during startup; last lines of {log_path}:\n"
                f"{process.log_tail(log_path)}"
            )
        time.sleep(0.25)
    raise PrefectServerError(
        f"prefect server (pid {pid}) did not answer {api_url}/health within {timeout:.0f} s; "
        f"last lines of {log_path}:\n{process.log_tail(log_path)}"
    )

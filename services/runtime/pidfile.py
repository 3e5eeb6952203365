"""The managed Prefect server's files in ``PREFECT_HOME``: the PID file, the lock and the log, and whether the process a
PID file names is the server we started.

The PID file records the PID, the port, the process's start time (from /proc) and a random identity given to the
server in its environment (:data:`IDENTITY_ENV`): a PID given since to another process, or a server someone else
started, is never taken for ours (:func:`not_ours`). :func:`locked` serialises ensure/stop between processes sharing
one ``PREFECT_HOME``.
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.runtime import process

if TYPE_CHECKING:  # pragma: no cover
    from services.settings import Settings

PID_FILE_NAME = "server.pid"
LOCK_FILE_NAME = "server.lock"
LOG_FILE_NAME = "server.log"
IDENTITY_ENV = "KIEMTRA_PREFECT_SERVER_ID"  # a random token given to the server we start, recorded in the PID file


def prefect_home(settings: "Settings") -> Path:
    return settings.prefect_home_path


def pid_path(settings: "Settings") -> Path:
    return prefect_home(settings) / PID_FILE_NAME


def log_path(settings: "Settings") -> Path:
    return prefect_home(settings) / LOG_FILE_NAME


def read_pid_file(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
        int(data["pid"]), int(data["port"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # corrupt or foreign: treat as stale
        return {"pid": None, "port": None, "corrupt": True}
    return data


def write_pid_file(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(data), indent=2))
    os.replace(tmp, path)


@contextlib.contextmanager
def locked(settings: "Settings") -> Iterator[None]:
    """Serialise ensure/stop between processes sharing one PREFECT_HOME."""
    home = prefect_home(settings)
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


def not_ours(record: Mapping[str, Any], home: Path) -> str | None:
    """Why the process of a PID file is not the server we started (None: it is; whether it listens is asked apart)."""
    pid, port, token = record.get("pid"), record.get("port"), record.get("identity")
    if not process.available():  # no /proc (macOS): a live PID of a file this version wrote, as before
        return None if token and isinstance(pid, int) and not process.gone(pid) else f"không còn tiến trình số {pid}"
    info = process.process_info(pid if isinstance(pid, int) else None)
    if info is None or info.state in ("Z", "X"):
        return f"không còn tiến trình số {pid}"
    if not token or info.start_ticks != record.get("start_ticks"):
        return f"tiến trình số {pid} không phải tiến trình kiemtra đã khởi động ({info.cmdline[:200]})"
    if not process.environ_has(info.pid, IDENTITY_ENV, str(token)) or str(home) != record.get("home"):
        return f"tiến trình số {pid} không mang định danh ghi trong tệp PID ({info.cmdline[:200]})"
    if not _prefect_argv(info.argv, port):
        return f"tiến trình số {pid} không phải 'prefect server start' trên cổng {port} ({info.cmdline[:200]})"
    return None


def _prefect_argv(argv: tuple[str, ...], port: Any) -> bool:
    names = [Path(a).name for a in argv]
    return ("prefect" in names and "server" in argv and "start" in argv and "--port" in argv
            and argv[argv.index("--port") + 1:][:1] == (str(port),))

"""Local processes and ports: who a process is and who listens on a port, read from Linux's /proc (no psutil in
constraints.txt), and ending a process group.

Used by :mod:`services.runtime.server` to tell the server it started from anything else: a PID in a PID file may
since have been given to an unrelated process, and a port may be held by a program that answers ``/api/health``
just like ours. Off Linux (no /proc) :func:`available` is False and callers fall back to what they can check.
:func:`terminate` ends a server that leads its own session: SIGTERM to its group, SIGKILL after a timeout.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"  # the managed server listens here only
PROC = Path("/proc")
_LISTEN = "0A"


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    state: str  # R, S, Z (zombie)…
    session: int  # the session id: a process started with setsid() leads its own, its children share it
    start_ticks: int  # start time in clock ticks after boot: with the PID, identifies one process for good
    argv: tuple[str, ...]

    @property
    def cmdline(self) -> str:
        return " ".join(self.argv)


def available() -> bool:
    return (PROC / "self" / "stat").exists()


def process_info(pid: int | None) -> ProcessInfo | None:
    """The process ``pid`` as /proc shows it; None if there is none (or no /proc)."""
    if not pid or pid <= 0:
        return None
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3 of proc(5), so index 0
    try:
        return ProcessInfo(pid, fields[0], int(fields[3]), int(fields[19]),
                           tuple(a.decode(errors="replace") for a in argv if a))
    except (IndexError, ValueError):
        return None


def environ_has(pid: int, key: str, value: str) -> bool:
    """True if the process was started with ``key=value`` in its environment (readable for our own processes)."""
    try:
        data = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return f"{key}={value}".encode() in data.split(b"\0")


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on TCP ``port`` on any local address (IPv4 and IPv6)."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                parts = line.split()
                if len(parts) > 9 and parts[3] == _LISTEN and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(parts[9])
    return inodes


def listeners(port: int) -> list[ProcessInfo]:
    """The processes holding a socket that listens on ``port`` (those whose /proc we may read: our user's)."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not inodes:
        return []
    found: list[ProcessInfo] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                info = process_info(int(entry.name))
                if info is not None:
                    found.append(info)
    return found


def someone_listens(port: int) -> bool:
    """True if any socket listens on ``port`` (even one of another user, whose process we cannot see)."""
    return bool(_listening_inodes(port))


# --------------------------------------------------------------------------------------------
# a port's holder, a process's end


def listens_for(pid: int, port: int) -> bool:
    """A process of ``pid``'s session (the server leads its own) listens on ``port`` (not knowable without /proc)."""
    return not available() or any(p.session == pid for p in listeners(port))


def holder(port: int) -> str | None:
    """Who holds ``port`` on this machine, in words (None: nobody listens and it can be bound)."""
    holders = listeners(port)
    if holders:
        return "; ".join(f"tiến trình số {p.pid} ({p.cmdline[:200]})" for p in holders)
    if someone_listens(port) or not port_free(port):
        return "một chương trình của người dùng khác (không xem được số tiến trình)"
    return None


def _reap(pid: int) -> None:
    """Collect ``pid`` if it happens to be our child (avoids zombies); harmless otherwise."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def gone(pid: int) -> bool:
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


def terminate(pid: int, timeout: float) -> bool:
    """SIGTERM the group, SIGKILL after ``timeout`` s. True once the process is gone."""
    if gone(pid):
        return True
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            break
        time.sleep(0.1)
    else:
        _signal_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not gone(pid):
            time.sleep(0.05)
    # Stragglers in the group (uvicorn workers etc.): make sure none survive.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return gone(pid)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"

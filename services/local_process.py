"""Who a local process is and who listens on a local port, read from Linux's /proc (no psutil in constraints.txt).

Used by :mod:`services.prefect_server` to tell the server it started from anything else: a PID in a PID file may
since have been given to an unrelated process, and a port may be held by a program that answers ``/api/health``
just like ours. Off Linux (no /proc) :func:`available` is False and callers fall back to what they can check.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

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

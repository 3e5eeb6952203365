"""Pointing a Prefect client at the server: this process (:func:`configure_prefect_client`, undone by
:func:`restore_prefect_client`), a child process (:func:`prefect_client_env`), shipping pending logs before the
server goes (:func:`flush_prefect_client`), and one line instead of a traceback when the API went away
(:func:`quiet_unreachable_api`). ``prefect`` itself is only imported when needed.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # pragma: no cover
    from services.runtime.server import PrefectServer

#: Environment variables :func:`configure_prefect_client` may set in this process.
CLIENT_ENV_KEYS = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE")


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
    (``temporary_settings``, ``use_profile``) is active. ``refresh_global_settings_context()`` (prefect
    3.8 and later; the pinned version has it) is for exactly this. If prefect is not imported yet there
    is nothing to do: it will read the environment when it is.
    """
    if "prefect.context" not in sys.modules:
        return
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()


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
    went away); the command says why itself (:func:`services.runtime.server.server_lost`), so Prefect's record keeps one line."""
    import prefect.main  # noqa: F401 — Prefect configures its logging when imported; the filter goes on its handlers

    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _NoTracebackWhenUnreachable) for f in handler.filters):
            handler.addFilter(_NoTracebackWhenUnreachable())

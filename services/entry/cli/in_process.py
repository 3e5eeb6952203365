"""Running flows in this very process (CLI, demo, benchmarks) against the managed local server."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def in_process_run() -> Iterator[None]:
    """Heartbeats let a server notice crashed runs of deployments on workers; for a flow run inside the
    caller's process they only add ~1 s per (sub)flow while the heartbeat thread winds down."""
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield

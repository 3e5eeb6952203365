"""The managed local Prefect server: start, reuse, run a flow against it, stop."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from services.prefect_server import (
    PrefectServer,
    PrefectServerError,
    ensure_server,
    prefect_client_env,
    server_status,
    stop_server,
)
from tests.prefect_support import free_port, prefect_env_restored, prefect_server, prefect_test_settings  # noqa: F401


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


_SMOKE = """
import sys
from prefect import flow, task

@task
def square(x):
    return x * x

@flow(name="kiemtra-server-smoke")
def smoke(n):
    return sum(square(i) for i in range(n))

state = smoke(int(sys.argv[1]), return_state=True)
assert state.is_completed() and state.result() == sum(i * i for i in range(int(sys.argv[1])))
print(state.state_details.flow_run_id)
"""


def _run_trivial_flow_in_subprocess(server: PrefectServer, n_tasks: int) -> UUID:
    import os
    import subprocess
    import sys

    env = {**os.environ, **prefect_client_env(server), "PREFECT_LOGGING_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", _SMOKE, str(n_tasks)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return UUID(done.stdout.strip().splitlines()[-1])


def _task_runs_of(flow_run_id: UUID, expected: int, timeout: float = 30.0) -> list:
    """Task runs reach the server as events; poll (bounded) until all have been recorded."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            done = [r for r in runs if r.state is not None and r.state.is_completed()]
            if len(done) >= expected or time.monotonic() > deadline:
                return runs
            time.sleep(0.2)


# ---------------------------------------------------------------------------------------------- fast


def test_stop_and_status_without_a_server(tmp_path: Path) -> None:
    settings = prefect_test_settings(tmp_path)
    assert stop_server(settings) is False
    status = server_status(settings)
    assert (status.running, status.managed) == (False, False)


def test_stale_pid_file_is_reported_and_cleared(tmp_path: Path) -> None:
    settings = prefect_test_settings(tmp_path)
    settings.prefect_home_path.mkdir(parents=True)
    pid_file = settings.prefect_home_path / "server.pid"
    pid_file.write_text('{"pid": 999999999, "port": 1}')
    assert "stale" in server_status(settings).detail
    assert stop_server(settings) is False
    assert not pid_file.exists()


def test_port_taken_by_another_program_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = prefect_test_settings(tmp_path, port=port)
        with pytest.raises(PrefectServerError, match=f"port 127.0.0.1:{port} is already in use"):
            ensure_server(settings, configure_process=False)
    assert not (settings.prefect_home_path / "server.pid").exists()


def test_unreachable_external_api_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    settings = prefect_test_settings(tmp_path).model_copy(update={"prefect_api_url": url})
    with pytest.raises(PrefectServerError, match="does not answer"):
        ensure_server(settings, timeout=3)


# ---------------------------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_start_reuse_run_flow_and_stop(tmp_path: Path) -> None:
    import prefect  # imported before ensure_server: its settings must still follow
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    settings = prefect_test_settings(tmp_path)
    with prefect_env_restored():
        server = ensure_server(settings)
        try:
            assert server.started_here and server.pid and _process_exists(server.pid)
            assert server.api_url == f"http://127.0.0.1:{settings.prefect_port}/api"
            assert server.log_path and server.log_path.is_relative_to(settings.prefect_home_path)
            assert (settings.prefect_home_path / "server.db").exists()
            assert server_status(settings).healthy

            again = ensure_server(settings)
            assert (again.pid, again.started_here, again.api_url) == (server.pid, False, server.api_url)

            # this process now talks to the server, although prefect was imported earlier
            assert get_current_settings().api.url == server.api_url
            assert prefect.settings.PREFECT_API_URL.value() == server.api_url

            # The flow runs in a fresh process pointed at this server: Prefect's events worker (which carries
            # task-run records) is a process-wide singleton bound to the first API it talked to, so a test
            # process that already used the session's server cannot be re-pointed reliably.
            flow_run_id = _run_trivial_flow_in_subprocess(server, n_tasks=3)
            with get_client(sync_client=True) as client:
                flow_run = client.read_flow_run(flow_run_id)
            assert flow_run.state is not None and flow_run.state.is_completed()
            task_runs = _task_runs_of(flow_run_id, expected=3)
            assert len(task_runs) == 3
            assert all(r.state is not None and r.state.is_completed() for r in task_runs)
        finally:
            stopped = stop_server(settings)

    assert stopped is True
    assert not _process_exists(server.pid)
    assert not (settings.prefect_home_path / "server.pid").exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.api_url}/health", timeout=2)
    assert stop_server(settings) is False


@pytest.mark.slow
def test_session_server_and_external_url(prefect_server: PrefectServer, tmp_path: Path) -> None:  # noqa: F811
    from prefect.settings import get_current_settings

    assert get_current_settings().api.url == prefect_server.api_url
    assert httpx.get(f"{prefect_server.api_url}/health", timeout=5).json() is True

    # KIEMTRA_PREFECT_API_URL: use that API as is, start nothing
    settings = prefect_test_settings(tmp_path).model_copy(update={"prefect_api_url": prefect_server.api_url})
    with prefect_env_restored():
        external = ensure_server(settings)
        assert (external.pid, external.started_here, external.api_url) == (None, False, prefect_server.api_url)
        assert server_status(settings).healthy
        assert stop_server(settings) is False  # never stops an external API
    assert not (settings.prefect_home_path / "server.pid").exists()

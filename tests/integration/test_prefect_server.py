"""The managed local Prefect server: start, reuse, run a flow against it, stop."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from services.runtime.server import PrefectServer, ensure_server, server_lost, server_status, stop_server
from services.errors import PrefectServerError
from services.runtime.client import prefect_client_env
from services.settings import Settings
from tests.prefect_support import (free_port, prefect_env_restored, prefect_server,  # noqa: F401
                                   prefect_test_settings, seed_prefect_home)


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
        with pytest.raises(PrefectServerError, match=f"cổng 127.0.0.1:{port}: tiến trình số {os.getpid()} "):
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
    """The default port is held by another program: the server starts on the next free one (recorded in its PID
    file), is reused by the next call, runs a flow with every record kept, and stops. One server start for all of
    it (a start costs ~7 s of CPU)."""
    import prefect  # imported before ensure_server: its settings must still follow
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    port = free_port()
    settings = _default_port(prefect_test_settings(tmp_path, port=port))
    with _foreign(_http_server(port), port), prefect_env_restored():
        seed_prefect_home(settings)  # a migrated database, when an earlier server left one (tests.prefect_support)
        server = ensure_server(settings)
        try:
            assert server.started_here and server.pid and _process_exists(server.pid)
            assert server.port is not None and server.port != port
            assert server.api_url == f"http://127.0.0.1:{server.port}/api"
            recorded = json.loads((settings.prefect_home_path / "server.pid").read_text())
            assert (recorded["pid"], recorded["port"]) == (server.pid, server.port)
            assert server.log_path and server.log_path.is_relative_to(settings.prefect_home_path)
            assert (settings.prefect_home_path / "server.db").exists()
            assert server_status(settings).healthy

            again = ensure_server(settings)
            assert (again.pid, again.port, again.started_here, again.api_url) == (server.pid, server.port, False,
                                                                                  server.api_url)

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


# ---------------------------------------------------------------------------------------------- not ours (issue 13)

# A stand-in for someone else's server: answers every GET with 200 "true" (as /api/health does), and its command
# line reads like ours ("prefect server start --port N"), which is all the PID check of old looked at.
_LOOKALIKE = """
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b"true")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


@contextlib.contextmanager
def _foreign(argv: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A process of this user, not started by kiemtra, listening on ``port`` until the block ends."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _listening(port):
            assert process.poll() is None and time.monotonic() < deadline, "the foreign server did not start"
            time.sleep(0.05)
        yield process
        assert process.poll() is None, "kiemtra must never signal a process it did not start"
    finally:
        process.kill()
        process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _http_server(port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]


def _lookalike(port: int) -> list[str]:
    return [sys.executable, "-c", _LOOKALIKE, str(port), "prefect", "server", "start", "--port", str(port)]


def _default_port(settings: Settings) -> Settings:
    """The settings as if no one had set KIEMTRA_PREFECT_PORT (the port is then only a default)."""
    settings.__pydantic_fields_set__.discard("prefect_port")
    return settings


def test_a_port_set_explicitly_and_held_by_another_program_is_refused_naming_it(tmp_path: Path) -> None:
    port = free_port()
    settings = prefect_test_settings(tmp_path, port=port)
    with _foreign(_http_server(port), port) as other:
        with pytest.raises(PrefectServerError) as refused:
            ensure_server(settings, configure_process=False, timeout=20)
    message = str(refused.value)
    assert f"cổng 127.0.0.1:{port}: tiến trình số {other.pid} (" in message and "http.server" in message
    assert "KIEMTRA_PREFECT_PORT" in message
    assert not (settings.prefect_home_path / "server.pid").exists()


@pytest.mark.parametrize("record", ["old", "reused pid"])
def test_a_pid_file_naming_a_process_kiemtra_did_not_start_is_not_reused(tmp_path: Path, record: str) -> None:
    """The PID now belongs to a process that looks like a Prefect server and answers /health on the recorded port;
    the old check (command line only) reused it. It is neither reused nor signalled; the port it holds is refused."""
    port = free_port()
    settings = prefect_test_settings(tmp_path, port=port)
    settings.prefect_home_path.mkdir(parents=True)
    pid_file = settings.prefect_home_path / "server.pid"
    with _foreign(_lookalike(port), port) as other:
        data: dict[str, object] = {"pid": other.pid, "port": port, "api_url": f"http://127.0.0.1:{port}/api"}
        if record == "reused pid":  # written for another process that had this PID before
            data |= {"identity": "0" * 32, "start_ticks": 1, "home": str(settings.prefect_home_path)}
        pid_file.write_text(json.dumps(data))

        assert "stale" in server_status(settings).detail
        with pytest.raises(PrefectServerError, match=f"tiến trình số {other.pid} "):
            ensure_server(settings, configure_process=False, timeout=20)
        assert not pid_file.exists()
        pid_file.write_text(json.dumps(data))
        assert stop_server(settings) is False


def test_a_foreign_server_answering_health_on_our_port_is_not_taken_for_ours(tmp_path: Path) -> None:
    """The race of issue 13: another program binds the port a moment before our server; it answers /api/health at
    once, and our server exits on its bind error. Waiting for our server ends in "port taken", never in success."""
    from services.errors import PortTaken
    from services.runtime.launch import wait_healthy

    port = free_port()
    with _foreign(_lookalike(port), port):
        ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])  # never binds, then exits
        try:
            with pytest.raises(PortTaken, match=f"cổng 127.0.0.1:{port} đã bị chiếm"):
                wait_healthy(f"http://127.0.0.1:{port}/api", ours.pid, tmp_path / "server.log", timeout=30, port=port)
        finally:
            ours.kill()
            ours.wait()


def test_a_lost_server_is_explained_in_one_vietnamese_paragraph(tmp_path: Path) -> None:
    port = free_port()
    gone = PrefectServer(f"http://127.0.0.1:{port}/api", 4242, True, tmp_path / "server.log", port=port)
    message = server_lost(gone)
    assert message is not None and "\n" not in message
    assert f"Máy chủ Prefect (tiến trình số 4242, http://127.0.0.1:{port}/api) đã dừng" in message
    assert "chạy lại lệnh" in message and str(tmp_path / "server.log") in message
    with _foreign(_lookalike(port), port):
        assert server_lost(gone) is None


def test_prefects_record_of_an_unreachable_api_keeps_one_line() -> None:
    """Under the paragraph of server_lost, Prefect's own log of the failed run is one line, not its traceback; any
    other error keeps its traceback."""
    import logging

    from services.runtime.client import _NoTracebackWhenUnreachable, quiet_unreachable_api

    quiet_unreachable_api()
    # the root logger's handlers (Prefect's, and pytest's own in a full run) each carry the filter once
    handlers = [h for h in logging.getLogger().handlers
                if any(isinstance(f, _NoTracebackWhenUnreachable) for f in h.filters)]
    assert handlers and len(handlers) == len(logging.getLogger().handlers)
    handler = handlers[0]

    def record(exc: BaseException) -> logging.LogRecord:
        try:
            raise RuntimeError("flow run failed") from exc
        except RuntimeError as wrapped:
            return logging.getLogger("prefect.flow_runs").makeRecord(
                "prefect.flow_runs", logging.ERROR, __file__, 1, "Encountered exception during execution", (),
                (type(wrapped), wrapped, wrapped.__traceback__))

    unreachable, bug = record(httpx.ConnectError("All connection attempts failed")), record(ValueError("a bug"))
    assert handler.filter(unreachable) and handler.filter(bug)
    assert unreachable.exc_info is None and bug.exc_info is not None
    plain = logging.Formatter()
    assert "Traceback" not in plain.format(unreachable) and "Traceback" in plain.format(bug)

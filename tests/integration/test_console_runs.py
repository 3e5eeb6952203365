"""The run button's two ways (issue 15: "start the next stage through the Prefect deployment when workers run, or
in-process otherwise") and the progress the dashboard reads back from the Prefect API, which survives a restart.

The choice is tested with small fakes of the Prefect client functions it is given; the in-process way end to end
against the session's Prefect server (the flow run id audited, the dashboard of a new app instance showing its state);
the worker way through the page with fakes (a real worker running the deployment is tested on PostgreSQL by
tests/flows/test_workers_postgres.py)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlmodel import select

from models import AuditEvent
from services.db import session_scope
from services.entry.http.console.runner import CampaignRuns, PrefectCalls, Progress, choose_way
from services.entry.http.server import start_in_thread
from services.settings import Settings
from tests.cases import visit
from tests.conftest import Worlds
from tests.console_support import console_login, csrf_of
from tests.factories import create_scheduled_campaign, team_inspections


@dataclass
class FakeWorker:
    name: str
    status: str


class NotFound(Exception):
    pass


def fake_prefect(deployment: bool, workers: list[FakeWorker]) -> tuple[Any, Any]:
    def read_deployment(name: str) -> Any:
        if not deployment:
            raise NotFound(name)
        assert name == "run-campaign/run-campaign"
        return type("Deployment", (), {"work_pool_name": "kiemtra-process"})()

    def read_workers(pool: str) -> list[FakeWorker]:
        assert pool == "kiemtra-process"
        return workers

    return read_deployment, read_workers


def test_the_choice() -> None:
    assert not choose_way(*fake_prefect(False, [FakeWorker("a", "ONLINE")])).on_worker  # no deployment
    none_online = choose_way(*fake_prefect(True, [FakeWorker("a", "OFFLINE")]))
    assert not none_online.on_worker and "không có worker nào đang trực tuyến" in none_online.why
    assert not choose_way(*fake_prefect(True, [])).on_worker
    way = choose_way(*fake_prefect(True, [FakeWorker("b", "OFFLINE"), FakeWorker("a", "ONLINE")]))
    assert way.on_worker and way.workers == ("a",) and way.pool == "kiemtra-process" and way.name == "worker"


def world(settings: Settings) -> dict[str, Any]:
    tokens = create_scheduled_campaign(settings, code="RUN-01", quota=6, teams=2)
    first = team_inspections(settings)["SNV-TT01"][0]
    visit(settings, first, on=date(2026, 4, 20), client_id="run-00001", inspector="SNV-TT01")
    return tokens


@pytest.fixture
def tokens(settings: Settings, worlds: Worlds) -> dict[str, str]:
    return worlds.copy(settings, world)


def audited(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings) as s:
        return [dict(e.data) for e in s.exec(select(AuditEvent)
                                             .where(AuditEvent.action == "campaign_run_requested")).all()]


def board(url: str, token: str) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(timeout=60) as http:
        console_login(http, url, "SNV-LEAD", token)
        yield http, http.get(f"{url}/console/campaigns/RUN-01").text


def test_in_process_run_survives_a_restart(settings: Settings, tokens: dict[str, str], prefect_server: Any) -> None:
    server = start_in_thread(settings)
    try:
        for http, page in board(server.url, tokens["SNV-LEAD"]):
            started = http.post(f"{server.url}/console/campaigns/RUN-01/run", data={"csrf": csrf_of(page, -1)},
                                follow_redirects=False)
            assert started.status_code == 303
            record = server.app.state.campaign_runs.wait("RUN-01", timeout=300)
            assert record is not None and record.state == "done", record
            done = http.get(f"{server.url}/console/campaigns/RUN-01").text
            assert "chạy trong máy chủ này" in done and "Lần chạy gần nhất xong" in done
    finally:
        server.stop()
    [data] = audited(settings)
    assert data["way"] == "in_process" and UUID(data["flow_run_id"])
    assert CampaignRuns(settings).progress(data["flow_run_id"]).state == "COMPLETED"
    with pytest.MonkeyPatch.context() as env:  # a console restarted without PREFECT_API_URL: the known API, or none
        env.delenv("PREFECT_API_URL")
        configured = settings.model_copy(update={"prefect_api_url": prefect_server.api_url})
        assert CampaignRuns(configured).progress(data["flow_run_id"]).state == "COMPLETED"
        with pytest.raises(RuntimeError, match="no Prefect API known"):
            CampaignRuns(settings).progress(data["flow_run_id"])

    again = start_in_thread(settings)  # a restart: a new app, nothing in memory
    try:
        for _http, page in board(again.url, tokens["SNV-LEAD"]):
            assert "Trạng thái: <strong>Hoàn tất</strong>" in page and data["flow_run_id"] in page
            assert "chạy trong máy chủ này" in page and 'http-equiv="refresh"' not in page

        def unreachable(flow_run_id: str) -> Progress:
            raise httpx.ConnectError("connection refused")

        again.app.state.campaign_runs = CampaignRuns(settings, prefect=PrefectCalls(read_progress=unreachable))
        for _http, page in board(again.url, tokens["SNV-LEAD"]):
            assert "Không kết nối được máy chủ Prefect" in page
            assert "trưởng đoàn duyệt kết quả kiểm tra của 1 cơ sở" in page  # the stored state, from the database
    finally:
        again.stop()


def test_worker_way_through_the_page(settings: Settings, tokens: dict[str, str]) -> None:
    read_deployment, read_workers = fake_prefect(True, [FakeWorker("worker-a", "ONLINE")])
    started: list[tuple[str, dict[str, Any]]] = []
    flow_run_id = "8f3c2a4e-1b2d-4c5e-9f60-7a8b9c0d1e2f"

    def start_deployment(name: str, parameters: dict[str, Any]) -> str:
        started.append((name, parameters))
        return flow_run_id

    def create_flow_run(code: str) -> str:
        raise AssertionError("a worker is online: nothing runs in this process")

    state = {"now": Progress("RUNNING", "Running", (("select-establishments", "COMPLETED"),
                                                    ("schedule-inspections", "RUNNING")))}
    calls = PrefectCalls(read_deployment=read_deployment, read_workers=read_workers, start_deployment=start_deployment,
                         create_flow_run=create_flow_run, read_progress=lambda _id: state["now"])
    server = start_in_thread(settings)
    server.app.state.campaign_runs = CampaignRuns(settings, prefect=calls)
    try:
        for http, page in board(server.url, tokens["SNV-LEAD"]):
            assert http.post(f"{server.url}/console/campaigns/RUN-01/run", data={"csrf": csrf_of(page, -1)},
                             follow_redirects=False).status_code == 303
            running = http.get(f"{server.url}/console/campaigns/RUN-01").text
            for text in ("chạy trên worker worker-a", "Trạng thái: <strong>Đang chạy</strong>",
                         "Chọn cơ sở theo rủi ro: Hoàn tất", "Lập đoàn và lịch kiểm tra: Đang chạy",
                         'http-equiv="refresh"', "disabled"):
                assert text in running, text
            twice = http.post(f"{server.url}/console/campaigns/RUN-01/run", data={"csrf": csrf_of(page, -1)})
            assert twice.status_code == 409
            state["now"] = Progress("COMPLETED", "Completed")
            done = http.get(f"{server.url}/console/campaigns/RUN-01").text
            assert "Trạng thái: <strong>Hoàn tất</strong>" in done and 'http-equiv="refresh"' not in done
    finally:
        server.stop()
    assert started == [("run-campaign/run-campaign", {"campaign_code": "RUN-01"})]
    assert audited(settings) == [{"flow_run_id": flow_run_id, "way": "worker", "workers": ["worker-a"],
                                  "deployment": "run-campaign/run-campaign"}]


def test_worker_way_with_a_real_worker(settings: Settings, tokens: dict[str, str], prefect_server: Any,
                                       tmp_path: Any) -> None:
    """The deployment registered on the session's (SQLite) Prefect server, one `prefect worker` online: the button
    starts the run on it, and the dashboard follows it to the end. The deployment is deleted afterwards, so later
    tests of this session run in-process again."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from prefect import Flow
    from prefect.client.orchestration import get_client

    from flows.run_campaign import run_campaign
    from services.runtime.server import WORK_POOL_NAME, ensure_work_pool

    root = Path(__file__).resolve().parents[2]
    ensure_work_pool()
    source = run_campaign.from_source(source=str(root), entrypoint="flows/run_campaign.py:run_campaign")
    assert isinstance(source, Flow)
    deployment_id = source.deploy(name="run-campaign", work_pool_name=WORK_POOL_NAME, print_next_steps=False,
                                  ignore_warnings=True)
    assert isinstance(deployment_id, UUID)
    env = {**os.environ, "KIEMTRA_DATA_DIR": str(settings.data_dir), "KIEMTRA_ENVIRONMENT": "test",
           "PREFECT_API_URL": prefect_server.api_url, "PREFECT_LOGGING_LEVEL": "WARNING"}
    if settings.database_url:
        env["KIEMTRA_DATABASE_URL"] = settings.database_url
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed in finally
    worker = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "worker", "start", "--pool", WORK_POOL_NAME,
                               "--name", "worker-test", "--prefetch-seconds", "1"], env=env, cwd=root,
                              stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    server = start_in_thread(settings)
    try:
        calls = PrefectCalls()
        deadline = time.monotonic() + 60
        while not choose_way(calls.read_deployment, calls.read_workers).on_worker:
            assert time.monotonic() < deadline and worker.poll() is None, "the worker never came online"
            time.sleep(0.5)
        for http, page in board(server.url, tokens["SNV-LEAD"]):
            assert http.post(f"{server.url}/console/campaigns/RUN-01/run", data={"csrf": csrf_of(page, -1)},
                             follow_redirects=False).status_code == 303
            [data] = audited(settings)
            assert data["way"] == "worker" and data["workers"] == ["worker-test"]
            deadline = time.monotonic() + 120
            while True:
                text = http.get(f"{server.url}/console/campaigns/RUN-01").text
                if "Trạng thái: <strong>Hoàn tất</strong>" in text:
                    break
                assert "Lỗi" not in text and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(1)
            assert "chạy trên worker worker-test" in text
    finally:
        server.stop()
        with get_client(sync_client=True) as client:  # first, so no later test's run can go to this worker
            client.delete_deployment(deployment_id)
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # busy with a flow run under load: it must still be gone
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        log.close()

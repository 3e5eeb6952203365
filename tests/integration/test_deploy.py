"""prefect.yaml deploys every flow to the managed server (`prefect --no-prompt deploy --all`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.runtime.server import WORK_POOL_NAME, PrefectServer, ensure_work_pool
from services.runtime.client import prefect_client_env
from services.settings import PROJECT_ROOT
from tests.prefect_support import prefect_server  # noqa: F401

EXPECTED = {
    "select-establishments": "flows/select_establishments.py:select_establishments",
    "schedule-inspections": "flows/schedule_inspections.py:schedule_inspections",
    "issue-records": "flows/issue_records.py:issue_records",
    "decide-sanctions": "flows/decide_sanctions.py:decide_sanctions",
    "publish-outcomes": "flows/publish_outcomes.py:publish_outcomes",
    "run-campaign": "flows/run_campaign.py:run_campaign",
    "deadline-sweeper": "flows/deadline_sweeper.py:deadline_sweeper",
    "periodic-report": "flows/periodic_report.py:periodic_report",
    "portal-delivery": "flows/portal_delivery.py:portal_delivery",
}
# deployments on a schedule, with no required parameter: name -> [(cron, timezone, active)]
SCHEDULED = {
    "deadline-sweeper": [("0 6 * * *", "Asia/Ho_Chi_Minh", True)],  # all campaigns, every day
    "periodic-report": [("0 7 15 6 *", "Asia/Ho_Chi_Minh", True),  # half-year report (DOMAIN.md 2.11)
                        ("0 7 15 12 *", "Asia/Ho_Chi_Minh", True)],  # annual report
    "portal-delivery": [("*/15 * * * *", "Asia/Ho_Chi_Minh", True)],  # retries with backoff need a steady beat
}


@pytest.mark.slow
def test_prefect_yaml_deploys_all_flows(prefect_server: PrefectServer, tmp_path: Path) -> None:  # noqa: F811
    from prefect.client.orchestration import get_client

    ensure_work_pool()  # `prefect deploy` refuses a pool that does not exist
    env = {
        **os.environ,
        **prefect_client_env(prefect_server),
        # a program starting deploy from elsewhere leaves PWD stale: the recorded directory must
        # still be the project root (see the pull section of prefect.yaml)
        "PWD": str(tmp_path),
    }
    prefect_exe = str(Path(sys.executable).parent / "prefect")
    result = subprocess.run(
        [prefect_exe, "--no-prompt", "deploy", "--all"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"prefect deploy failed:\n{result.stdout}\n{result.stderr}"

    with get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
        pool = client.read_work_pool(WORK_POOL_NAME)
    assert pool.type == "process"
    assert set(EXPECTED) <= set(deployments), f"missing: {set(EXPECTED) - set(deployments)}"
    for name, entrypoint in EXPECTED.items():
        deployment = deployments[name]
        assert deployment.entrypoint == entrypoint
        assert deployment.work_pool_name == WORK_POOL_NAME
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT_ROOT)}}
        ]
        if name in SCHEDULED:  # no parameter required, run on their schedules
            assert deployment.parameter_openapi_schema.get("required", []) == []
            with get_client(sync_client=True) as client:
                schedules = client.read_deployment_schedules(deployment.id)
            assert sorted((s.schedule.cron, s.schedule.timezone, s.active) for s in schedules) == sorted(SCHEDULED[name])
            continue
        assert "campaign_code" in deployment.parameter_openapi_schema.get("required", [])
        assert deployment.description and "campaign_code" in deployment.description

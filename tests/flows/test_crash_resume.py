"""A stage killed half-way (SIGKILL, no clean-up) and started again ends with exactly the records of an
uninterrupted run: same violations, same document numbers without gaps, same files, same audit trail."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sqlalchemy as sa

from services.db import get_engine, read_only_session
from services.entry.cli.app import app
from services.runtime.server import PrefectServer
from services.settings import Settings, get_settings
from tests.conftest import Worlds, make_settings
from tests.factories import campaign_with_approved_findings
from tests.snapshots import snapshot

pytestmark = pytest.mark.slow
CODE = "CRASH-01"
KIEMTRA = str(Path(sys.executable).with_name("kiemtra"))


def _env(settings: Settings, prefect: PrefectServer) -> dict[str, str]:
    database = {"KIEMTRA_DATABASE_URL": settings.database_url} if settings.database_url else {}
    return {**os.environ, "KIEMTRA_DATA_DIR": str(settings.data_dir), "KIEMTRA_PREFECT_API_URL": prefect.api_url,
            "KIEMTRA_ENVIRONMENT": "test", "PREFECT_LOGGING_LEVEL": "WARNING", **database}


def _documents(settings: Settings) -> int:
    with read_only_session(get_engine(settings)) as session:  # a reader: never holds the stage's write slot
        return int(session.connection().execute(sa.text("SELECT count(*) FROM document")).scalar_one())


def test_killed_stage_resumes_to_the_same_records(tmp_path: Path, prefect_server: PrefectServer,
                                                  new_database: Callable[[], str | None], worlds: Worlds) -> None:
    reference, crashed = (make_settings(tmp_path / name, database_url=new_database()) for name in ("reference", "crashed"))
    for settings in (reference, crashed):  # the same campaign with approved findings, built once
        worlds.copy(settings, campaign_with_approved_findings, code=CODE)
    assert snapshot(reference) == snapshot(crashed)  # same starting point

    # The uninterrupted run, in this process (the same command as the subprocesses below run).
    with pytest.MonkeyPatch.context() as patch:
        for key, value in _env(reference, prefect_server).items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        done = CliRunner().invoke(app, ["campaign", "run", CODE])
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    total = _documents(reference)
    assert total > 24  # minutes for all 24 visits plus violation records

    victim = subprocess.Popen([KIEMTRA, "campaign", "run", CODE], env=_env(crashed, prefect_server),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while _documents(crashed) < 4:
        assert victim.poll() is None, "the stage finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    issued_before_kill = _documents(crashed)
    assert 4 <= issued_before_kill < total, "the kill must land in the middle of the stage"

    resumed = subprocess.run([KIEMTRA, "campaign", "run", CODE], env=_env(crashed, prefect_server),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert snapshot(crashed) == snapshot(reference)

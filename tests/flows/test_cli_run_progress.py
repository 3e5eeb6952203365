"""``kiemtra campaign run`` as an operator reads it (issue 15): what each stage did this run (issued, found already
done, waiting), nothing cut with "…", and the next step; a second run finds everything already done."""
from __future__ import annotations

import unicodedata

import pytest
from typer.testing import CliRunner

from services.entry.cli.app import app
from services.runtime.server import PrefectServer
from services.settings import Settings, get_settings
from tests.conftest import Worlds
from tests.factories import campaign_with_approved_findings

pytestmark = pytest.mark.slow
CODE = "TIEN-01"


def test_a_run_shows_each_stage_and_the_next_step(settings: Settings, worlds: Worlds, prefect_server: PrefectServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    worlds.copy(settings, campaign_with_approved_findings, code=CODE)
    env = {"KIEMTRA_DATA_DIR": str(settings.data_dir), "KIEMTRA_PREFECT_API_URL": prefect_server.api_url,
           "KIEMTRA_ENVIRONMENT": "test", "PREFECT_LOGGING_LEVEL": "WARNING"}
    for key, value in {**env, **({"KIEMTRA_DATABASE_URL": settings.database_url} if settings.database_url else {})}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()
    first = runner.invoke(app, ["campaign", "run", CODE])
    assert first.exit_code == 0, first.output
    out = first.output
    assert "…" not in out and unicodedata.is_normalized("NFC", out)
    issued = next(line for line in out.splitlines() if "issue-records" in line)
    cells = [cell.strip() for cell in issued.split("│")]
    assert int(cells[3]) == 24 and cells[4:7] == ["0", "0", "0"] and "ban hành 24" in issued
    assert "Tiếp theo:" in out and f"/console/campaigns/{CODE}/findings" in out  # the officials decide the fines
    again = runner.invoke(app, ["campaign", "run", CODE])
    assert again.exit_code == 0, again.output
    assert "issue-records" not in again.output  # nothing left to issue: the stage is not started
    assert "Tiếp theo:" in again.output

"""The lead enters the province's statistics and gets the periodic report through the CLI (flow on a real server)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.entry.cli.app import app
from services.settings import Settings
from tests.factories import create_campaign, create_world
from tests.pdf_support import raw_text_of

pytestmark = pytest.mark.slow


def test_statistics_in_periodic_report_out(demo_env: Path, settings: Settings) -> None:
    assert settings.data_dir == demo_env  # the CLI below works on the database the factories fill
    create_world(settings, establishments=800)  # agencies, people and a registry
    create_campaign(settings, quota=4)
    runner = CliRunner()
    figures = {2024: {"workers_covered": 400_000, "fatal_accidents": 12, "disease_examined": 1_000, "establishments_monitored": 80},
               2025: {"workers_covered": 420_000, "fatal_accidents": 11, "disease_examined": 1_040, "establishments_monitored": 90}}
    for year, values in figures.items():
        for indicator, value in values.items():
            done = runner.invoke(app, ["report", "stats", "--province", "04", "--year", str(year), "--indicator", indicator,
                                       "--value", str(value), "--source", f"Báo cáo thống kê TNLĐ năm {year}"])
            assert done.exit_code == 0, done.output
    same = runner.invoke(app, ["report", "stats", "--province", "04", "--year", "2025", "--indicator", "fatal_accidents",
                               "--value", "11", "--source", "Báo cáo thống kê TNLĐ năm 2025"])
    assert same.exit_code == 0 and "không đổi" in same.output
    changed = runner.invoke(app, ["report", "stats", "--province", "04", "--year", "2025", "--indicator", "fatal_accidents",
                                  "--value", "10", "--source", "Báo cáo thống kê TNLĐ năm 2025"])
    assert changed.exit_code == 1  # another value needs a reason
    wrong = runner.invoke(app, ["report", "stats", "--province", "04", "--year", "2025", "--indicator", "deaths",
                                "--value", "1", "--source", "x"])
    assert wrong.exit_code == 1 and "indicator: 'deaths' không phải chỉ tiêu thống kê" in wrong.output

    out = runner.invoke(app, ["report", "periodic", "--kind", "annual", "--year", "2025", "--today", "2025-12-15",
                              "--province", "04"], terminal_width=300)
    assert out.exit_code == 0, out.output
    pdf = next((demo_env / "documents" / "reports").rglob("*.pdf"))
    text = " ".join(raw_text_of(pdf).split())
    assert "2,62" in text and "-12,7" in text  # 11 / 420,000 per 100,000 workers; vs 3.00 in 2024 (hand-computed)
    assert list((demo_env / "documents" / "reports").rglob("*.xlsx"))

"""What ``kiemtra campaign run`` prints per stage (issue 15): each inspection's :class:`Outcome` counted by
``per_inspection`` (issued / already / waiting), summed over Prefect batches, shown per stage with the next step;
tables printed whole (no "…") off a terminal."""
from __future__ import annotations

import unicodedata
from typing import Any, cast

import pytest
from rich.table import Table

from flows._batches import merge
from services.entry.cli import console as cli_console
from services.entry.cli.runs import next_steps, print_run
from services.settings import Settings
from services.stages.common import Outcome, per_inspection

STATE: dict[str, Any] = {
    "code": "HAN-01", "status": "fieldwork", "selected": 10, "teams": 2,
    "inspections": {"scheduled": 3, "findings_submitted": 2, "findings_returned": 0, "findings_approved": 0,
                    "records_issued": 4, "sanctioned": 1, "closed": 0},
    "documents": {"sanction_decision": 1}, "violations": 5, "proposed_vnd": 48_000_000, "final_vnd": 12_000_000,
    "publications": 0, "notifications_pending": 0, "ready_for_decision": 1, "notices_missing": 0, "failures": [],
    "waiting_for": ["quyết định mức phạt của người có thẩm quyền cho 3 hồ sơ"]}


def test_per_inspection_counts_each_outcome() -> None:
    outcomes = {1: Outcome.ISSUED, 2: Outcome.ALREADY, 3: Outcome.WAITING, 4: Outcome.WAITING, 5: Outcome.ISSUED}
    result = per_inspection("decide-sanctions", "HAN-01", list(outcomes), outcomes.__getitem__,
                            settings=cast(Settings, None))
    assert (result.done, result.already, result.waiting) == (2, 1, 2)
    assert result.as_dict()["outcomes"] == {"already": 1, "issued": 2, "waiting": 2}
    plain = per_inspection("x", "HAN-01", [1, 2], lambda i: i == 1, settings=cast(Settings, None))
    assert (plain.done, plain.already, plain.waiting, plain.outcomes) == (1, 1, 0, {})
    assert "waiting" not in plain.as_dict() and "outcomes" not in plain.as_dict()


def test_batches_add_their_outcomes_and_failures() -> None:
    parts = [{"stage": "s", "campaign_code": "C", "done": 2, "already": 0, "waiting": 1,
              "outcomes": {"issued": 2, "waiting": 1}, "failed": [7]},
             {"stage": "s", "campaign_code": "C", "done": 1, "already": 3, "outcomes": {"issued": 1, "already": 3},
              "failed": [9], "register": "x"}]
    assert merge("s", "C", parts) == {"stage": "s", "campaign_code": "C", "done": 3, "already": 3, "waiting": 1,
                                      "outcomes": {"already": 3, "issued": 3, "waiting": 1}, "failed": [7, 9],
                                      "register": "x"}


def test_a_run_prints_what_each_stage_did_and_the_next_step(capsys: pytest.CaptureFixture[str]) -> None:
    stages = [{"stage": "issue-records", "done": 3, "already": 1, "outcomes": {"issued": 3, "already": 1},
               "seconds": 1.25},
              {"stage": "decide-sanctions", "done": 1, "already": 0, "waiting": 3,
               "outcomes": {"issued": 1, "waiting": 3}, "failed": [42], "seconds": 0.5},
              {"stage": "schedule-inspections", "done": 10, "already": 0, "teams": 2, "first_visit": "2026-03-09",
               "last_visit": "2026-03-20", "documents": 14, "notifications_sent": 12, "seconds": 2.0}]
    print_run({"stages": stages, "state": STATE})
    out = capsys.readouterr().out
    assert "…" not in out and unicodedata.is_normalized("NFC", out)
    decided = next(line for line in out.splitlines() if "Ban hành quyết định xử phạt" in line)
    assert "decide-sanctions" in decided and "ban hành 1; chờ 3; lỗi ở cuộc kiểm tra 42" in decided
    assert [cell.strip() for cell in decided.split("│")[3:7]] == ["1", "0", "3", "1"]  # done, already, waiting, failed
    assert "2 đoàn, lịch từ 09/03/2026 đến 20/03/2026; 14 văn bản, 12 thông báo đã gửi" in out
    assert "Đang chờ: quyết định mức phạt" in out
    assert "Tiếp theo: trưởng đoàn duyệt kết quả: /console/campaigns/HAN-01/findings" in out
    assert "Tiếp theo: người có thẩm quyền quyết định mức phạt" in out
    assert "Tiếp theo: theo dõi thời hạn: kiemtra deadlines list --campaign HAN-01" in out


@pytest.mark.parametrize(("status", "expected"), [
    ("draft", "kiemtra campaign run HAN-01 (chọn cơ sở theo rủi ro)"),
    ("selected", "duyệt: kiemtra selection approve HAN-01 --by SNV-LEAD"),
    ("approved", "kiemtra campaign run HAN-01 (lập đoàn, lịch và văn bản)"),
    ("closed", "báo cáo kết quả: kiemtra report campaign HAN-01"),
])
def test_the_next_step_follows_the_campaigns_status(status: str, expected: str) -> None:
    assert any(expected in step for step in next_steps({**STATE, "status": status}))


def test_a_table_off_a_terminal_is_printed_whole(capsys: pytest.CaptureFixture[str]) -> None:
    table = Table(title="Thử")
    for column in ("Số", "Tên cơ sở"):
        table.add_column(column, max_width=8)  # would be cut with "…" without print_table's fold
    long_name = "Công ty Cổ phần Đầu tư xây dựng Hòa Thắng chi nhánh Cao Bằng số 2"
    table.add_row("12", long_name)
    cli_console.print_table(table)
    out = capsys.readouterr().out
    assert "…" not in out
    assert long_name.replace(" ", "") in "".join(line.split("│")[2].strip() for line in out.splitlines()
                                                 if line.count("│") == 3).replace(" ", "")

"""The pure rule: an explanation moves the decision's time limit only when received within its own window."""
from __future__ import annotations

from datetime import date

from models import Deadline, DeadlineKind, DeadlineStatus
from services.rules.deadline_rules import ExplanationKind, due_date, explanation_effect, procedure_for_period

RECORD = date(2026, 5, 7)  # Thu: hearing to Mon 11/05, written to Thu 14/05 (working days)
TODAY = date(2026, 5, 20)


def windows(status: DeadlineStatus = DeadlineStatus.OPEN) -> list[Deadline]:
    rows = []
    for kind in (DeadlineKind.EXPLAIN_HEARING, DeadlineKind.EXPLAIN_WRITTEN):
        due, basis = due_date(kind, RECORD, procedure_for_period(RECORD))
        rows.append(Deadline(kind=kind, subject_key="inspection:1", campaign_id=1, inspection_id=1, starts_on=RECORD,
                             due_on=due, basis_vi=basis, status=status))
    return rows


def test_within_each_window_it_extends_and_after_it_does_not() -> None:
    for kind, last in ((ExplanationKind.HEARING, date(2026, 5, 11)), (ExplanationKind.WRITTEN, date(2026, 5, 14))):
        on_time = explanation_effect(kind, last, RECORD, TODAY, windows())
        assert (on_time.errors, on_time.extends, on_time.window_last_day) == ((), True, last)
        late = explanation_effect(kind, date.fromordinal(last.toordinal() + 1), RECORD, TODAY, windows())
        assert (late.errors, late.extends, late.window_last_day) == ((), False, last)
        assert late.note_vi.endswith(f"đến hết ngày {last:%d/%m/%Y} — Điều 61 Luật Xử lý vi phạm hành chính (sửa đổi, "
                                     "bổ sung năm 2020)): được lưu vào hồ sơ nhưng không kéo dài thời hạn ra quyết định "
                                     "xử phạt")
    closed = explanation_effect(ExplanationKind.WRITTEN, date(2026, 5, 14), RECORD, TODAY, windows(DeadlineStatus.MET))
    assert closed.extends  # a window the sweep closed still has its last day


def test_no_right_to_explain_extends_nothing() -> None:
    effect = explanation_effect(ExplanationKind.WRITTEN, date(2026, 5, 8), RECORD, TODAY, [])
    assert not effect.extends and "khoản 1 Điều 61" in effect.note_vi and effect.errors == ()
    cancelled = explanation_effect(ExplanationKind.WRITTEN, date(2026, 5, 8), RECORD, TODAY, windows(DeadlineStatus.CANCELLED))
    assert not cancelled.extends


def test_dates_before_the_record_or_after_today_are_refused() -> None:
    assert explanation_effect(ExplanationKind.WRITTEN, date(2026, 5, 6), RECORD, TODAY, windows()).errors == (
        "on: ngày nhận giải trình 06/05/2026 trước ngày lập biên bản vi phạm hành chính 07/05/2026",)
    assert explanation_effect(ExplanationKind.HEARING, date(2026, 5, 21), RECORD, TODAY, windows()).errors == (
        "on: ngày nhận giải trình 21/05/2026 sau ngày hôm nay 20/05/2026",)
    assert explanation_effect(ExplanationKind.HEARING, RECORD, RECORD, RECORD, windows()).extends  # the record's day

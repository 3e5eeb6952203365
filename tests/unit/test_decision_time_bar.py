"""The pure rule of Luật XLVPHC Art.65 cl.1 c: no sanction decision after its time limit or the limitation."""
from __future__ import annotations

import unicodedata
from datetime import date

from models import Deadline, DeadlineKind, DeadlineStatus
from services.rules.deadline_rules import decision_time_bar, due_date, procedure_for_period
from services.rules.procedure import procedure_for

RECORD, VISIT = date(2026, 5, 7), date(2026, 4, 29)


def row(kind: DeadlineKind, starts_on: date, **changes: object) -> Deadline:
    flags = {k: v for k, v in changes.items() if k in ("explained", "complex_case", "extended_months")}
    due, basis = due_date(kind, starts_on, procedure_for_period(starts_on), **flags)  # type: ignore[arg-type]
    return Deadline(kind=kind, subject_key="inspection:1", campaign_id=1, inspection_id=1, starts_on=starts_on,
                    due_on=due, basis_vi=basis, **changes)


def limits(**changes: object) -> list[Deadline]:
    return [row(DeadlineKind.SANCTION_DECISION, RECORD, **changes), row(DeadlineKind.LIMITATION, VISIT)]


def test_the_last_day_is_allowed_and_the_next_refused_with_the_law_the_limit_and_its_date() -> None:
    assert decision_time_bar(date(2026, 5, 18), limits()) is None  # the 7th working day after Thu 07/05
    reason = decision_time_bar(date(2026, 5, 19), limits())
    assert reason is not None and reason == unicodedata.normalize("NFC", reason)
    assert reason.startswith("Đã hết thời hạn ra quyết định xử phạt: không ra quyết định xử phạt vi phạm hành chính "
                             "ngày 19/05/2026 vì thời hạn ra quyết định xử phạt đã hết ngày 18/05/2026 (Ra quyết định "
                             "xử phạt trong 07 ngày làm việc")
    assert "điểm c khoản 1 Điều 65 Luật Xử lý vi phạm hành chính" in reason
    assert "biện pháp khắc phục hậu quả (khoản 2 Điều 65 Luật Xử lý vi phạm hành chính)" in reason


def test_an_explanation_and_the_one_extension_move_the_limit() -> None:
    assert decision_time_bar(date(2026, 6, 8), limits(explained=True)) is None  # 07/06 is a Sunday
    assert "08/06/2026" in (decision_time_bar(date(2026, 6, 9), limits(explained=True)) or "")
    assert decision_time_bar(date(2026, 7, 7), limits(explained=True, extended_months=1)) is None
    assert "07/07/2026" in (decision_time_bar(date(2026, 7, 8), limits(explained=True, extended_months=1)) or "")


def test_the_limitation_bars_alone_or_with_the_period_and_a_cancelled_row_no_longer_counts() -> None:
    late_record = [row(DeadlineKind.SANCTION_DECISION, date(2027, 4, 26)), row(DeadlineKind.LIMITATION, VISIT)]
    assert decision_time_bar(date(2027, 4, 29), late_record) is None
    alone = decision_time_bar(date(2027, 4, 30), late_record) or ""
    assert "thời hiệu xử phạt vi phạm hành chính đã hết ngày 29/04/2027" in alone
    assert "thời hạn ra quyết định xử phạt đã hết" not in alone
    period = late_record[0].due_on  # 07 working days after 26/04/2027, the 2027 holidays counted
    both = decision_time_bar(date(2027, 5, 10), late_record) or ""
    assert both.index("thời hiệu") < both.index(f"thời hạn ra quyết định xử phạt đã hết ngày {period:%d/%m/%Y}")
    cancelled = row(DeadlineKind.LIMITATION, VISIT, status=DeadlineStatus.CANCELLED)
    assert decision_time_bar(date(2027, 4, 30), [cancelled]) is None


def test_other_kinds_do_not_bar_and_every_procedure_version_names_the_source() -> None:
    assert decision_time_bar(date(2026, 12, 1), [row(DeadlineKind.COMPLY, RECORD)]) is None
    for on in (date(2022, 6, 1), date(2025, 7, 1), date(2026, 9, 26)):
        assert "Art.65 cl.1 point c" in procedure_for(on).decision_time_bar_source

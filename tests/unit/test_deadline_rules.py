"""The periods of a sanction case (services/rules/deadline_rules.py), with every expected date worked out by hand.

The calendar used below (public sector; weekends and holidays are not working days):

* 2025: Mon 30/06, Tue 01/07 … Fri 04/07 are ordinary working days.
* Tết Dương lịch 2026: Thu 01/01 holiday; Fri 02/01 off, swapped with Sat 10/01/2026, which is worked.
* Tết Nguyên đán 2026: Mon 16/02 – Fri 20/02 off (with the weekends 14–15/02 and 21–22/02 around them).
* Giỗ Tổ Hùng Vương: Sun 26/04/2026, observed Mon 27/04; Thu 30/04 and Fri 01/05 are holidays; 02–03/05 weekend.

A period of n working days "kể từ" a day ends on the n-th working day after it: that day itself is not counted.
"""
from __future__ import annotations

from datetime import date

import pytest

from models import DeadlineKind
from services.rules.deadline_rules import (ExplainAct, SendMethod, due_date, explanation_right, explanation_rights,
                                           no_record_fine_allowed, no_record_refusal, no_record_refusal_vi, procedure_for_period,
                                           send_method)
from services.rules.procedure import Procedure, procedure_for

BEFORE_LAW_88 = procedure_for(date(2025, 6, 30))  # the 2012 text of Art.56 and Art.70 (as amended 2020)
FROM_LAW_88 = procedure_for(date(2025, 7, 1))  # Luật 88/2025/QH15 in force
IN_2026 = procedure_for(date(2026, 2, 11))
DECIDER = "Giám đốc Sở Nội vụ tỉnh Cao Bằng"


def decision_due(record: date) -> tuple[date, str]:
    return due_date(DeadlineKind.SANCTION_DECISION, record, procedure_for_period(record))


# --------------------------------------------------------------------------- the decision: 07 working days (Art.66)


@pytest.mark.parametrize(("record", "expected"), [
    # Wed 11/02/2026: Thu 12/02 (1), Fri 13/02 (2); 14/02–22/02 weekend + Tết; Mon 23/02 (3), Tue 24 (4),
    # Wed 25 (5), Thu 26 (6), Fri 27/02 (7)
    (date(2026, 2, 11), date(2026, 2, 27)),
    # Fri 24/04/2026: 25–26 weekend, Mon 27/04 Giỗ Tổ observed; Tue 28/04 (1), Wed 29/04 (2); 30/04, 01/05
    # holidays, 02–03/05 weekend; Mon 04/05 (3), Tue 05 (4), Wed 06 (5), Thu 07 (6), Fri 08/05 (7)
    (date(2026, 4, 24), date(2026, 5, 8)),
    # Wed 29/04/2026: 30/04–03/05 off; Mon 04/05 (1), 05 (2), 06 (3), 07 (4), Fri 08 (5), Mon 11 (6), Tue 12/05 (7)
    (date(2026, 4, 29), date(2026, 5, 12)),
    # Wed 07/01/2026: Thu 08 (1), Fri 09 (2), Sat 10/01 worked by the swap (3), Mon 12 (4), Tue 13 (5),
    # Wed 14 (6), Thu 15/01 (7)
    (date(2026, 1, 7), date(2026, 1, 15)),
])
def test_the_decision_is_due_on_the_seventh_working_day_after_the_record(record: date, expected: date) -> None:
    due, basis = decision_due(record)
    assert due == expected
    assert basis == ("Ra quyết định xử phạt trong 07 ngày làm việc kể từ ngày lập biên bản vi phạm hành chính — "
                     "Điều 66 Luật Xử lý vi phạm hành chính (sửa đổi, bổ sung năm 2020)")


def test_the_month_periods_are_unchanged_and_move_off_a_holiday() -> None:
    # record Fri 16/01/2026, the violator explains: 1 month → Mon 16/02/2026, first day of Tết → the next working
    # day after Tết, Mon 23/02/2026
    due, basis = due_date(DeadlineKind.SANCTION_DECISION, date(2026, 1, 16), IN_2026, explained=True)
    assert due == date(2026, 2, 23) and "01 tháng (cá nhân, tổ chức vi phạm giải trình)" in basis
    # extended once by 1 month: 16/03/2026, a Monday
    assert due_date(DeadlineKind.SANCTION_DECISION, date(2026, 1, 16), IN_2026, explained=True,
                    extended_months=1)[0] == date(2026, 3, 16)
    with pytest.raises(ValueError):
        due_date(DeadlineKind.SANCTION_DECISION, date(2026, 1, 16), IN_2026, complex_case=True, extended_months=2)


# --------------------------------------------------------------------------- the right to explain (Art.61)


@pytest.mark.parametrize(("record", "hearing", "written"), [
    # Thu 12/02/2026: Fri 13/02 (1); Tết and two weekends; Mon 23/02 (2) → hearing request by 23/02;
    # written: 13/02 (1), 23/02 (2), Tue 24 (3), Wed 25 (4), Thu 26/02 (5)
    (date(2026, 2, 12), date(2026, 2, 23), date(2026, 2, 26)),
    # Tue 28/04/2026: Wed 29/04 (1); 30/04–03/05 off; Mon 04/05 (2) → hearing by 04/05;
    # written: 29/04 (1), 04/05 (2), 05 (3), 06 (4), Thu 07/05 (5)
    (date(2026, 4, 28), date(2026, 5, 4), date(2026, 5, 7)),
])
def test_the_explanation_periods_count_working_days_from_the_record(record: date, hearing: date, written: date) -> None:
    procedure = procedure_for_period(record)
    assert due_date(DeadlineKind.EXPLAIN_HEARING, record, procedure)[0] == hearing
    assert due_date(DeadlineKind.EXPLAIN_WRITTEN, record, procedure)[0] == written
    rights = explanation_rights(record, [ExplainAct(40_000_000)], False, procedure, decider=DECIDER)
    assert rights is not None
    assert (rights.hearing_last_day, rights.written_last_day) == (hearing, written)
    assert rights.sentence_vi == (
        "Cá nhân vi phạm có quyền gửi văn bản yêu cầu được giải trình trực tiếp trong thời hạn 02 ngày làm việc, kể "
        f"từ ngày lập biên bản (đến hết ngày {hearing:%d/%m/%Y}), hoặc gửi văn bản giải trình trong thời hạn 05 ngày "
        f"làm việc, kể từ ngày lập biên bản (đến hết ngày {written:%d/%m/%Y}) đến Giám đốc Sở Nội vụ tỉnh Cao Bằng "
        "để thực hiện quyền giải trình theo quy định tại Điều 61 Luật Xử lý vi phạm hành chính (sửa đổi, bổ sung "
        "năm 2020).")
    assert rights.hearing_sentence_vi.endswith(f"(đến hết ngày {hearing:%d/%m/%Y}) đến {DECIDER} để thực hiện quyền "
                                               "giải trình.")
    assert "văn bản giải trình trong thời hạn 05 ngày làm việc" in rights.written_sentence_vi


@pytest.mark.parametrize(("range_max", "organisation", "expected"), [
    (14_999_999, False, False), (15_000_000, False, True),  # individual: from 15,000,000 đ
    (29_999_999, True, False), (30_000_000, True, True),  # organisation: from 30,000,000 đ (its own range)
    (15_000_000, True, False),  # an organisation's range of 15,000,000 đ gives no right
])
def test_the_right_to_explain_depends_on_the_maximum_of_the_acts_fine_range(range_max: int, organisation: bool,
                                                                          expected: bool) -> None:
    assert explanation_right(range_max, organisation, IN_2026) is expected


def test_one_act_is_enough_and_a_suspension_gives_the_right_whatever_the_fine() -> None:
    record = date(2026, 4, 28)
    assert explanation_rights(record, [1_000_000, 29_999_999], True, IN_2026, decider=DECIDER) is None
    assert explanation_rights(record, [1_000_000, 30_000_000], True, IN_2026, decider=DECIDER) is not None
    assert explanation_right(1_000_000, True, IN_2026, suspension=True)
    with_suspension = explanation_rights(record, [ExplainAct(1_000_000, suspension=True)], True, IN_2026,
                                         decider="Chủ tịch Ủy ban nhân dân tỉnh Cao Bằng",
                                         violator_vi="Ông Nguyễn Văn A, người đại diện của tổ chức vi phạm,")
    assert with_suspension is not None
    assert with_suspension.sentence_vi.startswith("Ông Nguyễn Văn A, người đại diện của tổ chức vi phạm, có quyền gửi")
    assert "đến Chủ tịch Ủy ban nhân dân tỉnh Cao Bằng để thực hiện" in with_suspension.sentence_vi
    with pytest.raises(ValueError):
        explanation_rights(record, [30_000_000], True, IN_2026, decider=" ")


# --------------------------------------------------------------------------- sending the decision (Art.70)


@pytest.mark.parametrize(("decision", "expected", "law"), [
    # Mon 30/06/2025, under the 2012 text: 02 working days → Tue 01/07 (1), Wed 02/07/2025 (2)
    (date(2025, 6, 30), date(2025, 7, 2), "Điều 70 Luật Xử lý vi phạm hành chính năm 2012"),
    # Tue 01/07/2025, Luật 88/2025 in force: 03 working days → Wed 02 (1), Thu 03 (2), Fri 04/07/2025 (3)
    (date(2025, 7, 1), date(2025, 7, 4), "Điều 70 Luật Xử lý vi phạm hành chính (sửa đổi, bổ sung năm 2025)"),
    # Wed 31/12/2025: Thu 01/01 holiday, Fri 02/01 swapped off, 03–04/01 weekend; Mon 05 (1), Tue 06 (2), Wed 07/01 (3)
    (date(2025, 12, 31), date(2026, 1, 7), "(sửa đổi, bổ sung năm 2025)"),
])
def test_the_decision_is_sent_within_the_working_days_of_the_text_in_force_on_its_date(decision: date, expected: date,
                                                                                     law: str) -> None:
    due, basis = due_date(DeadlineKind.SEND_DECISION, decision, procedure_for_period(decision))
    assert due == expected and law in basis
    assert f"trong {'02' if decision < date(2025, 7, 1) else '03'} ngày làm việc kể từ ngày ra quyết định" in basis


@pytest.mark.parametrize(("text", "expected"), [
    ("direct", SendMethod.DIRECT), ("Giao trực tiếp cho ông Nguyễn Văn A, ký nhận", SendMethod.DIRECT),
    ("Gửi bưu chính bảo đảm, phiếu gửi số RR123456789VN", SendMethod.POST),
    ("Gửi bằng phương thức điện tử qua hệ thống một cửa", SendMethod.ELECTRONIC),
    ("Niêm yết tại trụ sở công ty", SendMethod.POSTING), ("Đã gửi", None), (None, None),
])
def test_the_way_the_decision_was_sent_is_read_from_a_value_or_the_reason(text: str | None,
                                                                          expected: SendMethod | None) -> None:
    assert send_method(text) is expected


# --------------------------------------------------------------------------- fines without a record (Art.56)


@pytest.mark.parametrize(("procedure", "organisation", "highest"), [
    (BEFORE_LAW_88, False, 250_000), (BEFORE_LAW_88, True, 500_000),  # before 01/07/2025
    (FROM_LAW_88, False, 500_000), (FROM_LAW_88, True, 1_000_000),  # Art.56 as amended by Luật 88/2025
])
def test_a_fine_without_a_record_is_allowed_only_up_to_the_threshold(procedure: Procedure, organisation: bool,
                                                                     highest: int) -> None:
    assert no_record_fine_allowed(0, organisation, procedure)  # a warning
    assert no_record_fine_allowed(highest, organisation, procedure)
    assert not no_record_fine_allowed(highest + 1, organisation, procedure)


def test_the_refusal_names_the_amount_the_threshold_and_the_text_in_force() -> None:
    assert no_record_refusal_vi(600_000, False, FROM_LAW_88) == (
        "Không được xử phạt không lập biên bản: mức phạt tiền 600.000 đồng vượt mức tối đa 500.000 đồng đối với cá "
        "nhân được xử phạt không lập biên bản (điểm a khoản 1 Điều 56 Luật Xử lý vi phạm hành chính (sửa đổi, bổ "
        "sung năm 2025)). Phải lập biên bản vi phạm hành chính và ra quyết định theo thủ tục có lập biên bản.")
    # several acts on the spot: their total is judged (300,000 + 300,000 = 600,000 > 500,000 for an individual)
    assert no_record_refusal([300_000, 300_000], False, FROM_LAW_88) == no_record_refusal_vi(600_000, False, FROM_LAW_88)
    assert no_record_refusal([200_000, 300_000], False, FROM_LAW_88) is None
    before = no_record_refusal_vi(600_000, True, BEFORE_LAW_88)
    assert "tối đa 500.000 đồng đối với tổ chức" in before and "(sửa đổi, bổ sung năm 2020)" in before

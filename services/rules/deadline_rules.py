"""The periods of a sanction case, as pure rules: dates in, last days and Vietnamese bases out (no database).

Which law text applies to a period is the procedure version in force on the day the period **starts**
(:func:`procedure_for_period`): the record's date for the decision and the violator's explanations, the
decision's date for sending it and for compliance, the visit for the record and the limitation.

Periods (DOMAIN.md sections 2.6–2.7; the numbers are keys of ``data/procedure_*.json``):

* biên bản vi phạm hành chính: ``violation_record_working_days`` working days from discovery,
  ``violation_record_working_days_complex`` when complex (NĐ 118/2021 Art.12 cl.2);
* quyết định xử phạt: ``decision_working_days`` **working** days from the record (Luật XLVPHC Art.66 as amended
  2020); ``decision_months_when_explained_or_complex`` month(s) when the violator explains or the case is
  complex; one extension of at most ``decision_extension_months_max`` month(s);
* giải trình (Art.61 as amended 2020) — only where an act of the file gives the right (its fine range's maximum
  is at least ``explain_min_range_max_individual_vnd`` / ``explain_min_range_max_organisation_vnd``, or a
  licence/activity suspension applies): ``explain_hearing_working_days`` working days from the record to ask for a
  hearing, ``explain_written_working_days`` for a written explanation; an explanation moves the decision's period
  only when received within its window (:func:`explanation_effect`);
* gửi quyết định (Art.70; as amended by Luật 88/2025 from 01/07/2025): ``send_decision_working_days`` working
  days from the decision (03; 02 under the 2012 text);
* thời hiệu: ``limitation_months`` from the violation (Art.6); chấp hành: ``comply_days`` days from the decision
  (Art.73); each remedial measure ``remedial_days_default`` days;
* báo cáo Cơ sở dữ liệu quốc gia (NĐ 20/2016/NĐ-CP): ``national_report_working_days`` working days from the
  decision, per province (``by_province``, else ``default``);
* no decision after its time limit or the limitation (Art.65 cl.1 c): :func:`decision_time_bar` (source in
  ``decision_time_bar_source``);
* xử phạt không lập biên bản (Art.56; as amended by Luật 88/2025): a warning or a fine up to
  ``no_record_max_fine_individual_vnd`` / ``no_record_max_fine_organisation_vnd``.

A period in working days ends on the n-th working day after the day it runs from (that day is not counted). A
period in days or months whose last day is a weekend or holiday ends on the next working day (Bộ luật Dân sự
2015 Art.148 cl.5); the limitation is not moved (a time bar: moving it would only ever let a late decision
through). A month ends on the same day of the following month, or its last day (Art.147).
"""
from __future__ import annotations

import calendar as month_calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from models.deadline import Deadline, DeadlineKind, DeadlineStatus
from services.rules.calendar import is_working_day
from services.rules.decision_sending import SEND_METHOD_VI as SEND_METHOD_VI, SendMethod as SendMethod, send_method as send_method
from services.rules.procedure import Procedure, procedure_for

# Luật 88/2025/QH15 (amending Luật XLVPHC: Art.56, Art.70 among others) takes effect on 01/07/2025 (its Điều 2 k1).
LAW_88_2025_EFFECTIVE = date(2025, 7, 1)

LAW_VI = "Luật Xử lý vi phạm hành chính"
LAW_2020_VI = f"{LAW_VI} (sửa đổi, bổ sung năm 2020)"
LAW_2025_VI = f"{LAW_VI} (sửa đổi, bổ sung năm 2025)"


# --------------------------------------------------------------------------- counting days


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def on_or_after_working_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def nth_working_day_after(start: date, n: int) -> date:
    """The n-th working day after ``start`` (the day of the event itself is not counted)."""
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_before(due: date, n: int) -> date:
    """The working day n working days before ``due`` (when a warning is due)."""
    day, counted = due, 0
    while counted < n:
        day -= timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def warning_day(deadline: Deadline, procedure: Procedure) -> date:
    """The day the lead is warned of a deadline: the procedure's number of working days before it is due."""
    return working_days_before(deadline.due_on, procedure.deadline_warning_working_days)


def _n(value: int) -> str:
    return f"{value:02d}"


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def procedure_for_period(starts_on: date) -> Procedure:
    """The procedure version that governs a period: the one in force on the day the period starts."""
    return procedure_for(starts_on)


def _amended_2025(procedure: Procedure) -> bool:
    return procedure.effective_from >= LAW_88_2025_EFFECTIVE


# --------------------------------------------------------------------------- the periods


INFORMATIVE_KINDS = frozenset({DeadlineKind.EXPLAIN_HEARING, DeadlineKind.EXPLAIN_WRITTEN})
"""The violator's rights, not the authority's duties: never warned nor escalated; closed when they pass or when
an explanation is recorded."""


def national_report_working_days(procedure: Procedure, province_code: str = "") -> int:
    """Working days to report a decision to the national database: the province's own number where the procedure
    version names one (``national_report_working_days.by_province``), else its ``default``."""
    setting = procedure.national_report_working_days
    return int(setting.get("by_province", {}).get(province_code, setting["default"]))


def due_date(kind: DeadlineKind, starts_on: date, procedure: Procedure, *, complex_case: bool = False,
             explained: bool = False, extended_months: int = 0, remedial_vi: str = "",
             province_code: str = "") -> tuple[date, str]:
    """The last day of a period and its basis in Vietnamese, for the people who must meet it.

    ``procedure`` should be :func:`procedure_for_period` of ``starts_on``; ``province_code`` (the deciding agency's)
    chooses a per-province period (the national report).
    """
    if kind is DeadlineKind.NATIONAL_REPORT:
        n = national_report_working_days(procedure, province_code)
        return nth_working_day_after(starts_on, n), (
            f"Cập nhật quyết định xử phạt vào Cơ sở dữ liệu quốc gia về xử lý vi phạm hành chính trong {_n(n)} ngày làm "
            f"việc kể từ ngày ra quyết định — Nghị định 20/2016/NĐ-CP (thời hạn theo quy định của tỉnh)")
    return _due_date(kind, starts_on, procedure, complex_case=complex_case, explained=explained,
                     extended_months=extended_months, remedial_vi=remedial_vi)


def _due_date(kind: DeadlineKind, starts_on: date, procedure: Procedure, *, complex_case: bool,
              explained: bool, extended_months: int, remedial_vi: str) -> tuple[date, str]:
    p = procedure
    if kind is DeadlineKind.VIOLATION_RECORD:
        n = p.violation_record_working_days_complex if complex_case else p.violation_record_working_days
        return nth_working_day_after(starts_on, n), (
            f"Lập biên bản vi phạm hành chính trong {_n(n)} ngày làm việc kể từ khi phát hiện vi phạm"
            f"{' (vụ việc phức tạp)' if complex_case else ''} — khoản 2 Điều 12 Nghị định 118/2021/NĐ-CP")
    if kind is DeadlineKind.SANCTION_DECISION:
        if extended_months > p.decision_extension_months_max:
            raise ValueError(f"extension of {extended_months} months exceeds {p.decision_extension_months_max}")
        if complex_case or explained:
            months = p.decision_months_when_explained_or_complex + extended_months
            last = on_or_after_working_day(add_months(starts_on, months))
            why = "cá nhân, tổ chức vi phạm giải trình" if explained else "vụ việc phức tạp"
            period = f"{_n(p.decision_months_when_explained_or_complex)} tháng ({why})"
            if extended_months:
                period += f", gia hạn {_n(extended_months)} tháng"
        else:
            # the 7-working-day period is never extended (only the 1-month one is; see extend_decision)
            last = nth_working_day_after(starts_on, p.decision_working_days)
            period = f"{_n(p.decision_working_days)} ngày làm việc"
        return last, (f"Ra quyết định xử phạt trong {period} kể từ ngày lập biên bản vi phạm hành chính"
                      f" — Điều 66 {LAW_2020_VI}")
    if kind is DeadlineKind.EXPLAIN_HEARING:
        n = p.explain_hearing_working_days
        return nth_working_day_after(starts_on, n), (
            f"Quyền của cá nhân, tổ chức vi phạm: gửi văn bản yêu cầu được giải trình trực tiếp trong {_n(n)} ngày làm "
            f"việc kể từ ngày lập biên bản vi phạm hành chính (thời hạn để biết, không phải nghĩa vụ của cơ quan)"
            f" — Điều 61 {LAW_2020_VI}")
    if kind is DeadlineKind.EXPLAIN_WRITTEN:
        n = p.explain_written_working_days
        return nth_working_day_after(starts_on, n), (
            f"Quyền của cá nhân, tổ chức vi phạm: gửi văn bản giải trình trong {_n(n)} ngày làm việc kể từ ngày lập "
            f"biên bản vi phạm hành chính (thời hạn để biết, không phải nghĩa vụ của cơ quan) — Điều 61 {LAW_2020_VI}")
    if kind is DeadlineKind.SEND_DECISION:
        n = p.send_decision_working_days
        law = LAW_2025_VI if _amended_2025(p) else f"{LAW_VI} năm 2012"
        return nth_working_day_after(starts_on, n), (
            f"Gửi quyết định xử phạt cho cá nhân, tổ chức bị xử phạt, cơ quan thu tiền phạt và cơ quan liên quan để thi "
            f"hành trong {_n(n)} ngày làm việc kể từ ngày ra quyết định — Điều 70 {law}")
    if kind is DeadlineKind.LIMITATION:
        return add_months(starts_on, p.limitation_months), (
            f"Thời hiệu xử phạt vi phạm hành chính về lao động, an toàn, vệ sinh lao động: {_n(p.limitation_months)} "
            f"tháng kể từ ngày phát hiện vi phạm — Điều 6 {LAW_VI}")
    if kind is DeadlineKind.COMPLY:
        return on_or_after_working_day(starts_on + timedelta(days=p.comply_days)), (
            f"Chấp hành quyết định xử phạt trong {_n(p.comply_days)} ngày kể từ ngày nhận quyết định"
            f" — Điều 73 {LAW_VI}")
    if kind is DeadlineKind.REMEDIAL:
        return on_or_after_working_day(starts_on + timedelta(days=p.remedial_days_default)), (
            f"Thực hiện biện pháp khắc phục hậu quả trong {_n(p.remedial_days_default)} ngày kể từ ngày ra quyết định: "
            f"{remedial_vi}")[:500]
    raise ValueError(f"unknown deadline kind {kind!r}")


# --------------------------------------------------------------------------- the decision's time bar (Art.65)


TIME_BAR_KINDS = (DeadlineKind.SANCTION_DECISION, DeadlineKind.LIMITATION)
TIME_BAR_TITLE_VI = "Đã hết thời hạn ra quyết định xử phạt"
_TIME_BAR_LIMIT_VI = {DeadlineKind.SANCTION_DECISION: "thời hạn ra quyết định xử phạt",
                      DeadlineKind.LIMITATION: "thời hiệu xử phạt vi phạm hành chính"}


def decision_time_bar(decided_on: date, deadlines: Iterable[Deadline]) -> str | None:
    """Why no sanction decision may be issued on ``decided_on`` (Vietnamese), or None when it still may.

    Luật XLVPHC Art.65 cl.1 point c (as amended 2020): no sanction decision is issued when the limitation period of
    Art.6 has expired, or the time limit for issuing it (Art.63 cl.3, Art.66 cl.1: 7 working days from the record;
    1 month where the violator explains or the case is complex; one extension of at most 1 month) has passed;
    Art.65 cl.2: confiscation and remedial measures may still be decided. ``deadlines``: the file's
    ``sanction_decision`` and ``limitation`` rows (others are ignored; a cancelled one no longer applies), their
    ``due_on`` as extended. The decision may be issued on the last day itself (data: ``decision_time_bar_source``
    of ``data/procedure_*.json``).
    """
    passed = sorted((d for d in deadlines if DeadlineKind(d.kind) in TIME_BAR_KINDS and d.status != DeadlineStatus.CANCELLED
                     and decided_on > d.due_on), key=lambda d: (d.due_on, str(d.kind)))
    if not passed:
        return None
    limits = "; ".join(f"{_TIME_BAR_LIMIT_VI[DeadlineKind(d.kind)]} đã hết ngày {d.due_on:%d/%m/%Y} ({d.basis_vi})"
                       for d in passed)
    return (f"{TIME_BAR_TITLE_VI}: không ra quyết định xử phạt vi phạm hành chính ngày {decided_on:%d/%m/%Y} vì "
            f"{limits} — điểm c khoản 1 Điều 65 {LAW_VI}. Người có thẩm quyền vẫn có thể quyết định tịch thu tang vật, "
            f"phương tiện vi phạm hành chính (nếu có) và áp dụng biện pháp khắc phục hậu quả (khoản 2 Điều 65 {LAW_VI}).")


# --------------------------------------------------------------------------- the right to explain (Art.61)


@dataclass(frozen=True)
class ExplainAct:
    """One act of the file as Art.61 cl.1 judges it: the maximum of its fine range **for this violator** (an
    organisation's range, i.e. already doubled where the decree's amounts are for individuals — as
    ``Violation.range_max`` stores it) and whether the law provides a licence/activity suspension for it."""
    range_max_vnd: int
    suspension: bool = False


def suspends(additional_penalty_vi: str) -> bool:
    """Whether a clause's additional penalty (fine table column) is a licence withdrawal or an activity suspension:
    the right to explain then exists whatever the fine (Art.61 cl.1). Read generously — a clause whose suspension
    reaches only some of its acts still counts: granting a right that was not due costs days, refusing one that was
    due voids the procedure."""
    text = additional_penalty_vi.lower()
    return "đình chỉ" in text or "tước quyền" in text


def explanation_right(range_max_vnd: int, organisation: bool, procedure: Procedure, *, suspension: bool = False) -> bool:
    """Whether one act gives the violator the right to explain (Luật XLVPHC Art.61 cl.1 as amended 2020): the
    maximum of its fine range is at least 15,000,000 đ for an individual / 30,000,000 đ for an organisation (the
    range for that violator), or the law provides a licence withdrawal or an activity suspension for it."""
    threshold = (procedure.explain_min_range_max_organisation_vnd if organisation
                 else procedure.explain_min_range_max_individual_vnd)
    return suspension or range_max_vnd >= threshold


@dataclass(frozen=True)
class ExplanationRights:
    """What the violation record prints about the right to explain (form MBB01 item 10, notes 12–15)."""
    record_date: date
    hearing_last_day: date  # last day to send the request for a hearing (giải trình trực tiếp)
    written_last_day: date  # last day to send a written explanation
    hearing_working_days: int
    written_working_days: int
    decider: str
    hearing_sentence_vi: str
    written_sentence_vi: str
    sentence_vi: str  # both in one sentence, as the record prints it
    basis_vi: str


def explanation_rights(record_date: date, acts: Iterable[ExplainAct | int], organisation: bool, procedure: Procedure,
                       *, decider: str, violator_vi: str | None = None) -> ExplanationRights | None:
    """The violator's two explanation periods from the record, or None when no act of the file gives the right
    (judged per act; one act is enough). ``acts``: :class:`ExplainAct` or the range maxima as ints.
    ``decider``: the official competent to decide, title and body (e.g. "Giám đốc Sở Nội vụ tỉnh Cao Bằng"),
    to whom the explanation is sent. ``violator_vi``: who holds the right as the record names them (e.g.
    "Ông Nguyễn Văn A, người đại diện của tổ chức vi phạm,"); by default "Cá nhân vi phạm" / "Tổ chức vi phạm".
    ``procedure``: the version in force on ``record_date``."""
    if not decider.strip():
        raise ValueError("decider: phải ghi chức danh, cơ quan của người có thẩm quyền xử phạt")
    listed = [a if isinstance(a, ExplainAct) else ExplainAct(int(a)) for a in acts]
    if not any(explanation_right(a.range_max_vnd, organisation, procedure, suspension=a.suspension) for a in listed):
        return None
    hearing_n, written_n = procedure.explain_hearing_working_days, procedure.explain_written_working_days
    hearing = nth_working_day_after(record_date, hearing_n)
    written = nth_working_day_after(record_date, written_n)
    who = (violator_vi or ("Tổ chức vi phạm" if organisation else "Cá nhân vi phạm")).strip()
    to = decider.strip()
    basis = f"Điều 61 {LAW_2020_VI}"
    hearing_part = (f"gửi văn bản yêu cầu được giải trình trực tiếp trong thời hạn {_n(hearing_n)} ngày làm việc, kể từ "
                    f"ngày lập biên bản (đến hết ngày {hearing:%d/%m/%Y})")
    written_part = (f"gửi văn bản giải trình trong thời hạn {_n(written_n)} ngày làm việc, kể từ ngày lập biên bản "
                    f"(đến hết ngày {written:%d/%m/%Y})")
    return ExplanationRights(
        record_date=record_date, hearing_last_day=hearing, written_last_day=written, hearing_working_days=hearing_n,
        written_working_days=written_n, decider=to,
        hearing_sentence_vi=f"{who} có quyền {hearing_part} đến {to} để thực hiện quyền giải trình.",
        written_sentence_vi=f"{who} có quyền {written_part} đến {to} để thực hiện quyền giải trình.",
        sentence_vi=f"{who} có quyền {hearing_part}, hoặc {written_part} đến {to} để thực hiện quyền giải trình "
                    f"theo quy định tại {basis}.",
        basis_vi=basis)


# --------------------------------------------------------------------------- fines without a record (Art.56)


def no_record_max_fine(organisation: bool, procedure: Procedure) -> int:
    return int(procedure.no_record_max_fine_organisation_vnd if organisation
               else procedure.no_record_max_fine_individual_vnd)


def no_record_fine_allowed(amount_vnd: int, organisation: bool, procedure: Procedure) -> bool:
    """Whether a fine of ``amount_vnd`` (0: a warning) may be imposed without a violation record (Luật XLVPHC
    Art.56 cl.1 a: up to 500,000 đ for an individual / 1,000,000 đ for an organisation from 01/07/2025, as amended
    by Luật 88/2025; 250,000 / 500,000 before). ``procedure``: the version in force on the day of the decision.
    The total of the decision is what is judged (pass the total when it covers several acts)."""
    if amount_vnd < 0:
        raise ValueError("amount_vnd: không được âm")
    return amount_vnd <= no_record_max_fine(organisation, procedure)


def no_record_refusal_vi(amount_vnd: int, organisation: bool, procedure: Procedure) -> str:
    """The Vietnamese refusal when :func:`no_record_fine_allowed` is False."""
    law = LAW_2025_VI if _amended_2025(procedure) else LAW_2020_VI
    who = "tổ chức" if organisation else "cá nhân"
    return (f"Không được xử phạt không lập biên bản: mức phạt tiền {_vnd(amount_vnd)} vượt mức tối đa "
            f"{_vnd(no_record_max_fine(organisation, procedure))} đối với {who} được xử phạt không lập biên bản "
            f"(điểm a khoản 1 Điều 56 {law}). Phải lập biên bản vi phạm hành chính và ra quyết định theo thủ tục "
            f"có lập biên bản.")


def no_record_refusal(amounts_vnd: int | Iterable[int], organisation: bool, procedure: Procedure) -> str | None:
    """The Vietnamese refusal for a decision without a record, or None when it is allowed. ``amounts_vnd``: the
    amount, or the amounts of the decision's acts — judged on their **total** (the prudent reading: the law's
    ceiling is on "phạt tiền đến …" for the one decision made on the spot)."""
    total = amounts_vnd if isinstance(amounts_vnd, int) else sum(amounts_vnd)
    if no_record_fine_allowed(total, organisation, procedure):
        return None
    return no_record_refusal_vi(total, organisation, procedure)


# --------------------------------------------------------------------------- an explanation received (Art.61, Art.66)

class ExplanationKind(StrEnum):  # what the violator sent (form MBB01 item 10, note 14)
    HEARING = "hearing"  # văn bản yêu cầu được giải trình trực tiếp: 02 working days
    WRITTEN = "written"  # văn bản giải trình: 05 working days


EXPLANATION_KIND_VI = {ExplanationKind.HEARING: "văn bản yêu cầu được giải trình trực tiếp", "written": "văn bản giải trình"}
EXPLANATION_WINDOW = {ExplanationKind.HEARING: DeadlineKind.EXPLAIN_HEARING, ExplanationKind.WRITTEN: DeadlineKind.EXPLAIN_WRITTEN}
NOT_EXTENDED_VI = "được lưu vào hồ sơ nhưng không kéo dài thời hạn ra quyết định xử phạt"


@dataclass(frozen=True)
class ExplanationEffect:
    """``errors`` ("on: why"): refused, nothing stored; else kept in the file, ``extends`` the decision's period or not."""
    errors: tuple[str, ...]
    extends: bool
    window_last_day: date | None
    note_vi: str


def explanation_effect(kind: ExplanationKind, received_on: date, record_date: date, today: date,
                       windows: Iterable[Deadline]) -> ExplanationEffect:
    """Whether an explanation received on ``received_on`` moves the decision's time limit to 1 month.

    Sources: form MBB01 item 10, notes 12 and 14 (NĐ 118/2021/NĐ-CP, ../shared/legal): "Trong thời hạn <02 ngày làm
    việc/05 ngày làm việc> kể từ ngày lập biên bản này … có quyền gửi <văn bản yêu cầu được giải trình trực tiếp/văn
    bản giải trình>", no right where the case is not one of Luật XLVPHC Art.61 cl.1 (note 12; Art.61's own text is
    not in the shared texts); DOMAIN.md 2.7 (Art.66 cl.1 as amended 2020): 7 working days from the record, 1 month
    where the violator explains. Only what is received by the last day of its own window (``windows``: the file's
    ``explain_hearing``/``explain_written`` rows, ``due_on`` on the working-day calendar; none: no right) extends
    the period; a late one is kept in the file but extends nothing (a late letter must not reopen a file the time
    bar closed, Art.65 cl.1 c). A receipt date before the record or after ``today`` is refused."""
    errors = [f"on: ngày nhận giải trình {received_on:%d/%m/%Y} {why}" for why, wrong in (
        (f"trước ngày lập biên bản vi phạm hành chính {record_date:%d/%m/%Y}", received_on < record_date),
        (f"sau ngày hôm nay {today:%d/%m/%Y}", received_on > today)) if wrong]
    if errors:
        return ExplanationEffect(tuple(errors), False, None, "")  # refused
    window = next((w for w in windows if w.kind == EXPLANATION_WINDOW[kind] and w.status != DeadlineStatus.CANCELLED), None)
    if window is None:
        return ExplanationEffect((), False, None, f"Giải trình nhận ngày {received_on:%d/%m/%Y}: vụ việc không thuộc trường "
                                                  f"hợp được giải trình (khoản 1 Điều 61 {LAW_2020_VI}): {NOT_EXTENDED_VI}")
    p = procedure_for_period(window.starts_on)
    n = p.explain_hearing_working_days if kind is ExplanationKind.HEARING else p.explain_written_working_days
    period = (f"gửi {EXPLANATION_KIND_VI[kind]} trong {_n(n)} ngày làm việc kể từ ngày lập biên bản, đến hết ngày "
              f"{window.due_on:%d/%m/%Y} — Điều 61 {LAW_2020_VI}")
    if received_on > window.due_on:
        return ExplanationEffect((), False, window.due_on, f"Giải trình nhận ngày {received_on:%d/%m/%Y} sau thời hạn "
                                                         f"giải trình ({period}): {NOT_EXTENDED_VI}")
    return ExplanationEffect((), True, window.due_on, (
        f"Giải trình nhận ngày {received_on:%d/%m/%Y} trong thời hạn giải trình ({period}): thời hạn ra quyết định "
        f"xử phạt là 01 tháng kể từ ngày lập biên bản (Điều 66 {LAW_2020_VI})"))

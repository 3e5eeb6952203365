"""The create-campaign form (``/console/campaigns/new``) read and checked without HTTP: dates typed dd/mm/yyyy,
numbers, member agencies ticked (``member.<code>``), the plan (legal basis) with its number and date. The errors are
"field: why" lines in Vietnamese, shown under the form."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from services.entry.http.web_form import ParsedForm

CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{1,63}")
PLAN_NUMBER = re.compile(r"[0-9A-Za-zĐđ./-]{1,64}")
DEFAULT_MEMBERS = {"SYT", "LDLD"}  # as `kiemtra campaign start --members` (its default)
FIELDS = ("code", "title", "start", "end", "quota", "teams", "plan_number", "plan_date")


@dataclass
class NewCampaign:
    code: str = ""
    title: str = ""
    period_start: date | None = None
    period_end: date | None = None
    quota: int = 0
    teams: int = 0
    members: list[str] = field(default_factory=list)
    plan_number: str = ""
    plan_on: date | None = None


def parse_vn_date(text: str) -> date | None:
    """dd/mm/yyyy (also d/m/yyyy, with - or .), or ISO yyyy-mm-dd; None when it is not a date."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _number(form: ParsedForm, name: str, label: str, errors: list[str], *, high: int) -> int:
    text = form.get(name).strip()
    if not text.isdigit() or not 1 <= int(text) <= high:
        errors.append(f"{name}: {label} phải là số nguyên từ 1 đến {high} (nhận '{text[:20]}')")
        return 0
    return int(text)


def _date(form: ParsedForm, name: str, label: str, errors: list[str]) -> date | None:
    text = form.get(name).strip()
    found = parse_vn_date(text)
    if found is None:
        errors.append(f"{name}: {label} phải là ngày dạng dd/mm/yyyy, ví dụ 02/03/2026 (nhận '{text[:20]}')")
    return found


def read_new_campaign(form: ParsedForm, member_codes: list[str]) -> tuple[NewCampaign, list[str]]:
    """What the form says, and what is wrong with it (empty: the campaign can be created)."""
    errors: list[str] = []
    out = NewCampaign(code=form.get("code").strip().upper(), title=" ".join(form.get("title").split()),
                      plan_number=form.get("plan_number").strip())
    if not CODE.fullmatch(out.code):
        errors.append("code: mã đợt gồm 2–64 chữ in hoa không dấu, chữ số, dấu gạch ngang, ví dụ KT-ATVSLD-2026")
    if not 5 <= len(out.title) <= 500:
        errors.append("title: tên đợt kiểm tra cần từ 5 đến 500 ký tự")
    out.period_start = _date(form, "start", "Ngày bắt đầu", errors)
    out.period_end = _date(form, "end", "Ngày kết thúc", errors)
    if out.period_start and out.period_end and out.period_start > out.period_end:
        errors.append("end: ngày kết thúc phải sau ngày bắt đầu")
    out.quota = _number(form, "quota", "Số cơ sở kiểm tra", errors, high=100_000)
    out.teams = _number(form, "teams", "Số đoàn kiểm tra", errors, high=200)
    out.members = [code for code in member_codes if form.get(f"member.{code}")]
    if not PLAN_NUMBER.fullmatch(out.plan_number):
        errors.append("plan_number: số kế hoạch là căn cứ của đợt kiểm tra, ví dụ 664/KH-UBND")
    out.plan_on = _date(form, "plan_date", "Ngày ký kế hoạch", errors)
    if out.plan_on and out.period_start and out.plan_on > out.period_start:
        errors.append("plan_date: kế hoạch phải được ký trước ngày bắt đầu đợt kiểm tra")
    return out, errors


def values_of(form: ParsedForm | None, member_codes: list[str]) -> dict[str, object]:
    """The values to show again in the form (as typed), or the defaults of a new form."""
    if form is None:
        return {"code": "", "title": "", "start": "", "end": "", "quota": "40", "teams": "4", "plan_number": "",
                "plan_date": "", "members": set(member_codes) & DEFAULT_MEMBERS}
    values: dict[str, object] = {name: form.get(name) for name in FIELDS}
    values["members"] = {code for code in member_codes if form.get(f"member.{code}")}
    return values

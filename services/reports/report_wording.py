"""The campaign report's wording (:mod:`services.reports.campaign_report`): provisions, acts and measures cited for
people, the subject line, the visits' dates, a share in Vietnamese, and the standard sentences of sections II.3
(causes, responsibilities) and IV (recommendations), each naming what the figures show. Pure: text in, text out."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from services.rules.fines import load_fine_table, provision_vi

TOP_ACTS = 3
_CODE = re.compile(r"^12/2022/ND-CP Art\.(\d+) cl\.(\d+)(?:\(([a-zđ])\))?$")
_REF = re.compile(r"Art\.(\d+) cl\.(\d+)(?:\(([a-zđ])\))?")
_ACT = re.compile(r"(?:có hành vi|có một trong các hành vi(?: sau đây)?:?)\s+(.+?)(?:\s+theo một trong các mức.*)?\.?$", re.S)
STATE_VI = {"met": "Đã chấp hành", "open": "Chưa chấp hành (trong hạn)", "overdue": "Quá hạn chưa chấp hành"}


def provision_short(code: str) -> str:
    """'12/2022/ND-CP Art.22 cl.2' -> 'khoản 2 Điều 22'; '… Art.21 cl.2(b)' -> 'điểm b khoản 2 Điều 21'.

    A provision of another decree is cited with the decree ('khoản 3 Điều 33 Nghị định số 283/2026/NĐ-CP')."""
    match = _CODE.match(code)
    if not match:
        table = load_fine_table()
        return provision_vi(table.get(code)) if code in table else code
    article, clause, point = match.groups()
    return f"{f'điểm {point} ' if point else ''}khoản {clause} Điều {article}"


def _ref_vi(match: re.Match[str]) -> str:
    article, clause, point = match.groups()
    return f"{f'điểm {point} ' if point else ''}khoản {clause} Điều {article}"


def measure_vi(text: str) -> str:
    """'Art.22 cl.11: buộc trả khoản …' -> 'Buộc trả khoản … (khoản 11 Điều 22)'."""
    text = " ".join(text.split())
    head, sep, rest = text.partition(": ")
    if sep and _REF.search(head):
        where = _REF.sub(_ref_vi, head)
        if rest.endswith(")"):  # 'buộc trả … (chỉ với …)' -> 'Buộc trả … (chỉ với …; khoản 11 Điều 22)'
            return f"{rest[:1].upper()}{rest[1:-1]}; {where})"
        return f"{rest[:1].upper()}{rest[1:]} ({where})"
    return _REF.sub(_ref_vi, text[:1].upper() + text[1:])


def act_vi(description: str, limit: int = 400) -> str:
    """The act of a fine rule's description, for people: 'Không tổ chức khám sức khỏe định kỳ …'."""
    text = " ".join(description.split())
    match = _ACT.search(text)
    act = match.group(1) if match else text
    act = act.rstrip(" .;:")
    if len(act) > limit:
        act = act[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"
    return act[:1].upper() + act[1:]


def subject_vi(title: str) -> str:
    """The subject line under "BÁO CÁO": 'Kết quả kiểm tra liên ngành …' from the campaign's title."""
    first = title.split(" ", 1)[0]
    if first in {"Kiểm", "Đợt", "Thanh"}:
        return f"Kết quả {title[:1].lower()}{title[1:]}"
    return f"Kết quả kiểm tra: {title}"

def percent_vi(part: int, whole: int) -> str:
    """A share in per cent, one decimal at most, with a decimal comma: '66,7%'."""
    if not whole:
        return "0%"
    value = round(part * 1000 / whole) / 10
    return (f"{value:.1f}".rstrip("0").rstrip(".") + "%").replace(".", ",")



def _some(*parts: tuple[int, str]) -> str:
    """'1 quyết định chưa chấp hành, 2 biện pháp …' leaving out the parts worth 0 ('' if none is left)."""
    return ", ".join(f"{n} {words}" for n, words in parts if n)


def causes_vi(violations: dict[str, Any]) -> list[str]:
    """The causes: standard wording, naming the provisions most violated and the fields (from the figures)."""
    if not violations["count"]:
        return ["Các cơ sở được kiểm tra đã thực hiện các quy định được kiểm tra; đoàn kiểm tra không phát hiện "
                "hành vi vi phạm."]
    top = violations["by_provision"][:TOP_ACTS]
    named = "; ".join(f"{r['label']} ({r['count']} hành vi)" for r in top)
    fields = "; ".join(f"{a['area_vi']} ({a['count']} hành vi tại {a['establishments']} cơ sở)"
                       for a in violations["by_agency"])
    out = [f"Người sử dụng lao động tại {violations['establishments']} cơ sở chưa quan tâm đúng mức, chưa bố trí đủ "
           f"nguồn lực cho công tác an toàn, vệ sinh lao động; vi phạm tập trung ở các quy định: {named}.",
           f"Công tác tự kiểm tra tại cơ sở chưa thường xuyên, nên các thiếu sót chưa được phát hiện, khắc phục kịp "
           f"thời, về: {fields}."]
    if violations["repeat"]["count"]:
        out.append(f"Có {violations['repeat']['count']} hành vi tái phạm tại {violations['repeat']['establishments']} "
                   "cơ sở: việc khắc phục sau lần xử phạt trước chưa triệt để.")
    return out


def responsibilities_vi(violations: dict[str, Any], remedies: dict[str, Any], fines: dict[str, Any]) -> list[str]:
    if not violations["count"]:
        return ["Người sử dụng lao động tiếp tục duy trì việc thực hiện các quy định về an toàn, vệ sinh lao động."]
    pending = _some((remedies["comply"]["open"], "quyết định chưa chấp hành"),
                    (remedies["remedial"]["open"], "biện pháp khắc phục chưa thực hiện"))
    out = [f"Người sử dụng lao động của {violations['establishments']} cơ sở có vi phạm (mục II.2.đ) chịu trách nhiệm "
           "về các hành vi vi phạm đã nêu; chấp hành quyết định xử phạt và thực hiện các biện pháp khắc phục hậu quả "
           f"đúng thời hạn{f' (còn {pending})' if pending else ''}."]
    if fines["undecided"]:
        out.append(f"Người có thẩm quyền xử phạt ban hành quyết định đối với {fines['undecided']} hành vi chưa có quyết "
                   "định trong thời hạn luật định.")
    out.append("Đoàn kiểm tra chịu trách nhiệm về kết quả kiểm tra; theo dõi, đôn đốc và kiểm tra việc chấp hành "
               "quyết định xử phạt, thực hiện biện pháp khắc phục hậu quả.")
    return out


def recommendations_vi(violations: dict[str, Any], remedies: dict[str, Any], fines: dict[str, Any],
                       extra: Sequence[str] = ()) -> list[str]:
    out: list[str] = []
    comply, remedial = remedies["comply"], remedies["remedial"]
    pending = _some((comply["open"], "quyết định xử phạt"), (remedial["open"], "biện pháp khắc phục hậu quả"))
    overdue = _some((comply["overdue"], "quyết định"), (remedial["overdue"], "biện pháp"))
    if pending:
        out.append(f"Đề nghị các cơ sở chưa chấp hành xong thực hiện ngay {pending.replace(', ', ' và ')} còn lại"
                   + (f"; đối với {overdue.replace(', ', ' và ')} đã quá hạn, đề nghị người có thẩm quyền áp dụng biện "
                      "pháp cưỡng chế theo quy định của Luật Xử lý vi phạm hành chính." if overdue else "."))
    if fines["undecided"]:
        out.append(f"Đề nghị người có thẩm quyền ban hành quyết định xử phạt đối với {fines['undecided']} hành vi còn "
                   "lại trong thời hạn luật định.")
    if violations["count"]:
        top = ", ".join(r["label"] for r in violations["by_provision"][:TOP_ACTS])
        out.append(f"Đề nghị các cơ quan chức năng tăng cường hướng dẫn, tuyên truyền và kiểm tra việc thực hiện các "
                   f"quy định bị vi phạm nhiều nhất trong đợt kiểm tra ({top} Nghị định số 12/2022/NĐ-CP) tại các cơ sở "
                   "cùng ngành, lĩnh vực.")
    else:
        out.append("Đề nghị tiếp tục kiểm tra theo mức độ rủi ro tại các cơ sở chưa được kiểm tra.")
    return [*out, *extra]


def visits_vi(days: Sequence[date]) -> str:
    """'ngày 22/04/2026' or 'từ ngày 09/03/2026 đến ngày 27/05/2026' ('' without a visit)."""
    if not days:
        return ""
    first, last = min(days), max(days)
    return f"ngày {first:%d/%m/%Y}" if first == last else f"từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}"


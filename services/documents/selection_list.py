"""The "danh sách cơ sở dự kiến kiểm tra" (DOMAIN.md 2.2 and 5): the shared wording of a selection.

The PDF (template ``danh_sach_co_so``), the spreadsheet (:mod:`services.documents.xlsx`), the API and the CLI
all show an establishment's reasons with :func:`reasons_vi`, so every place gives the same text.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.documents.format import group_digits, nfc
from services.registry.sectors import SECTOR_VI

# SelectionKind value (models.campaign) -> the words on the list. Keys are the enum's string values, so
# ``KIND_VI[SelectionKind.RISK]`` works (a StrEnum hashes as its value).
KIND_VI: dict[str, str] = {
    "risk": "Theo rủi ro",
    "control": "Mẫu đối chứng ngẫu nhiên",
    "trigger": "Đột xuất (có căn cứ)",
    "lead_added": "Bổ sung theo đề nghị của trưởng đoàn",
}


# VSIC 2018 divisions (Quyết định 27/2018/QĐ-TTg, cấp 2), shortened where the official name runs long: the
# names a list prints for a sector that services.registry.sectors does not name (it prints "Ngành VSIC 01").
VSIC_DIVISIONS_VI: dict[str, str] = {
    "01": "Nông nghiệp và dịch vụ có liên quan", "02": "Lâm nghiệp và dịch vụ có liên quan",
    "03": "Khai thác, nuôi trồng thủy sản", "05": "Khai thác than", "06": "Khai thác dầu thô và khí đốt tự nhiên",
    "07": "Khai thác quặng kim loại", "08": "Khai khoáng khác", "09": "Dịch vụ hỗ trợ khai khoáng",
    "10": "Sản xuất, chế biến thực phẩm", "11": "Sản xuất đồ uống", "12": "Sản xuất sản phẩm thuốc lá", "13": "Dệt",
    "14": "Sản xuất trang phục", "15": "Sản xuất da và sản phẩm có liên quan",
    "16": "Chế biến gỗ, sản xuất sản phẩm từ gỗ, tre, nứa", "17": "Sản xuất giấy và sản phẩm từ giấy",
    "18": "In, sao chép bản ghi các loại", "19": "Sản xuất than cốc, sản phẩm dầu mỏ tinh chế",
    "20": "Sản xuất hóa chất và sản phẩm hóa chất", "21": "Sản xuất thuốc, hóa dược và dược liệu",
    "22": "Sản xuất sản phẩm từ cao su và plastic", "23": "Sản xuất sản phẩm từ khoáng phi kim loại khác",
    "24": "Sản xuất kim loại", "25": "Sản xuất sản phẩm từ kim loại đúc sẵn",
    "26": "Sản xuất sản phẩm điện tử, máy vi tính và quang học", "27": "Sản xuất thiết bị điện",
    "28": "Sản xuất máy móc, thiết bị khác", "29": "Sản xuất xe có động cơ", "30": "Sản xuất phương tiện vận tải khác",
    "31": "Sản xuất giường, tủ, bàn, ghế", "32": "Công nghiệp chế biến, chế tạo khác",
    "33": "Sửa chữa, bảo dưỡng và lắp đặt máy móc, thiết bị",
    "35": "Sản xuất và phân phối điện, khí đốt, nước nóng, hơi nước", "36": "Khai thác, xử lý và cung cấp nước",
    "37": "Thoát nước và xử lý nước thải", "38": "Thu gom, xử lý, tiêu hủy rác thải; tái chế phế liệu",
    "39": "Xử lý ô nhiễm và quản lý chất thải khác", "41": "Xây dựng nhà các loại",
    "42": "Xây dựng công trình kỹ thuật dân dụng", "43": "Hoạt động xây dựng chuyên dụng",
    "45": "Bán, sửa chữa ô tô, mô tô, xe máy", "46": "Bán buôn", "47": "Bán lẻ",
    "49": "Vận tải đường sắt, đường bộ và đường ống", "50": "Vận tải đường thủy", "51": "Vận tải hàng không",
    "52": "Kho bãi và hỗ trợ vận tải", "53": "Bưu chính và chuyển phát", "55": "Dịch vụ lưu trú", "56": "Dịch vụ ăn uống",
    "58": "Hoạt động xuất bản", "59": "Điện ảnh, truyền hình, ghi âm và xuất bản âm nhạc",
    "60": "Phát thanh, truyền hình", "61": "Viễn thông", "62": "Lập trình máy vi tính và dịch vụ liên quan",
    "63": "Hoạt động dịch vụ thông tin", "64": "Dịch vụ tài chính", "65": "Bảo hiểm, tái bảo hiểm",
    "66": "Hoạt động tài chính khác", "68": "Kinh doanh bất động sản", "69": "Pháp luật, kế toán và kiểm toán",
    "70": "Trụ sở văn phòng; tư vấn quản lý", "71": "Kiến trúc; kiểm tra và phân tích kỹ thuật",
    "72": "Nghiên cứu khoa học và phát triển", "73": "Quảng cáo và nghiên cứu thị trường",
    "74": "Hoạt động chuyên môn, khoa học và công nghệ khác", "75": "Hoạt động thú y",
    "77": "Cho thuê máy móc, thiết bị, đồ dùng", "78": "Dịch vụ lao động và việc làm",
    "79": "Đại lý du lịch, kinh doanh tua du lịch", "80": "Điều tra bảo đảm an toàn",
    "81": "Vệ sinh nhà cửa, công trình và cảnh quan", "82": "Hành chính, hỗ trợ văn phòng và hỗ trợ kinh doanh",
    "84": "Quản lý nhà nước, an ninh quốc phòng", "85": "Giáo dục và đào tạo", "86": "Hoạt động y tế",
    "87": "Chăm sóc, điều dưỡng tập trung", "88": "Trợ giúp xã hội không tập trung",
    "90": "Sáng tác, nghệ thuật và giải trí", "91": "Thư viện, lưu trữ, bảo tàng và văn hóa khác",
    "92": "Xổ số, cá cược và đánh bạc", "93": "Thể thao, vui chơi và giải trí", "94": "Hiệp hội, tổ chức khác",
    "95": "Sửa chữa máy vi tính, đồ dùng cá nhân và gia đình", "96": "Dịch vụ phục vụ cá nhân khác",
    "97": "Làm thuê công việc gia đình", "98": "Sản xuất, dịch vụ tự tiêu dùng của hộ gia đình",
    "99": "Tổ chức và cơ quan quốc tế",
}


def sector_vi(code: str | None) -> str:
    """The sector's name for people: the engine's name (services.registry.sectors), else the VSIC 2018 division's."""
    code = (code or "").strip()
    name = SECTOR_VI.get(code) or VSIC_DIVISIONS_VI.get(code[:2])
    return nfc(name) if name else (f"Ngành mã {code}" if code else "Chưa xác định ngành")


def attachment_vi(issuer_name: str, campaign_title: str, *, number: str = "", decision_vi: str = "",
                  plan_vi: str = "") -> str:
    """The line under the list's title, never with a blank to fill in by hand.

    ``number``: the campaign plan's number (the list is its annex); ``decision_vi``: the issued decision to
    inspect ("Quyết định số 3/QĐ-UBND ngày 20/02/2026 của Ủy ban nhân dân tỉnh Cao Bằng"); ``plan_vi``: a plan
    among the campaign's legal basis ("Kế hoạch số 664/KH-UBND năm 2025 của UBND tỉnh Cao Bằng"). The first
    one given is cited; with none, the line says who drew the list up and for which campaign.
    """
    if number:
        return nfc(f"Kèm theo Kế hoạch số {number} của {issuer_name} về {_lower_first(campaign_title)}")
    if decision_vi:
        return nfc(f"Kèm theo {decision_vi} về {_lower_first(campaign_title)}")
    if plan_vi:
        return nfc(f"Danh sách do {issuer_name} lập để thực hiện {plan_vi}: {campaign_title}")
    return nfc(f"Danh sách do {issuer_name} lập cho đợt {_lower_first(campaign_title)}")


def plan_in_basis(legal_basis: Sequence[str]) -> str:
    """The first plan (kế hoạch) among a campaign's legal basis, or ''."""
    return next((nfc(line.strip().rstrip(";.")) for line in legal_basis if line.strip().lower().startswith("kế hoạch")), "")


def _lower_first(title: str) -> str:
    """'Kiểm tra liên ngành …' -> 'kiểm tra liên ngành …' (a title starting with a proper name is kept)."""
    first = title.split(" ", 1)[0]
    return title[:1].lower() + title[1:] if first in {"Kiểm", "Đợt", "Thanh"} else title


def decimal_vi(value: Any, places: int = 2) -> str:
    """A number the Vietnamese way, without trailing zeros: 30 -> '30', 2.5 -> '2,5', 1234.5 -> '1.234,5'."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if exact < 0 else ""
    whole, _, fraction = f"{abs(exact):f}".partition(".")
    fraction = fraction.rstrip("0")
    return sign + group_digits(int(whole)) + ("," + fraction if fraction else "")


def reasons_vi(factors: Mapping[str, float], labels: Mapping[str, str]) -> str:
    """'Tai nạn lao động chết người (3 năm): 30; Chưa quan trắc môi trường lao động trong 12 tháng: 10; …'.

    Most points first; equal points keep the order of ``labels`` (the policy file's order), so the text
    does not depend on how ``factors`` was built. Factors worth 0 are left out. A factor without a label
    raises ``KeyError``: the labels must come from the policy version that scored the establishment.
    """
    order = {key: i for i, key in enumerate(labels)}
    missing = [key for key in factors if key not in order]
    if missing:
        raise KeyError(f"no Vietnamese label for risk factor(s) {sorted(missing)}")
    kept = [(key, points) for key, points in factors.items() if points]
    kept.sort(key=lambda item: (-item[1], order[item[0]]))
    return "; ".join(f"{nfc(labels[key])}: {decimal_vi(points)}" for key, points in kept)


def policy_labels(policy: Any) -> dict[str, str]:
    """Factor key -> Vietnamese label of a :class:`services.rules.risk.RiskPolicy`, in the policy's order."""
    return {key: policy.label_vi(key) for key in policy.factors}


__all__ = ["KIND_VI", "VSIC_DIVISIONS_VI", "attachment_vi", "decimal_vi", "plan_in_basis", "policy_labels", "reasons_vi",
           "sector_vi"]

"""The internal proposal to the deciding official (tờ trình đề nghị xử phạt) holds the working the decision must not
print: the range and how it is computed, the circumstances, the proposal and the competence analysis."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from services.documents import render_pdf
from tests.pdf_support import text_of
from tests.unit.test_render import create_context as base_context


def create_proposal_context(**overrides: Any) -> dict[str, Any]:
    context = base_context(number="04/TTr")
    context["violations"] = [{**v, "working": [
        "Hành vi vi phạm quy định tại điểm a khoản 2 Điều 22 Nghị định số 12/2022/NĐ-CP: mức phạt tiền đối với cá nhân "
        "từ 2.500.000 đồng đến 7.500.000 đồng.",
        "Đối tượng vi phạm là tổ chức nên mức phạt tiền bằng 02 lần mức phạt đối với cá nhân (khoản 1 Điều 6 Nghị định "
        "số 12/2022/NĐ-CP): khung tiền phạt từ 5.000.000 đồng đến 15.000.000 đồng.",
        "Mức trung bình của khung tiền phạt: (5.000.000 đồng + 15.000.000 đồng) : 2 = 10.000.000 đồng."]}
        for v in context["violations"]]
    context["competence_vi"] = ("mức phạt tối đa cao nhất của các hành vi trong hồ sơ là 75.000.000 đồng; thẩm quyền phạt "
                                "tiền đối với tổ chức (gấp 02 lần cá nhân): Giám đốc Sở Nội vụ đến 120.000.000 đồng mỗi hành "
                                "vi; Chủ tịch Ủy ban nhân dân tỉnh đến 150.000.000 đồng mỗi hành vi. Hồ sơ thuộc thẩm quyền "
                                "của Giám đốc Sở Nội vụ tỉnh Cao Bằng.")
    context.update(overrides)
    return context


def test_the_proposal_holds_the_working_and_the_competence(tmp_path: Path) -> None:
    text = text_of(render_pdf("to_trinh_xu_phat", create_proposal_context(), tmp_path / "tt.pdf").path)
    for expected in ("TỜ TRÌNH", "Kính gửi: Giám đốc Sở Nội vụ tỉnh Cao Bằng.", "(5.000.000 đồng + 15.000.000 đồng) : 2",
                     "Hồ sơ thuộc thẩm quyền của Giám đốc Sở Nội vụ tỉnh Cao Bằng", "47.500.000 đồng", "TRƯỞNG ĐOÀN",
                     "Nông Thị Hường", "Số: 04/TTr"):
        assert expected in text, expected

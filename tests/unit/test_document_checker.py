"""The document checker finds what an official would send back, on real PDFs: a faulty decision is caught point by
point, a well-formed one passes."""
from __future__ import annotations

from pathlib import Path

from services.documents import render_pdf
from tests.document_checker import check_pdf
from tests.unit.test_render import create_context


def test_a_well_formed_decision_passes(tmp_path: Path) -> None:
    pdf = render_pdf("quyet_dinh_xu_phat", create_context(number="07/QĐ-XPHC"), tmp_path / "qd.pdf").path
    assert check_pdf(pdf, "sanction_decision") == []


def test_a_faulty_decision_is_caught_point_by_point(tmp_path: Path) -> None:
    context = create_context(number="7/QĐ-XPHC")
    context["violations"][0]["description"] = ("Phạt tiền từ 5.000.000 đồng đến 10.000.000 đồng đối với người sử dụng lao "
                                               "động có hành vi không huấn luyện (nếu có)..")
    context["violations"][0]["amount_reason"] = "mức trung bình của khung: (5.000.000 đồng + 15.000.000 đồng) : 2 = …… đồng"
    context["signer"] = {"full_name": "Bế Thanh Tịnh", "title": "Phó Giám đốc"}  # a deputy without "KT."
    pdf = render_pdf("quyet_dinh_xu_phat", context, tmp_path / "qd.pdf").path
    tags = {p.tag for p in check_pdf(pdf, "sanction_decision")}
    assert tags == {"number", "penalty-as-act", "leftover", "working-in-decision", "signer"}

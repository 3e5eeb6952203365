"""The document checker finds what an official would send back, on real PDFs: a faulty decision is caught point by
point, a well-formed one passes."""
from __future__ import annotations

from pathlib import Path

import pytest

from services.documents import render as renderer
from services.documents import render_pdf
from services.settings import TEMPLATES_DIR
from tests.document_checker import check_pdf
from tests.unit.test_render import create_context, long_record


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


def test_one_violation_line_for_the_documents_and_the_public_without_the_inspectors_words() -> None:
    from types import SimpleNamespace

    from services.documents.acts import act_line, violation_line
    from services.rules.fines import load_fine_table

    rule = load_fine_table().get("283/2026/ND-CP Art.33 cl.2")  # periodic health exams, per worker
    act = act_line(rule, None, workers=12, notes=["Anh Nguyễn Văn A chưa được khám sức khỏe năm 2026."])
    assert act == ("Không tổ chức khám sức khỏe định kỳ hoặc khám phát hiện bệnh nghề nghiệp cho người lao động (vi phạm "
                   "với 12 người lao động); thực tế kiểm tra: Anh Nguyễn Văn A chưa được khám sức khỏe năm 2026")
    line = violation_line(SimpleNamespace(act_vi=act), rule, amount=30_000_000)
    assert line["provision_vi"] == "khoản 2 Điều 33 Nghị định số 283/2026/NĐ-CP" and line["amount"] == 30_000_000
    assert line["act_vi"] == act and "Nguyễn Văn A" not in line["public_act_vi"]
    assert line["public_act_vi"].endswith("(vi phạm với 12 người lao động)")


@pytest.mark.parametrize("context", [create_context(number="03/BB-VPHC"), {**long_record(), "number": "03/BB-VPHC"}],
                         ids=["2 pages", "3 pages"])
def test_a_violation_record_signed_on_every_sheet_passes(context: dict, tmp_path: Path) -> None:
    pdf = render_pdf("bien_ban_vi_pham", context, tmp_path / "vp.pdf").path
    assert check_pdf(pdf, "violation_record") == []


def test_an_unsigned_sheet_and_a_wrong_sheet_count_are_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record as an engine without the sheet options would draw it: no row on page 1, "gồm 01 tờ" on two pages."""
    source = (TEMPLATES_DIR / "bien_ban_vi_pham.toml").read_text(encoding="utf-8")
    unsigned = "\n".join(line for line in source.splitlines() if not line.startswith(("sign_each_page", "counts_pages")))
    (tmp_path / "unsigned_record.toml").write_text(unsigned.replace("{pages_total|pad}", "01"), encoding="utf-8")
    renderer._fonts()  # from the real folder, before it is switched
    monkeypatch.setattr(renderer, "TEMPLATES_DIR", tmp_path)
    doc = render_pdf("unsigned_record", create_context(number="03/BB-VPHC"), tmp_path / "vp.pdf")
    assert doc.pages == 2
    problems = check_pdf(doc.path, "violation_record")
    assert sorted(p.tag for p in problems) == ["sheet-count", "unsigned-sheet"], problems
    assert "gồm 01 tờ, 2 pages" in str(problems)

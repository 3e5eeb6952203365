"""The document renderer: Vietnamese text intact, NĐ 30/2020 page, embedded fonts, reproducible bytes."""
from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.pdf_support import squash, text_of, to_nfd

from services.documents import load_template, render_pdf, template_version
from services.errors import TemplateError
from services.documents.format import expand, long_date, money_words, spell_number
from services.settings import PROJECT_ROOT

TEMPLATES = ("bien_ban_kiem_tra", "bien_ban_vi_pham", "quyet_dinh_xu_phat")
# every Vietnamese letter with a diacritic, lower and upper case
DIACRITICS = "ắằẳẵặấầẩẫậếềểễệốồổỗộớờởỡợứừửữựýỳỷỹỵđ áàảãạâăéèẻẽẹêíìỉĩịóòỏõọôơúùủũụư"
ALL_LETTERS = DIACRITICS + " " + DIACRITICS.upper()


def create_context(**overrides: Any) -> dict[str, Any]:
    """A full context for all three templates, in the shape the callers pass."""
    context: dict[str, Any] = {
        "issuer": {"parent_name": "UBND TỈNH CAO BẰNG", "name": "SỞ NỘI VỤ", "code": "SNV",
                   "place": "Cao Bằng"},
        "number": "12/BB-KT",
        "issued_on": date(2026, 3, 5),
        "campaign": {
            "code": "KT-2026-01",
            "title": "Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026",
            "legal_basis": [
                "Luật An toàn, vệ sinh lao động ngày 25 tháng 6 năm 2015",
                "Kế hoạch số 664/KH-UBND ngày 20 tháng 3 năm 2025 của UBND tỉnh Cao Bằng",
            ],
            "decision_ref": "Quyết định số 15/QĐ-UBND ngày 10 tháng 02 năm 2026 "
                            "của Chủ tịch UBND tỉnh Cao Bằng",
        },
        "team": {
            "name": "Đoàn kiểm tra liên ngành số 1",
            "head": {"full_name": "Nông Thị Hường", "title": "Phó Giám đốc", "agency": "Sở Nội vụ"},
            "members": [
                {"full_name": "Nông Thị Hường", "title": "Phó Giám đốc", "agency": "Sở Nội vụ",
                 "role_vi": "Trưởng đoàn"},
                {"full_name": "Hoàng Văn Đức", "title": "Chuyên viên", "agency": "Sở Y tế",
                 "role_vi": "Thành viên"},
                {"full_name": "Lục Thị Ánh Tuyết", "title": "Thanh tra viên", "agency": "Sở Nội vụ",
                 "role_vi": "Phó Trưởng đoàn"},
            ],
        },
        "establishment": {
            "name": "Công ty TNHH Khoáng sản Ngọc Xuân",
            "tax_code": "4800123456",
            "address": f"Tổ 3, phường Đề Thám, tỉnh Cao Bằng (xóm {ALL_LETTERS})",
            "legal_representative": "Đàm Quốc Khánh",
            "representative_title": "Giám đốc",
            "sector_vi": "Khai thác quặng sắt",
            "workforce": 1250,
            "organisation": True, "individual": False, "kind_vi": "tổ chức",
            "tax_code_label_vi": "Mã số doanh nghiệp", "signer_label_vi": "Đại diện tổ chức vi phạm",
            "violator_vi": "đại diện tổ chức vi phạm", "violator_short_vi": "tổ chức vi phạm",
            "representative_role_vi": "người đại diện của tổ chức",
        },
        "inspection": {"date": date(2026, 3, 3), "start_time": "08:00", "end_time": "11:30",
                       "place": "Văn phòng công ty, tổ 3, phường Đề Thám"},
        "findings": [
            {"item_code": "HL-01",
             "item_text": "Huấn luyện an toàn, vệ sinh lao động cho người lao động nhóm 3",
             "result_vi": "Không đạt", "workers_affected": 12, "counts_vi": "12 người",
             "note": "Chưa huấn luyện định kỳ"},
            {"item_code": "SK-02", "item_text": "Khám sức khỏe định kỳ",
             "result_vi": "Đạt", "workers_affected": None, "note": ""},
            {"item_code": "TB-03",
             "item_text": "Kiểm định máy, thiết bị có yêu cầu nghiêm ngặt <nồi hơi> & cầu trục",
             "result_vi": "Không áp dụng", "workers_affected": None, "note": "Không có thiết bị"},
        ],
        "violations": [
            {"description": "Không tổ chức huấn luyện an toàn, vệ sinh lao động cho 12 người lao động",
             "provision_vi": "điểm a khoản 2 Điều 22 Nghị định số 12/2022/NĐ-CP",
             "amount": 10_000_000, "amount_basis_vi": "mức trung bình của khung, tổ chức phạt gấp đôi",
             "decree_vi": "Nghị định số 12/2022/NĐ-CP", "committed_vi": "hành vi đang thực hiện tại thời điểm phát hiện",
             "circumstances_vi": "Tình tiết tăng nặng: tái phạm (điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính)",
             "amount_reason": "",
             "remedial_vi": "Buộc tổ chức huấn luyện cho người lao động"},
            {"description": "Không bố trí bộ phận y tế theo quy định",
             "provision_vi": "khoản 1 Điều 25 Nghị định số 12/2022/NĐ-CP",
             "amount": 37_500_000, "amount_basis_vi": "có một tình tiết giảm nhẹ", "remedial_vi": "",
             "decree_vi": "Nghị định số 12/2022/NĐ-CP", "committed_vi": "hành vi đã kết thúc ngày 15/01/2026",
             "circumstances_vi": "Không có tình tiết giảm nhẹ, tăng nặng",
             "amount_reason": "cơ sở đã khắc phục xong trước khi ra quyết định"},
        ],
        "total_amount": 47_500_000,
        "discovered_on": date(2026, 3, 3),
        "drafter": {"full_name": "Nông Thị Hường", "title": "Phó Giám đốc", "agency": "Sở Nội vụ", "role_vi": "Trưởng đoàn"},
        "decider_vi": "Giám đốc Sở Nội vụ tỉnh Cao Bằng",
        "violator_statement": "Công ty xin khắc phục ngay trong tháng 3 năm 2026.",
        "explanation_vi": ("Công ty TNHH Khoáng sản Ngọc Xuân có quyền gửi văn bản yêu cầu được giải trình trực tiếp trong "
                           "thời hạn 02 ngày làm việc, kể từ ngày lập biên bản này (đến hết ngày 06/03/2026), hoặc gửi văn "
                           "bản giải trình trong thời hạn 05 ngày làm việc, kể từ ngày lập biên bản này (đến hết ngày "
                           "11/03/2026) đến Giám đốc Sở Nội vụ tỉnh Cao Bằng; quá thời hạn trên mà không gửi văn bản thì "
                           "được coi là không có ý kiến giải trình."),
        "decrees": [{"citation_vi": "Nghị định số 12/2022/NĐ-CP ngày 17 tháng 01 năm 2022 của Chính phủ quy định xử phạt "
                                    "vi phạm hành chính trong lĩnh vực lao động, bảo hiểm xã hội, người lao động Việt Nam đi "
                                    "làm việc ở nước ngoài theo hợp đồng"}],
        "after_2025_reform": True,
        "minutes_ref": "Biên bản kiểm tra số 12/BB-KT ngày 03 tháng 3 năm 2026",
        "signer": {"full_name": "Bế Thanh Tịnh", "title": "Phó Giám đốc", "for_title": "Giám đốc"},
        "violation_record_ref": "Biên bản vi phạm hành chính số 3/BB-VPHC lập ngày 04 tháng 3 năm 2026",
        "bases": [
            "Căn cứ Điều 57, Điều 68, Điều 70, Điều 78, Điều 85 Luật Xử lý vi phạm hành chính (sửa đổi, bổ sung năm 2020 "
            "và năm 2025)",
            "Căn cứ Nghị định số 118/2021/NĐ-CP ngày 23 tháng 12 năm 2021 của Chính phủ quy định chi tiết một số điều và "
            "biện pháp thi hành Luật Xử lý vi phạm hành chính, được sửa đổi, bổ sung bởi Nghị định số 68/2025/NĐ-CP",
            "Căn cứ Nghị định số 189/2025/NĐ-CP ngày 01 tháng 7 năm 2025 của Chính phủ quy định chi tiết Luật Xử lý vi "
            "phạm hành chính về thẩm quyền xử phạt vi phạm hành chính",
            "Căn cứ Nghị định số 12/2022/NĐ-CP ngày 17 tháng 01 năm 2022 của Chính phủ quy định xử phạt vi phạm hành "
            "chính trong lĩnh vực lao động, bảo hiểm xã hội, người lao động Việt Nam đi làm việc ở nước ngoài theo hợp đồng",
            "Căn cứ Biên bản vi phạm hành chính số 03/BB-VPHC lập ngày 04/03/2026"],
        "aggravating_vi": "hành vi thứ 1: tái phạm (điểm b khoản 1 Điều 10 Luật Xử lý vi phạm hành chính)",
        "mitigating_vi": "không có",
        "has_remedies": True, "remedial_days": 30,
        "payment": {"treasury_vi": "Kho bạc Nhà nước khu vực I", "treasury_address_vi": "Số 12 phố Kim Đồng, tỉnh Cao Bằng",
                    "account": "7111 0123 4567", "bank_vi": "Ngân hàng TMCP Công thương Việt Nam, chi nhánh Cao Bằng",
                    "online_vi": "Cổng Dịch vụ công quốc gia"},
        "executor_vi": "Sở Nội vụ tỉnh Cao Bằng", "drafting_unit": "TTr",
        "comply_days": 10,
        "effective_on": date(2026, 3, 5),
    }
    context.update(overrides)
    return context








@pytest.mark.parametrize("template", TEMPLATES)
def test_vietnamese_text_comes_out_intact(template: str, tmp_path: Path) -> None:
    doc = render_pdf(template, create_context(), tmp_path / f"{template}.pdf")
    text = text_of(doc.path)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Cao Bằng, ngày 05 tháng 3 năm 2026", "Công ty TNHH Khoáng sản Ngọc Xuân",
                     "Đàm Quốc Khánh", "điểm a khoản 2 Điều 22 Nghị định số 12/2022/NĐ-CP",
                     squash(ALL_LETTERS)):
        assert expected in text, expected
    assert "■" not in text and "\ufffd" not in text
    assert doc.size == doc.path.stat().st_size and doc.pages >= 1
    assert doc.sha256 == hashlib.sha256(doc.path.read_bytes()).hexdigest()


def test_minutes_carry_the_inspection(tmp_path: Path) -> None:
    text = text_of(render_pdf("bien_ban_kiem_tra", create_context(), tmp_path / "bb.pdf").path)
    for expected in ("Số: 12/BB-KT", "BIÊN BẢN KIỂM TRA", "vào hồi 08 giờ 00 phút, ngày 03 tháng 3 năm 2026",
                     "Hoàng Văn Đức", "Lục Thị Ánh Tuyết", "Nông Thị Hường", "1.250 người",
                     "nồi hơi> & cầu trục", "Không áp dụng", "kết thúc vào hồi 11 giờ 30 phút",
                     "02 bản", "Buộc tổ chức huấn luyện cho người lao động"):
        assert expected in text, expected


def test_minutes_without_violations_say_so(tmp_path: Path) -> None:
    text = text_of(render_pdf("bien_ban_kiem_tra", create_context(violations=[]), tmp_path / "bb.pdf").path)
    assert "không phát hiện hành vi vi phạm hành chính" in text
    assert "lập biên bản vi phạm hành chính và chuyển" not in text


def test_violation_record_has_the_explanation_right(tmp_path: Path) -> None:
    doc = render_pdf("bien_ban_vi_pham", create_context(number="3/BB-VPHC"), tmp_path / "vp.pdf")
    text = text_of(doc.path)
    for expected in ("BIÊN BẢN VI PHẠM HÀNH CHÍNH", "Số: 3/BB-VPHC", "4800123456", "02 ngày làm việc",
                     "Sở Nội vụ tỉnh Cao Bằng", "Biên bản kiểm tra số 12/BB-KT"):
        assert expected in text, expected


def test_decision_totals_in_figures_and_words(tmp_path: Path) -> None:
    context = create_context(number="7/QĐ-XPHC")
    text = text_of(render_pdf("quyet_dinh_xu_phat", context, tmp_path / "qd.pdf").path)
    for expected in ("QUYẾT ĐỊNH", "Điều 1.", "Điều 2.", "Điều 3.", "10.000.000 đồng", "37.500.000 đồng",
                     "47.500.000 đồng", "Bốn mươi bảy triệu năm trăm nghìn đồng", "10 ngày",
                     "Nghị định số 118/2021/NĐ-CP", "Luật Xử lý vi phạm hành chính", "Bế Thanh Tịnh",
                     "GIÁM ĐỐC SỞ NỘI VỤ TỈNH CAO BẰNG", "KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Bế Thanh Tịnh",
                     "Nghị định số 12/2022/NĐ-CP ngày 17 tháng 01 năm 2022", "(sửa đổi, bổ sung năm 2020 và năm 2025)",
                     "Nghị định số 189/2025/NĐ-CP", "4. Các tình tiết tăng nặng: hành vi thứ 1: tái phạm",
                     "5. Các tình tiết giảm nhẹ: không có.", "Lý do quyết định mức phạt: cơ sở đã khắc phục xong trước khi ra "
                     "quyết định", "Tổng số tiền phạt là 47.500.000 đồng",
                     "Buộc tổ chức huấn luyện cho người lao động (đối với hành vi thứ 1",
                     "tài khoản số 7111 0123 4567 của Kho bạc Nhà nước khu vực I", "2. Gửi cho Kho bạc Nhà nước khu vực I "
                     "để thu tiền phạt.", "Lưu: VT, TTr.", "Căn cứ Biên bản vi phạm hành chính số 03/BB-VPHC lập ngày "
                     "04/03/2026."):
        assert expected in text, expected
    context["violations"][0]["remedial_vi"] = ""
    text = text_of(render_pdf("quyet_dinh_xu_phat", context, tmp_path / "qd2.pdf").path)
    assert "c) Biện pháp khắc phục hậu quả: Không áp dụng." in text


@pytest.mark.parametrize("template", TEMPLATES)
def test_page_is_a4_with_embedded_fonts(template: str, tmp_path: Path) -> None:
    reader = PdfReader(render_pdf(template, create_context(), tmp_path / "d.pdf").path)
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (595.28, 841.89)
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("LiberationSerif" in font["/BaseFont"] for font in fonts)  # no Helvetica fallback
    assert all("/FontFile2" in font["/FontDescriptor"] for font in fonts)  # TrueType subsets, embedded


@pytest.mark.parametrize("template", TEMPLATES)
def test_same_context_gives_the_same_bytes(template: str, tmp_path: Path) -> None:
    first = render_pdf(template, create_context(), tmp_path / "a.pdf")
    second = render_pdf(template, create_context(), tmp_path / "b.pdf")
    assert first.sha256 == second.sha256
    nfd = render_pdf(template, to_nfd(create_context()), tmp_path / "nfd.pdf")
    assert nfd.sha256 == first.sha256


def test_bytes_do_not_depend_on_the_process(tmp_path: Path) -> None:
    here = render_pdf("quyet_dinh_xu_phat", create_context(), tmp_path / "here.pdf")
    code = ("import sys; from pathlib import Path; from test_render import create_context; "
            "from services.documents import render_pdf; "
            "print(render_pdf('quyet_dinh_xu_phat', create_context(), Path(sys.argv[1])).sha256)")
    env = {**os.environ, "PYTHONHASHSEED": "4242",
           "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(Path(__file__).parent)])}
    there = subprocess.run([sys.executable, "-c", code, str(tmp_path / "there.pdf")], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True, timeout=120)
    assert there.stdout.strip() == here.sha256


def test_nfd_input_is_drawn_composed(tmp_path: Path) -> None:
    context = to_nfd(create_context())
    assert unicodedata.normalize("NFD", "Đàm Quốc Khánh") in str(context)
    reader = PdfReader(render_pdf("bien_ban_kiem_tra", context, tmp_path / "nfd.pdf").path)
    raw = " ".join(page.extract_text() for page in reader.pages)  # as drawn, not re-normalised
    assert not [c for c in raw if unicodedata.combining(c)]
    assert "Đàm Quốc Khánh" in raw and squash(ALL_LETTERS) in re.sub(r"\s+", " ", raw)


def test_missing_key_names_template_and_key(tmp_path: Path) -> None:
    context = create_context()
    del context["establishment"]["tax_code"]
    with pytest.raises(TemplateError) as caught:
        render_pdf("bien_ban_vi_pham", context, tmp_path / "x.pdf")
    assert caught.value.key == "establishment.tax_code"
    assert "bien_ban_vi_pham" in str(caught.value) and "establishment.tax_code" in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_missing_item_key_inside_a_list(tmp_path: Path) -> None:
    context = create_context()
    del context["violations"][1]["provision_vi"]
    with pytest.raises(TemplateError, match="provision_vi"):
        render_pdf("quyet_dinh_xu_phat", context, tmp_path / "x.pdf")


def test_none_without_a_default_is_an_error(tmp_path: Path) -> None:
    context = create_context()
    context["establishment"]["name"] = None
    with pytest.raises(TemplateError, match="establishment.name"):
        render_pdf("bien_ban_kiem_tra", context, tmp_path / "x.pdf")


def test_long_lists_flow_onto_numbered_pages(tmp_path: Path) -> None:
    findings = [{"item_code": f"KT-{i:02d}", "item_text": f"Nội dung kiểm tra thứ {i} về phương tiện bảo vệ",
                 "result_vi": "Đạt", "workers_affected": i, "note": "Đã xem hồ sơ"} for i in range(1, 61)]
    doc = render_pdf("bien_ban_kiem_tra", create_context(findings=findings), tmp_path / "long.pdf")
    assert doc.pages >= 3
    reader = PdfReader(doc.path)
    assert "KT-60" in squash(reader.pages[-1].extract_text()) or "KT-60" in text_of(doc.path)
    second = squash(reader.pages[1].extract_text())
    assert second.startswith("2 ") and "Nội dung kiểm tra" in second  # page number, repeated table header
    assert not squash(reader.pages[0].extract_text()).startswith("1 ")


def test_output_is_replaced_atomically(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "dir" / "bb.pdf"
    out.parent.mkdir(parents=True)
    out.write_bytes(b"old")
    doc = render_pdf("bien_ban_kiem_tra", create_context(), out)
    assert out.read_bytes().startswith(b"%PDF") and doc.path == out
    assert [p.name for p in out.parent.iterdir()] == ["bb.pdf"]


def test_a_character_liberation_serif_lacks_is_drawn_in_a_fallback_font(tmp_path: Path) -> None:
    context = create_context()
    context["establishment"]["name"] = "Công ty 中国"  # issue 13: this stopped the document (GlyphError)
    doc = render_pdf("bien_ban_kiem_tra", context, tmp_path / "x.pdf")
    assert "Công ty 中国" in text_of(doc.path)


def test_template_versions_and_copies() -> None:
    for name in TEMPLATES:
        assert template_version(name)
    spec = load_template("bien_ban_kiem_tra")
    spec["version"] = "changed"
    assert template_version("bien_ban_kiem_tra") != "changed"
    with pytest.raises(TemplateError):
        load_template("../settings")


@pytest.mark.parametrize(("amount", "words"), [
    (0, "không"), (15, "mười lăm"), (21, "hai mươi mốt"), (105, "một trăm linh năm"), (1_000, "một nghìn"),
    (1_005_000, "một triệu không trăm linh năm nghìn"), (37_500_000, "ba mươi bảy triệu năm trăm nghìn"),
    (2_000_000_050, "hai tỷ không trăm năm mươi"),
])
def test_number_words(amount: int, words: str) -> None:
    assert spell_number(amount) == words


def test_money_and_dates() -> None:
    assert money_words(10_000_000) == "Mười triệu đồng"
    assert long_date(date(2026, 2, 1)) == "ngày 01 tháng 02 năm 2026"
    assert long_date(date(2026, 11, 30)) == "ngày 30 tháng 11 năm 2026"
    scope = {"a": 75_000_000, "b": date(2026, 3, 5)}
    markup, plain = expand("{a|money} {b|short} **x** {{y}} {c?|or:—}", [scope], template="t")
    assert plain == "75.000.000 đồng 05/03/2026 x {y} —"
    assert "<b>x</b>" in markup


def test_values_are_escaped_and_never_styled() -> None:
    markup, _ = expand("{v}", [{"v": "A & B <b>**x**</b>"}], template="t")
    assert markup == "A &amp; B &lt;b&gt;**x**&lt;/b&gt;"


def test_bad_template_text_is_refused() -> None:
    with pytest.raises(TemplateError, match="unknown formatter"):
        expand("{a|nope}", [{"a": 1}], template="t")
    with pytest.raises(TemplateError, match="không đóng"):
        expand("**open", [{}], template="t")
    with pytest.raises(TemplateError, match="a.b"):
        expand("{a.b|money}", [{"a": {"b": "mười"}}], template="t")


def test_context_is_not_mutated(tmp_path: Path) -> None:
    context = create_context()
    before = copy.deepcopy(context)
    render_pdf("quyet_dinh_xu_phat", context, tmp_path / "qd.pdf")
    assert context == before


def test_agency_names_in_running_text_are_in_sentence_case() -> None:
    from services.documents.format import agency_vi
    assert [agency_vi(n) for n in ("SỞ NỘI VỤ", "SỞ Y TẾ", "LIÊN ĐOÀN LAO ĐỘNG TỈNH", "ỦY BAN NHÂN DÂN TỈNH CAO BẰNG",
                                   "UBND TỈNH CAO BẰNG", "BAN QUẢN LÝ KHU KINH TẾ TỈNH", "Sở Nội vụ")] == [
        "Sở Nội vụ", "Sở Y tế", "Liên đoàn Lao động tỉnh", "Ủy ban nhân dân tỉnh Cao Bằng", "UBND tỉnh Cao Bằng",
        "Ban Quản lý Khu kinh tế tỉnh", "Sở Nội vụ"]
    assert expand("- {a|agency};", [{"a": "SỞ NỘI VỤ"}], template="t")[1] == "- Sở Nội vụ;"


def test_a_person_signs_with_their_title_and_a_deputy_for_the_head() -> None:
    from services.documents.format import signer_of

    assert signer_of("Nông Thị Hường", "Phó Giám đốc Sở Nội vụ") == {"full_name": "Nông Thị Hường", "title": "Phó Giám đốc",
                                                                      "for_title": "Giám đốc"}
    assert signer_of("Bế Thanh Tịnh", "Chủ tịch Ủy ban nhân dân tỉnh") == {"full_name": "Bế Thanh Tịnh", "title": "Chủ tịch"}
    assert signer_of("Đỗ Minh Nam", "Trưởng đoàn") == {"full_name": "Đỗ Minh Nam", "title": "Trưởng đoàn"}


# --- a record of several sheets: each sheet signed, "gồm … tờ" (Luật XLVPHC Art.58 cl.3; form MBB01) ------------

SHEET_ROW = ["Đại diện tổ chức vi phạm", "Người lập biên bản"]  # the violation record's sign_each_page, expanded


def long_record(acts: int = 12) -> dict[str, Any]:
    """A violation record whose list of acts takes it to three pages."""
    context = create_context(number="3/BB-VPHC")
    context["violations"] = [
        {**context["violations"][i % 2],
         "description": f"Hành vi thứ {i + 1}: không thực hiện đầy đủ các biện pháp bảo đảm an toàn, vệ sinh lao động "
                        "tại nơi làm việc theo quy định"} for i in range(acts)]
    return context


def page_texts(path: Path) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(path).pages]


def test_every_sheet_of_a_long_violation_record_is_signed(tmp_path: Path) -> None:
    doc = render_pdf("bien_ban_vi_pham", long_record(), tmp_path / "vp.pdf")
    pages = page_texts(doc.path)
    assert doc.pages == len(pages) == 3
    for page in pages[:2]:  # the labels, last on the page, under the body's text
        assert page.endswith(" ".join(SHEET_ROW)), page[-120:]
        assert "NGƯỜI LẬP BIÊN BẢN" not in page
    last = pages[2]
    assert not last.endswith(" ".join(SHEET_ROW)) and "Người lập biên bản" not in last
    for expected in ("ĐẠI DIỆN TỔ CHỨC VI PHẠM", "NGƯỜI LẬP BIÊN BẢN", "Đàm Quốc Khánh", "Nông Thị Hường",
                     "NGƯỜI CHỨNG KIẾN", "ĐẠI DIỆN CHÍNH QUYỀN CẤP XÃ"):  # the full block on the last sheet
        assert expected in last, expected
    text = " ".join(pages)
    assert "cùng ngày, gồm 03 tờ, được lập thành 02 bản có nội dung và giá trị như nhau" in text
    assert "gồm 01 tờ" not in text
    assert PdfReader(doc.path).metadata["/Subject"] == f"bien_ban_vi_pham {template_version('bien_ban_vi_pham')}"


def test_the_sheet_count_follows_the_record(tmp_path: Path) -> None:
    two = render_pdf("bien_ban_vi_pham", create_context(number="3/BB-VPHC"), tmp_path / "two.pdf")
    assert two.pages == 2 and "gồm 02 tờ" in text_of(two.path)
    assert page_texts(two.path)[0].endswith(" ".join(SHEET_ROW))


def test_a_long_record_gives_the_same_bytes(tmp_path: Path) -> None:
    first = render_pdf("bien_ban_vi_pham", long_record(), tmp_path / "a.pdf")
    second = render_pdf("bien_ban_vi_pham", long_record(), tmp_path / "b.pdf")
    assert first.sha256 == second.sha256 and first.pages == 3


SHEETS_TEMPLATE = '''version = "t"
title = "Biên bản {number}"
sign_each_page = ["{establishment.signer_label_vi}", "Người lập biên bản"]
counts_pages = true
[header]
body = "SỞ NỘI VỤ"
number = "Số: {number}"
place_date = "Cao Bằng"
motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
motto_sub = "Độc lập - Tự do - Hạnh phúc"
[[body]]
kind = "list"
each = "violations"
text = "{loop.index}) {description}."
[[body]]
kind = "paragraph"
text = "Biên bản lập xong cùng ngày, gồm {pages_total|pad} tờ."
[[body]]
kind = "signatures"
[[body.columns]]
lines = [{ text = "**NGƯỜI LẬP BIÊN BẢN**" }, { text = "**{drafter.full_name}**", space = 25 }]
'''


@pytest.fixture
def sheets_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A short record with both sheet options (the real one never fits on one page). Templates are cached by name:
    the real ones used here are loaded before the folder is switched."""
    from services.documents import render as renderer

    renderer._fonts()  # from the real folder, before it is switched
    renderer._template("bien_ban_kiem_tra")
    (tmp_path / "sheets.toml").write_text(SHEETS_TEMPLATE, encoding="utf-8")
    monkeypatch.setattr(renderer, "TEMPLATES_DIR", tmp_path)
    return "sheets"


def test_a_one_page_record_says_one_sheet_and_draws_no_row(sheets_template: str, tmp_path: Path) -> None:
    doc = render_pdf(sheets_template, create_context(number="3/BB-VPHC"), tmp_path / "one.pdf")
    (page,) = page_texts(doc.path)
    assert doc.pages == 1 and "gồm 01 tờ." in page
    assert "Đại diện tổ chức vi phạm" not in page and "Người lập biên bản" not in page


def test_counting_pages_costs_a_second_layout_only_when_the_count_is_not_one(
        sheets_template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.documents import render as renderer

    stated: list[Any] = []
    laid_out = renderer._laid_out

    def counted(template: str, spec: Any, scopes: list[Any]) -> tuple[int, Any]:
        stated.append(scopes[0].get("pages_total"))
        return laid_out(template, spec, scopes)

    monkeypatch.setattr(renderer, "_laid_out", counted)
    render_pdf(sheets_template, create_context(), tmp_path / "one.pdf")
    assert stated == [1]
    stated.clear()
    long = long_record(40)
    doc = render_pdf(sheets_template, long, tmp_path / "long.pdf")
    assert doc.pages == 3 and stated == [1, 3]
    pages = page_texts(doc.path)
    assert "gồm 03 tờ." in pages[-1] and all(page.endswith(" ".join(SHEET_ROW)) for page in pages[:-1])
    stated.clear()
    render_pdf("bien_ban_kiem_tra", create_context(), tmp_path / "bb.pdf")  # a template that does not ask
    assert stated == [None]


def test_sheet_options_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.documents import render as renderer

    monkeypatch.setattr(renderer, "TEMPLATES_DIR", tmp_path)
    for name, change in (("bad_count", 'counts_pages = "yes"'), ("bad_row", 'sign_each_page = "Người lập"'),
                         ("bad_label", 'sign_each_page = ["{a|nope}"]')):
        (tmp_path / f"{name}.toml").write_text(
            SHEETS_TEMPLATE.replace("counts_pages = true", change) if "count" in name else
            SHEETS_TEMPLATE.replace('sign_each_page = ["{establishment.signer_label_vi}", "Người lập biên bản"]',
                                    change), encoding="utf-8")
        with pytest.raises(TemplateError, match="counts_pages|sign_each_page"):
            load_template(name)
    assert expand("{n|pad} {n|pad:3}", [{"n": 3}], template="t")[1] == "03 003"

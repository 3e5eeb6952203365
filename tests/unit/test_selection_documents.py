"""The selection list (danh sách cơ sở dự kiến kiểm tra): the PDF, the spreadsheet and the reasons text."""
from __future__ import annotations

import copy
import hashlib
import re
import time
import unicodedata
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.pdf_support import squash, text_of, to_nfd

from models.campaign import SelectionKind
from services.documents import render_pdf, template_version
from services.errors import TemplateError
from services.documents import render as render_module
from services.documents.selection_list import (KIND_VI, attachment_vi, decimal_vi, plan_in_basis, policy_labels,
                                               reasons_vi, sector_vi)
from services.documents.xlsx import (LIST_HEADER_ROW, PAIRS_HEADER_ROW, REMOVED_HEADER_ROW, SHEET_BASIS,
                                     write_selection_xlsx)
from services.rules.risk import factor_contributions, policy_for

START = date(2026, 3, 2)
POLICY = policy_for(START)
LABELS = policy_labels(POLICY)
COMMUNES = ("phường Thục Phán", "phường Nùng Trí Cao", "phường Tân Giang", "xã Quảng Lâm", "xã Lý Bôn",
            "xã Bảo Lạc", "xã Cốc Pàng", "xã Tĩnh Túc", "xã Nguyên Bình", "xã Hà Quảng", "xã Tổng Cọt")
SECTORS = (("08", "Khai thác đá, cát, sỏi"), ("16", "Chế biến gỗ"), ("23", "Sản xuất xi măng, vôi, thạch cao"),
           ("41", "Xây dựng nhà các loại"), ("10", "Chế biến thực phẩm"), ("46", "Bán buôn"),
           ("35", "Sản xuất, phân phối điện"), ("14", "May trang phục"))
TRADES = ("Khai thác đá Ngọc Xuân", "Chế biến gỗ Đức Thịnh", "Xi măng Quang Sơn", "Xây dựng Phượng Hoàng",
          "Thực phẩm Hương Quê", "Thương mại Bằng Giang", "Thủy điện Bắc Vọng", "May mặc Thành Công")  # by sector
FORMS = ("Công ty TNHH", "Công ty Cổ phần", "Hợp tác xã", "Doanh nghiệp tư nhân")
DIACRITICS = "ắằẳ ẵặấ ầẩẫ ậếề ểễệ ốồổ ỗộớ ờởỡ ợứừ ửữự ýỳỷ ỹỵđ ẮẰẲ ẴẶẤ ẦẨẪ ẬẾỀ ỂỄỆ ỐỒỔ ỖỘỚ ỜỞỠ ỢỨỪ ỬỮỰ ÝỲỶ ỸỴĐ"


def registry_row(i: int) -> dict[str, Any]:
    """A registry row whose risk varies with ``i`` (every factor of the policy is hit by some row)."""
    vsic, _ = SECTORS[i % len(SECTORS)]
    workforce = (8, 35, 80, 150, 420, 1250)[i % 6]
    hazardous = workforce * (i % 4) // 5
    return {
        "id": i + 1, "tax_code": f"48{i:08d}", "sector_vsic": vsic, "workforce": workforce,
        "hazardous_workers": hazardous, "working_condition_class_max": (1, 3, 4, 5, 6)[i % 5] if hazardous else 2,
        "strict_equipment_count": i % 9, "strict_work_workers": 0,
        "last_health_exam_on": START - timedelta(days=(100, 250, 400)[i % 3]),
        "last_disease_exam_on": START - timedelta(days=(200, 500)[i % 2]),
        "last_environment_monitoring_on": None if i % 5 == 0 else START - timedelta(days=120 * (i % 4)),
        "monitoring_failing_ratio": (0.0, 0.25, 0.5)[i % 3], "fatal_accidents_3y": 1 if i % 11 == 0 else 0,
        "serious_accidents_3y": i % 3 if i % 2 else 0, "accidents_3y": i % 7, "accident_reports_late": i % 2,
        "osh_organisation_gaps": i % 5, "untrained_workers": workforce * (i % 3) // 4,
        "vulnerable_workers": i % 4 if hazardous else 0, "past_violations": i % 4 // 2,
        "last_inspected_on": None, "open_complaints": 1 if i % 13 == 0 else 0,
    }


def establishment(i: int) -> dict[str, Any]:
    """One row of the list as the caller builds it (with ``factors`` for the spreadsheet)."""
    factors = factor_contributions(registry_row(i), POLICY, START)
    name = f"{FORMS[i % len(FORMS)]} {TRADES[i % len(SECTORS)]} số {i + 1}"
    if i == 7:
        name = "Chi nhánh Công ty Cổ phần Xi măng & Vật liệu <Cao Bằng> tại xã Hòa An"
    if i == 12:
        name = f"Hộ kinh doanh Nông Văn Được (thôn {DIACRITICS})"
    return {
        "name": name, "tax_code": f"48{i:08d}" + ("-001" if i == 7 else ""),
        "commune_vi": COMMUNES[i % len(COMMUNES)], "sector_vi": SECTORS[i % len(SECTORS)][1],
        "workforce": registry_row(i)["workforce"], "score": round(sum(factors.values()), 2),
        "reasons_vi": reasons_vi(factors, LABELS), "factors": factors,
    }


def create_context(n: int = 60, **overrides: Any) -> dict[str, Any]:
    kinds = [SelectionKind.RISK] * (n - 10) + [SelectionKind.CONTROL] * 5 + [SelectionKind.TRIGGER] * 3 \
        + [SelectionKind.LEAD_ADDED] * 2
    people = sorted((establishment(i) for i in range(n)), key=lambda r: (-r["score"], r["tax_code"]))
    rows = [{**row, "rank": rank, "kind_vi": KIND_VI[kind]}
            for rank, (row, kind) in enumerate(zip(people, kinds, strict=True), start=1)]
    context: dict[str, Any] = {
        "issuer": {"parent_name": "UBND tỉnh Cao Bằng", "name": "Sở Nội vụ", "code": "SNV", "place": "Cao Bằng"},
        "number": "",
        "issued_on": date(2026, 2, 20),
        "campaign": {"code": "KT-2026-01", "title": "Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026",
                     "period_start": START, "period_end": date(2026, 6, 30), "kind_vi": "theo kế hoạch"},
        "basis": {"policy_version": POLICY.version, "eligibility_rule_vi": POLICY.eligibility_rule_vi,
                  "seed": 20260302, "registry_fingerprint": hashlib.sha256(b"registry").hexdigest(),
                  "registry_rows": 12480},
        "counts": {"risk": n - 10, "control": 5, "trigger": 3, "lead_added": 2, "removed": 2},
        "rows": rows,
        "removed": [
            {"name": "Công ty TNHH Đá ốp lát Trùng Khánh", "tax_code": "4800999001",
             "reason_vi": "Đã được Thanh tra Sở Công Thương kiểm tra tháng 01/2026 (Chỉ thị 20/CT-TTg)",
             "changed_by": "truongdoan01"},
            {"name": "Hợp tác xã Chè Đức Xuân", "tax_code": "4800999002",
             "reason_vi": "Cơ sở đã giải thể theo thông báo của Sở Tài chính", "changed_by": None},
        ],
        "signer": {"full_name": "Nông Thị Hường", "title": "Phó Giám đốc", "for_title": "Giám đốc"},
    }
    context.update(overrides)
    if "attached_vi" not in overrides:  # as services.stages.selection_docs words it
        context["attached_vi"] = attachment_vi(context["issuer"]["name"], context["campaign"]["title"],
                                               number=context["number"])
    return context


ANNEX = "PHỤ LỤC: CĂN CỨ LẬP DANH SÁCH"


def running_text(text: str) -> str:
    """What a reader reads as the list: everything before the annex page."""
    assert text.count(ANNEX) == 1
    return text[:text.index(ANNEX)]








# --- reasons_vi ------------------------------------------------------------------------------------------

def test_reasons_most_points_first_with_policy_labels() -> None:
    factors = {"monitoring_missing": 10.0, "accident_frequency": 2.5, "fatal_accidents": 30.0,
               "health_exam_overdue": 10.0, "hazardous_share": 0.0}
    assert reasons_vi(factors, LABELS) == (
        "Tai nạn lao động chết người (3 năm): 30; Chưa khám sức khỏe định kỳ đúng hạn: 10; "
        "Chưa quan trắc môi trường lao động trong 12 tháng: 10; Tần suất tai nạn lao động trên 100 lao động: 2,5")
    # equal points follow the policy's order, whatever order the factors came in
    assert reasons_vi(dict(reversed(factors.items())), LABELS) == reasons_vi(factors, LABELS)


def test_reasons_of_nothing_and_of_an_unknown_factor() -> None:
    assert reasons_vi({}, LABELS) == ""
    assert reasons_vi({"fatal_accidents": 0}, LABELS) == ""
    with pytest.raises(KeyError, match="made_up"):
        reasons_vi({"made_up": 3.0}, LABELS)


def test_reasons_are_nfc() -> None:
    labels = {"fatal_accidents": unicodedata.normalize("NFD", LABELS["fatal_accidents"])}
    text = reasons_vi({"fatal_accidents": 30}, labels)
    assert text == unicodedata.normalize("NFC", text) and text.startswith("Tai nạn lao động chết người")


@pytest.mark.parametrize(("value", "text"), [
    (30, "30"), (30.0, "30"), (2.5, "2,5"), (0.67, "0,67"), (0.1 + 0.2, "0,3"), (2.675, "2,68"),
    (1234.5, "1.234,5"), (0, "0"), (-1.5, "-1,5"),
])
def test_decimal_vi(value: float, text: str) -> None:
    assert decimal_vi(value) == text


def test_decimal_vi_refuses_what_is_not_a_number() -> None:
    for bad in (True, "3", None, float("nan")):
        with pytest.raises(ValueError):
            decimal_vi(bad)


def test_kind_labels_cover_every_selection_kind() -> None:
    assert set(KIND_VI) == {kind.value for kind in SelectionKind}
    assert KIND_VI[SelectionKind.LEAD_ADDED] == "Bổ sung theo đề nghị của trưởng đoàn"


def test_labels_are_the_policy_labels_in_policy_order() -> None:
    assert list(LABELS) == list(POLICY.factors)
    assert LABELS["monitoring_missing"] == "Chưa quan trắc môi trường lao động trong 12 tháng"


# --- PDF -------------------------------------------------------------------------------------------------

def test_pdf_carries_every_establishment_with_its_reasons(tmp_path: Path) -> None:
    context = create_context()
    doc = render_pdf("danh_sach_co_so", context, tmp_path / "ds.pdf")
    assert doc.pages >= 3
    text = text_of(doc.path)
    for row in context["rows"]:
        # the whole item, cell after cell: name, tax code, score and reasons intact
        cells = [str(row["rank"]), row["name"], row["tax_code"], row["commune_vi"], row["sector_vi"],
                 f"{row['workforce']:,}".replace(",", "."), decimal_vi(row["score"]), row["kind_vi"],
                 row["reasons_vi"] or "-"]  # the reasons on their own line, under the others
        assert squash(" ".join(cells)) in text, row["name"]
    assert "■" not in text and "\ufffd" not in text
    assert any(row["score"] != int(row["score"]) for row in context["rows"])  # decimal comma exercised
    assert "Tai nạn lao động chết người (3 năm): 30" in text


def test_pdf_header_basis_and_signature(tmp_path: Path) -> None:
    context = create_context()
    text = text_of(render_pdf("danh_sach_co_so", context, tmp_path / "ds.pdf").path)
    for expected in ("UBND TỈNH CAO BẰNG", "SỞ NỘI VỤ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Cao Bằng, ngày 20 tháng 02 năm 2026", "PHỤ LỤC",
                     "DANH SÁCH CƠ SỞ DỰ KIẾN KIỂM TRA",
                     "(Danh sách do Sở Nội vụ lập cho đợt kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026)",
                     "từ ngày 02/03/2026 đến ngày 30/06/2026",
                     squash(POLICY.eligibility_rule_vi), "12.480 bản ghi",
                     "Tổng số cơ sở dự kiến kiểm tra: 60, gồm: 50 cơ sở theo mức độ rủi ro; 5 cơ sở mẫu đối chứng "
                     "ngẫu nhiên; 3 cơ sở kiểm tra đột xuất có căn cứ; 2 cơ sở bổ sung theo đề nghị của trưởng "
                     "đoàn. Số cơ sở đã loại khỏi danh sách: 2.",
                     "TT Tên cơ sở Mã số thuế Địa chỉ (xã) Ngành Số LĐ Điểm rủi ro Loại "
                     "Lý do (điểm của từng yếu tố rủi ro, nhiều điểm nhất trước)",
                     "KT. GIÁM ĐỐC PHÓ GIÁM ĐỐC Nông Thị Hường",
                     "Xi măng & Vật liệu <Cao Bằng>", "4800000007-001"):
        assert expected in running_text(text), expected
    for kind in KIND_VI.values():
        assert kind in text, kind
    assert "Số:" not in text  # an attachment has no number of its own


def test_nothing_is_left_blank_and_the_selection_data_is_only_in_the_annex(tmp_path: Path) -> None:
    context = create_context()
    reader = PdfReader(render_pdf("danh_sach_co_so", context, tmp_path / "ds.pdf").path)
    text = squash(" ".join(page.extract_text() for page in reader.pages))
    body = running_text(text)
    assert "……" not in text and "..." not in body
    for word in ("seed", "SHA-256", "phiên bản", POLICY.version, context["basis"]["registry_fingerprint"],
                 str(context["basis"]["seed"]), "VSIC"):
        assert word not in body, word
    # the annex: a page of its own, the last, with what lets anyone redo the selection
    last = squash(reader.pages[-1].extract_text())
    assert ANNEX in last and ANNEX not in squash(reader.pages[-2].extract_text())
    for expected in (f"1. Bộ tiêu chí đánh giá rủi ro: phiên bản {POLICY.version}.",
                     "2. Dữ liệu cơ sở lao động: 12.480 bản ghi.",
                     "3. Mã kiểm chứng của dữ liệu (SHA-256): " + context["basis"]["registry_fingerprint"],
                     "4. Giá trị khởi tạo ngẫu nhiên (seed) dùng để xếp thứ tự các cơ sở cùng điểm và chọn mẫu đối "
                     "chứng: 20260302."):
        assert expected in last, expected


def test_the_line_under_the_title_cites_what_exists() -> None:
    title = "Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026"
    assert attachment_vi("Sở Nội vụ", title, number="25/KH-SNV") == (
        "Kèm theo Kế hoạch số 25/KH-SNV của Sở Nội vụ về kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026")
    decision = "Quyết định số 3/QĐ-UBND ngày 20/02/2026 của Ủy ban nhân dân tỉnh Cao Bằng"
    assert attachment_vi("Sở Nội vụ", title, decision_vi=decision, plan_vi="Kế hoạch số 664/KH-UBND").startswith(
        f"Kèm theo {decision} về kiểm tra liên ngành")
    plan = plan_in_basis(["Bộ luật Lao động năm 2019", "Kế hoạch số 664/KH-UBND năm 2025 của UBND tỉnh Cao Bằng;"])
    assert plan == "Kế hoạch số 664/KH-UBND năm 2025 của UBND tỉnh Cao Bằng"
    assert attachment_vi("Sở Nội vụ", title, plan_vi=plan) == (
        f"Danh sách do Sở Nội vụ lập để thực hiện {plan}: {title}")
    assert plan_in_basis(["Bộ luật Lao động năm 2019"]) == ""


def test_sectors_are_named_never_by_code() -> None:
    assert sector_vi("01") == "Nông nghiệp và dịch vụ có liên quan"
    assert sector_vi("41") == "Xây dựng nhà các loại"  # the engine's own name first (services.registry.sectors)
    assert sector_vi("0810") == "Khai khoáng khác"  # a finer VSIC code: its division
    for code in (f"{n:02d}" for n in range(1, 100)):
        assert "VSIC" not in sector_vi(code)


def test_plan_number_when_given(tmp_path: Path) -> None:
    text = text_of(render_pdf("danh_sach_co_so", create_context(number="25/KH-SNV"), tmp_path / "ds.pdf").path)
    assert "(Kèm theo Kế hoạch số 25/KH-SNV của Sở Nội vụ về kiểm tra liên ngành" in text


def test_removed_establishments_only_in_their_own_table(tmp_path: Path) -> None:
    text = text_of(render_pdf("danh_sach_co_so", create_context(), tmp_path / "ds.pdf").path)
    section = text.index("III. CƠ SỞ ĐÃ LOẠI KHỎI DANH SÁCH")
    assert "TT Tên cơ sở Mã số thuế Lý do loại Người đề nghị" in text[section:]
    for expected in ("1 Công ty TNHH Đá ốp lát Trùng Khánh 4800999001 Đã được Thanh tra Sở Công Thương kiểm tra "
                     "tháng 01/2026 (Chỉ thị 20/CT-TTg) truongdoan01",
                     "2 Hợp tác xã Chè Đức Xuân 4800999002 Cơ sở đã giải thể theo thông báo của Sở Tài chính -"):
        assert text.count(expected) == 1 and text.index(expected) > section, expected
    empty = text_of(render_pdf("danh_sach_co_so", create_context(removed=[]), tmp_path / "none.pdf").path)
    assert "Không có cơ sở nào bị loại khỏi danh sách." in empty


def test_pdf_is_landscape_a4_with_embedded_fonts_and_numbered_pages(tmp_path: Path) -> None:
    reader = PdfReader(render_pdf("danh_sach_co_so", create_context(), tmp_path / "ds.pdf").path)
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width), 2), round(float(box.height), 2)) == (841.89, 595.28)
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("LiberationSerif" in font["/BaseFont"] for font in fonts)
    assert all("/FontFile2" in font["/FontDescriptor"] for font in fonts)
    second = squash(reader.pages[1].extract_text())
    assert second.startswith("2 ") and "Tên cơ sở Mã số thuế" in second  # page number, repeated header
    first = squash(reader.pages[0].extract_text())
    assert not first.startswith("1 ")
    assert not first.endswith("II. DANH SÁCH CƠ SỞ DỰ KIẾN KIỂM TRA")  # the heading goes with its table


def test_pdf_text_is_drawn_nfc_from_nfd_input(tmp_path: Path) -> None:
    first = render_pdf("danh_sach_co_so", create_context(), tmp_path / "a.pdf")
    nfd = render_pdf("danh_sach_co_so", to_nfd(create_context()), tmp_path / "nfd.pdf")
    raw = " ".join(page.extract_text() for page in PdfReader(nfd.path).pages)
    assert not [c for c in raw if unicodedata.combining(c)]
    assert DIACRITICS in re.sub(r"\s+", " ", raw)  # as drawn, not re-normalised
    assert nfd.sha256 == first.sha256
    assert render_pdf("danh_sach_co_so", create_context(), tmp_path / "b.pdf").sha256 == first.sha256


def test_pdf_render_does_not_mutate_the_context(tmp_path: Path) -> None:
    context = create_context(n=12)
    before = copy.deepcopy(context)
    render_pdf("danh_sach_co_so", context, tmp_path / "ds.pdf")
    assert context == before
    assert template_version("danh_sach_co_so")


def test_missing_row_key_is_named(tmp_path: Path) -> None:
    context = create_context(n=12)
    del context["rows"][3]["kind_vi"]
    with pytest.raises(TemplateError, match="kind_vi"):
        render_pdf("danh_sach_co_so", context, tmp_path / "ds.pdf")
    assert not list(tmp_path.iterdir())


def test_bad_orientation_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = (render_module.TEMPLATES_DIR / "danh_sach_co_so.toml").read_text(encoding="utf-8")
    (tmp_path / "sideways_list.toml").write_text(
        spec.replace('orientation = "landscape"', 'orientation = "sideways"'), encoding="utf-8")
    monkeypatch.setattr(render_module, "TEMPLATES_DIR", tmp_path)
    with pytest.raises(TemplateError, match="orientation"):
        render_pdf("sideways_list", create_context(n=12), tmp_path / "x.pdf")


# --- XLSX ------------------------------------------------------------------------------------------------

HEADERS = ["TT", "Tên cơ sở", "Mã số thuế", "Địa chỉ (xã)", "Ngành", "Số lao động", *LABELS.values(),
           "Điểm rủi ro", "Loại"]


def test_xlsx_has_one_row_per_establishment_and_points_per_factor(tmp_path: Path) -> None:
    context = create_context()
    out = write_selection_xlsx(context, tmp_path / "ds.xlsx", labels=LABELS)
    assert out == tmp_path / "ds.xlsx"
    book = load_workbook(out)
    assert book.sheetnames == ["Danh sách", "Đã loại", SHEET_BASIS]
    sheet = book["Danh sách"]
    assert sheet.cell(1, 1).value == "DANH SÁCH CƠ SỞ DỰ KIẾN KIỂM TRA"
    assert [c.value for c in sheet[LIST_HEADER_ROW]] == HEADERS
    assert sheet.freeze_panes == f"C{LIST_HEADER_ROW + 1}"
    body = list(sheet.iter_rows(min_row=LIST_HEADER_ROW + 1, values_only=True))
    assert len(body) == len(context["rows"]) == 60
    column = {label: HEADERS.index(label) for label in HEADERS}
    for values, row in zip(body, context["rows"], strict=True):
        assert values[:6] == (row["rank"], row["name"], row["tax_code"], row["commune_vi"], row["sector_vi"],
                              row["workforce"])
        for key, label in LABELS.items():
            assert values[column[label]] == (row["factors"][key] if row["factors"].get(key) else None), (key, row)
        assert values[column["Điểm rủi ro"]] == pytest.approx(row["score"])
        assert values[column["Loại"]] == row["kind_vi"]
    first = context["rows"][0]
    top = max(first["factors"], key=lambda k: first["factors"][k])
    assert sheet.cell(LIST_HEADER_ROW + 1, column[LABELS[top]] + 1).number_format == "0.00"
    assert sheet.cell(LIST_HEADER_ROW + 1, 6).number_format == "#,##0"


def test_xlsx_basis_lines(tmp_path: Path) -> None:
    context = create_context(number="25/KH-SNV")
    book = load_workbook(write_selection_xlsx(context, tmp_path / "ds.xlsx", labels=LABELS))
    sheet = book["Danh sách"]
    lines = [sheet.cell(r, 1).value for r in range(2, LIST_HEADER_ROW - 1)]
    assert all(lines) and sheet.cell(LIST_HEADER_ROW - 1, 1).value is None
    text = "\n".join(lines)
    for expected in ("Kèm theo Kế hoạch số 25/KH-SNV của Sở Nội vụ", POLICY.eligibility_rule_vi,
                     "12.480 bản ghi", "Tổng số cơ sở dự kiến kiểm tra: 60", "Đã loại khỏi danh sách: 2",
                     "từ ngày 02/03/2026 đến ngày 30/06/2026"):
        assert expected in text, expected
    assert "seed" not in text and context["basis"]["registry_fingerprint"] not in text
    # the selection data: a metadata sheet of its own
    assert book.sheetnames == ["Danh sách", "Đã loại", SHEET_BASIS]
    pairs = dict(book[SHEET_BASIS].iter_rows(min_row=PAIRS_HEADER_ROW + 1, values_only=True))
    assert pairs == {"Mã đợt kiểm tra": "KT-2026-01", "Bộ tiêu chí đánh giá rủi ro (phiên bản)": POLICY.version,
                     "Điều kiện lựa chọn": POLICY.eligibility_rule_vi, "Số bản ghi của dữ liệu cơ sở lao động": 12480,
                     "Mã kiểm chứng của dữ liệu (SHA-256)": context["basis"]["registry_fingerprint"],
                     "Giá trị khởi tạo ngẫu nhiên (seed)": "20260302"}


def test_xlsx_removed_sheet(tmp_path: Path) -> None:
    context = create_context()
    sheet = load_workbook(write_selection_xlsx(context, tmp_path / "ds.xlsx", labels=LABELS))["Đã loại"]
    assert [c.value for c in sheet[REMOVED_HEADER_ROW]] == ["TT", "Tên cơ sở", "Mã số thuế", "Lý do loại",
                                                             "Người đề nghị"]
    body = list(sheet.iter_rows(min_row=REMOVED_HEADER_ROW + 1, values_only=True))
    assert body == [(1, "Công ty TNHH Đá ốp lát Trùng Khánh", "4800999001",
                     "Đã được Thanh tra Sở Công Thương kiểm tra tháng 01/2026 (Chỉ thị 20/CT-TTg)", "truongdoan01"),
                    (2, "Hợp tác xã Chè Đức Xuân", "4800999002", "Cơ sở đã giải thể theo thông báo của Sở Tài chính",
                     None)]
    assert sheet.freeze_panes == f"A{REMOVED_HEADER_ROW + 1}"
    empty = load_workbook(write_selection_xlsx(create_context(removed=[]), tmp_path / "e.xlsx", labels=LABELS))
    assert empty["Đã loại"].max_row == REMOVED_HEADER_ROW


def test_xlsx_text_is_nfc_and_never_a_formula(tmp_path: Path) -> None:
    context = to_nfd(create_context(n=12))
    context["rows"][0]["name"] = '=HYPERLINK("http://example.invalid","Bấm vào đây")'
    labels = {k: unicodedata.normalize("NFD", v) for k, v in LABELS.items()}
    sheet = load_workbook(write_selection_xlsx(context, tmp_path / "ds.xlsx", labels=labels))["Danh sách"]
    cell = sheet.cell(LIST_HEADER_ROW + 1, 2)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    for row in sheet.iter_rows(values_only=True):
        for value in row:
            if isinstance(value, str):
                assert value == unicodedata.normalize("NFC", value)
    assert [c.value for c in sheet[LIST_HEADER_ROW]] == HEADERS


def test_xlsx_bytes_do_not_depend_on_the_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_selection_xlsx(create_context(n=12), tmp_path / "a.xlsx", labels=LABELS).read_bytes()
    later = time.time() + 3 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    second = write_selection_xlsx(create_context(n=12), tmp_path / "b.xlsx", labels=LABELS).read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        core = archive.read("docProps/core.xml").decode()
    assert "2026-02-20T00:00:00Z" in core and "openpyxl" not in core


def test_xlsx_refuses_a_factor_without_a_label_and_writes_nothing(tmp_path: Path) -> None:
    context = create_context(n=12)
    context["rows"][2]["factors"] = {**context["rows"][2]["factors"], "made_up": 4.0}
    with pytest.raises(ValueError, match="made_up"):
        write_selection_xlsx(context, tmp_path / "ds.xlsx", labels=LABELS)
    assert not list(tmp_path.iterdir())


def test_xlsx_is_replaced_atomically(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "ds.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"old")
    write_selection_xlsx(create_context(n=12), out, labels=LABELS)
    assert out.read_bytes().startswith(b"PK") and [p.name for p in out.parent.iterdir()] == ["ds.xlsx"]

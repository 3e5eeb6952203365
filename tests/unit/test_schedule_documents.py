"""The documents issued after scheduling: quyết định kiểm tra (with the teams), kế hoạch tiến hành kiểm tra (one
team's schedule) and thông báo kiểm tra (to one establishment)."""
from __future__ import annotations

import copy
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.pdf_support import squash, text_of, to_nfd

from services.documents import load_template, render_pdf, template_version
from services.errors import TemplateError
from services.documents.format import expand, weekday_vi

TEMPLATES = ("quyet_dinh_kiem_tra", "ke_hoach_kiem_tra", "thong_bao_kiem_tra")
# every Vietnamese letter with a diacritic (short words: a narrow table cell breaks a long one mid-word)
DIACRITICS = "ắằẳ ẵặấ ầẩẫ ậếề ểễệ ốồổ ỗộớ ờởỡ ợứừ ửữự ýỳỷ ỹỵđ ẮẰẲ ẴẶẤ ẦẨẪ ẬẾỀ ỂỄỆ ỐỒỔ ỖỘỚ ỜỞỠ ỢỨỪ ỬỮỰ ÝỲỶ ỸỴĐ"
COMMUNES = ("phường Thục Phán", "phường Nùng Trí Cao", "xã Quảng Lâm", "xã Lý Bôn", "xã Bảo Lạc",
            "xã Tĩnh Túc", "xã Nguyên Bình", "xã Hà Quảng")
NAMES = ("Công ty TNHH Khai thác đá Ngọc Xuân", "Công ty Cổ phần Xi măng Quang Sơn", "Hợp tác xã Chế biến gỗ Đức Thịnh",
         "Doanh nghiệp tư nhân Xây dựng Phượng Hoàng", "Công ty TNHH Thủy điện Bắc Vọng",
         "Công ty Cổ phần May mặc Thành Công", "Hộ kinh doanh Nông Văn Được")
CONTENT = [
    "Việc thực hiện các quy định về tổ chức bộ máy, người làm công tác an toàn, vệ sinh lao động, y tế tại cơ sở",
    "Việc huấn luyện an toàn, vệ sinh lao động và cấp thẻ an toàn",
    "Việc kiểm định, sử dụng máy, thiết bị có yêu cầu nghiêm ngặt về an toàn, vệ sinh lao động",
    "Việc khám sức khỏe định kỳ, khám phát hiện bệnh nghề nghiệp cho người lao động",
    "Việc quan trắc môi trường lao động và quản lý các yếu tố nguy hiểm, có hại",
]
DOCUMENTS = [
    "Quyết định thành lập hoặc phân công bộ phận, người làm công tác an toàn, vệ sinh lao động và y tế",
    "Hồ sơ huấn luyện an toàn, vệ sinh lao động; danh sách người được cấp thẻ an toàn",
    "Danh mục, hồ sơ kiểm định máy, thiết bị có yêu cầu nghiêm ngặt về an toàn, vệ sinh lao động",
    "Kết quả quan trắc môi trường lao động trong 12 tháng gần nhất",
    "Sổ thống kê, báo cáo tai nạn lao động; biên bản điều tra tai nạn lao động (nếu có)",
]
DECISION_REF = "Quyết định số 15/QĐ-UBND ngày 10/02/2026 của Chủ tịch Ủy ban nhân dân tỉnh Cao Bằng"


def member(full_name: str, title: str, agency: str, role_vi: str = "Thành viên") -> dict[str, str]:
    return {"full_name": full_name, "title": title, "agency": agency, "role_vi": role_vi}


TEAMS = [
    {"name": "Đoàn kiểm tra liên ngành số 1", "members": [
        member("Nông Thị Hường", "Phó Giám đốc", "Sở Nội vụ", "Trưởng đoàn"),
        member("Lục Thị Ánh Tuyết", "Trưởng phòng Lao động - Việc làm", "Sở Nội vụ", "Phó Trưởng đoàn"),
        member("Hoàng Văn Đức", "Chuyên viên", "Sở Y tế"),
        member("Bế Thanh Tịnh", "Thanh tra viên", "Sở Nội vụ"),
        member("Đàm Thị Ngọc Ánh", "Cán bộ", "Liên đoàn Lao động tỉnh")]},
    {"name": "Đoàn kiểm tra liên ngành số 2", "members": [
        member("Triệu Quốc Khánh", "Chánh Thanh tra", "Sở Nội vụ", "Trưởng đoàn"),
        member("Ma Thị Quỳnh", "Phó Trưởng phòng Nghiệp vụ Y", "Sở Y tế"),
        member("La Văn Ổn", "Chuyên viên", "Ban Quản lý Khu kinh tế tỉnh"),
        member("Hà Thị Yến", "Chuyên viên", "Bảo hiểm xã hội tỉnh")]},
    {"name": "Đoàn kiểm tra liên ngành số 3", "members": [
        member("Lương Văn Thượng", "Phó Giám đốc", "Sở Y tế", "Trưởng đoàn"),
        member("Mông Thị Lụa", "Thanh tra viên", "Sở Nội vụ"),
        member("Sầm Văn Ước", "Chuyên viên", "Sở Công Thương"),
        member("Đinh Thị Hằng", "Chuyên viên", "Sở Xây dựng"),
        member("Dương Ngọc Sơn", "Cán bộ", "Công an tỉnh"),
        member("Vi Thị Ỷ", "Chuyên viên", "Sở Nội vụ")]},
    {"name": "Đoàn kiểm tra liên ngành số 4", "members": [
        member("Nguyễn Hữu Nghị", "Phó Chánh Thanh tra", "Sở Nội vụ", "Trưởng đoàn"),
        member("Phùng Thị Ưng", "Chuyên viên", "Sở Y tế")]},
]


def create_common(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "issuer": {"parent_name": "UBND tỉnh Cao Bằng", "name": "Sở Nội vụ", "code": "SNV", "place": "Cao Bằng"},
        "number": "25/KH-SNV",
        "issued_on": date(2026, 2, 12),
        "campaign": {
            "code": "KT-2026-01", "title": "Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026",
            "legal_basis": [
                "Luật An toàn, vệ sinh lao động ngày 25 tháng 6 năm 2015",
                "Nghị định số 12/2022/NĐ-CP ngày 17 tháng 01 năm 2022 của Chính phủ quy định xử phạt vi phạm hành "
                "chính trong lĩnh vực lao động, bảo hiểm xã hội, người lao động Việt Nam đi làm việc ở nước ngoài "
                "theo hợp đồng",
                "Chỉ thị số 20/CT-TTg ngày 17 tháng 5 năm 2017 của Thủ tướng Chính phủ về việc chấn chỉnh hoạt động "
                "thanh tra, kiểm tra đối với doanh nghiệp",
            ],
            "period_start": date(2026, 3, 2), "period_end": date(2026, 4, 30), "duration_working_days": 45,
            "area_vi": "tỉnh Cao Bằng", "content_vi": list(CONTENT), "establishments_count": 96,
        },
    }
    context.update(overrides)
    return context


def create_decision(**overrides: Any) -> dict[str, Any]:
    context = create_common(
        issuer={"parent_name": "", "name": "Ủy ban nhân dân tỉnh Cao Bằng", "code": "UBND", "place": "Cao Bằng"},
        number="15/QĐ-UBND", issued_on=date(2026, 2, 10), teams=copy.deepcopy(TEAMS),
        signer={"full_name": "Lê Hải Hòa", "title": "Chủ tịch"},
        plan_ref="Kế hoạch kiểm tra liên ngành KT-2026-01", proposed_by="Giám đốc Sở Nội vụ",
        report_working_days=10, drafting_unit="SNV")
    context.update(overrides)
    return context


def schedule_rows(n: int = 30) -> list[dict[str, Any]]:
    start = date(2026, 3, 3)  # weekdays from Tuesday 3 March (no holiday in the range used)
    days = [d for d in (start + timedelta(days=i) for i in range(40)) if d.weekday() < 5]
    rows = []
    for i in range(n):
        name = f"{NAMES[i % len(NAMES)]} số {i + 1}"
        if i == 4:
            name = "Chi nhánh Công ty Cổ phần Xi măng & Vật liệu <Cao Bằng> tại xã Hòa An"
        if i == 9:
            name = f"Hộ kinh doanh Nông Văn Được (thôn {DIACRITICS})"
        rows.append({"date": days[i // 2], "time_vi": ("08:00", "14:00")[i % 2],
                     "commune_vi": COMMUNES[i // 4 % len(COMMUNES)], "establishment_name": name,
                     "tax_code": f"48{i * 7919 % 10**8:08d}" + ("-001" if i == 4 else ""),
                     "address": f"Tổ {i % 9 + 1}, {COMMUNES[i // 4 % len(COMMUNES)]}, tỉnh Cao Bằng"})
    return rows


def team_with_head(index: int = 0) -> dict[str, Any]:
    team = copy.deepcopy(TEAMS[index])
    head = team["members"][0]
    team["head"] = {"full_name": head["full_name"], "title": head["title"], "agency": head["agency"],
                    "phone": "0206 3852 123"}
    return team


TEAM_ISSUER = {"parent_name": "UBND tỉnh Cao Bằng", "name": "Đoàn kiểm tra liên ngành số 1", "code": "DKT-1-1",
               "place": "Cao Bằng"}  # a team's documents: the team is their one issuer


def create_plan(**overrides: Any) -> dict[str, Any]:
    team = team_with_head()
    context = create_common(issuer=dict(TEAM_ISSUER), number="25/KH-ĐKT", decision_ref=DECISION_REF, team=team,
                            schedule=schedule_rows(), lead_agency="SỞ NỘI VỤ", drafting_unit="ĐKT",
                            signer={"full_name": team["head"]["full_name"], "title": "Trưởng đoàn"})
    context.update(overrides)
    return context


def create_notice(**overrides: Any) -> dict[str, Any]:
    team = team_with_head()
    context = create_common(
        issuer=dict(TEAM_ISSUER), number="31/TB-ĐKT", issued_on=date(2026, 2, 13), decision_ref=DECISION_REF,
        drafting_unit="ĐKT",
        establishment={"name": "Công ty TNHH Khoáng sản Ngọc Xuân & Cộng sự <CB>", "tax_code": "4800123456-001",
                       "address": f"Tổ 3, phường Thục Phán, tỉnh Cao Bằng (xóm {DIACRITICS})",
                       "legal_representative": "Đàm Quốc Khánh", "representative_title": "Giám đốc"},
        visit={"date": date(2026, 3, 10), "time_vi": "14:00", "team_name": team["name"],
               "head": {k: team["head"][k] for k in ("full_name", "title", "phone")}},
        documents_to_prepare=list(DOCUMENTS),
        signer={"full_name": team["head"]["full_name"], "title": "Trưởng đoàn"})
    context.update(overrides)
    return context


CREATE = {"quyet_dinh_kiem_tra": create_decision, "ke_hoach_kiem_tra": create_plan,
          "thong_bao_kiem_tra": create_notice}








def render(template: str, tmp_path: Path, context: dict[str, Any] | None = None) -> tuple[Any, str]:
    doc = render_pdf(template, context if context is not None else CREATE[template](), tmp_path / f"{template}.pdf")
    return doc, text_of(doc.path)


# --- weekday formatter -----------------------------------------------------------------------------------

def test_weekday_names() -> None:
    monday = date(2026, 3, 9)
    assert [weekday_vi(monday + timedelta(days=i)) for i in range(7)] == [
        "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]
    assert expand("{d|weekday}, {d|short}", [{"d": date(2026, 3, 10)}], template="t")[1] == "Thứ Ba, 10/03/2026"
    with pytest.raises(TemplateError, match="d"):
        expand("{d|weekday}", [{"d": "10/03/2026"}], template="t")


# --- quyết định kiểm tra ---------------------------------------------------------------------------------

def test_decision_header_basis_and_articles(tmp_path: Path) -> None:
    doc, text = render("quyet_dinh_kiem_tra", tmp_path)
    for expected in ("ỦY BAN NHÂN DÂN TỈNH CAO BẰNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Số: 15/QĐ-UBND", "Cao Bằng, ngày 10 tháng 02 năm 2026",
                     "QUYẾT ĐỊNH Về việc kiểm tra liên ngành về an toàn, vệ sinh lao động và thành lập Đoàn kiểm "
                     "tra liên ngành", "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH CAO BẰNG",
                     "Căn cứ Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025;",
                     "Căn cứ Kế hoạch kiểm tra liên ngành KT-2026-01 (Kiểm tra liên ngành về an toàn, vệ sinh lao "
                     "động năm 2026); Theo đề nghị của Giám đốc Sở Nội vụ. QUYẾT ĐỊNH:", "Điều 1.",
                     "96 cơ sở lao động trên địa bàn tỉnh Cao Bằng",
                     "từ ngày 02/03/2026 đến ngày 30/04/2026",
                     "45 (bốn mươi lăm) ngày làm việc kể từ ngày công bố Quyết định",
                     "Điều 2.", "(4 Đoàn)", "Điều 3.", "10 (mười) ngày làm việc kể từ ngày kết thúc kiểm tra",
                     "Điều 4.", "Nơi nhận:", "Như Điều 4;", "Lưu: VT, SNV. CHỦ TỊCH Lê Hải Hòa"):
        assert expected in text, expected
    for basis in create_decision()["campaign"]["legal_basis"]:
        assert text.count(f"Căn cứ {basis};") == 1, basis  # the campaign's own basis, each once
    assert text.count("Luật An toàn, vệ sinh lao động") == 1 and "664/KH-UBND" not in text
    for content in CONTENT:
        assert f"- {content};" in text, content
    assert text.index("Điều 1.") < text.index("Điều 2.") < text.index("Điều 3.") < text.index("Điều 4.")
    assert "KT. CHỦ TỊCH" not in text
    assert doc.pages >= 2


def test_decision_lists_every_team_with_its_members(tmp_path: Path) -> None:
    _, text = render("quyet_dinh_kiem_tra", tmp_path)
    article2, article3 = text.index("Điều 2."), text.index("Điều 3.")
    positions = []
    for number, team in enumerate(TEAMS, start=1):
        heading = f"{number}. {team['name']}"
        assert text.count(heading) == 1, heading
        positions.append(text.index(heading))
        for i, m in enumerate(team["members"], start=1):
            row = squash(f"{i} {m['full_name']} {m['title']} {m['agency']} {m['role_vi']}")
            assert row in text[positions[-1]:article3], row
    assert article2 < positions[0] and positions == sorted(positions) and positions[-1] < article3
    assert text.count("TT Họ và tên Chức vụ Cơ quan Chức danh trong Đoàn") >= len(TEAMS)  # a table per team


def test_decision_signed_by_a_delegate(tmp_path: Path) -> None:
    context = create_decision(signer={"full_name": "Trịnh Trường Huy", "title": "Phó Chủ tịch", "for_title": "Chủ tịch"})
    _, text = render("quyet_dinh_kiem_tra", tmp_path, context)
    assert "Lưu: VT, SNV. KT. CHỦ TỊCH PHÓ CHỦ TỊCH Trịnh Trường Huy" in text


# --- kế hoạch tiến hành kiểm tra -------------------------------------------------------------------------

def test_plan_carries_every_schedule_row(tmp_path: Path) -> None:
    context = create_plan()
    doc, text = render("ke_hoach_kiem_tra", tmp_path, context)
    assert doc.pages >= 3
    section = text.index("III. LỊCH KIỂM TRA")
    assert "TT Ngày Giờ Xã/phường Tên cơ sở Mã số thuế Địa chỉ" in text[section:]
    for i, row in enumerate(context["schedule"], start=1):
        cells = [str(i), f"{weekday_vi(row['date'])}, {row['date']:%d/%m/%Y}", row["time_vi"], row["commune_vi"],
                 row["establishment_name"], row["tax_code"], row["address"]]
        expected = squash(" ".join(cells))
        assert text.count(expected) == 1 and text.index(expected) > section, expected
    assert "Thứ Ba, 03/03/2026 08:00" in text and "Thứ Hai, 09/03/2026" in text  # weekdays
    assert "Chủ nhật" not in text and "Thứ Bảy" not in text  # working days only
    reader = PdfReader(doc.path)
    later = [squash(page.extract_text()) for page in reader.pages[1:]]
    assert all(page.split(" ")[0] == str(n) for n, page in enumerate(later, start=2))  # numbered pages
    assert sum("TT Ngày Giờ Xã/phường" in page for page in later) >= 1  # the table header repeats


def test_plan_sections_team_and_signature(tmp_path: Path) -> None:
    _, text = render("ke_hoach_kiem_tra", tmp_path)
    heads = ["I. MỤC ĐÍCH, YÊU CẦU", "II. ĐỐI TƯỢNG, NỘI DUNG, THỜI GIAN, ĐỊA ĐIỂM, PHƯƠNG PHÁP KIỂM TRA",
             "III. LỊCH KIỂM TRA", "IV. PHÂN CÔNG NHIỆM VỤ", "V. TỔ CHỨC THỰC HIỆN VÀ ĐIỀU KIỆN BẢO ĐẢM"]
    assert [text.index(h) for h in heads] == sorted(text.index(h) for h in heads)
    for expected in ("UBND TỈNH CAO BẰNG ĐOÀN KIỂM TRA LIÊN NGÀNH SỐ 1", "Số: 25/KH-ĐKT",
                     "Cao Bằng, ngày 12 tháng 02 năm 2026",
                     "KẾ HOẠCH Tiến hành kiểm tra liên ngành về an toàn, vệ sinh lao động của Đoàn kiểm tra liên "
                     "ngành số 1", f"Thực hiện {DECISION_REF}", "1. Đối tượng kiểm tra: 30 cơ sở lao động",
                     "3. Thời gian kiểm tra: từ ngày 02/03/2026 đến ngày 30/04/2026",
                     "Đầu mối liên hệ: Nông Thị Hường, Phó Giám đốc, Sở Nội vụ; điện thoại: 0206 3852 123",
                     "- Sở Nội vụ (để báo cáo);",
                     "Lưu: VT, ĐKT. TRƯỞNG ĐOÀN Nông Thị Hường"):
        assert expected in text, expected
    assert "(Ký, ghi rõ họ tên)" not in text and "SỞ NỘI VỤ" not in text  # only records carry the note
    for content in CONTENT:
        assert f"- {content};" in text, content
    assignment = text.index("IV. PHÂN CÔNG NHIỆM VỤ")
    for i, m in enumerate(TEAMS[0]["members"], start=1):
        row = squash(f"{i} {m['full_name']} {m['title']} {m['agency']} {m['role_vi']}")
        assert row in text[assignment:], row


def test_plan_without_a_phone_prints_a_dotted_line(tmp_path: Path) -> None:
    context = create_plan()
    context["team"]["head"]["phone"] = ""
    _, text = render("ke_hoach_kiem_tra", tmp_path, context)
    assert "điện thoại: ……………" in text


# --- thông báo kiểm tra ----------------------------------------------------------------------------------

def test_notice_to_the_establishment(tmp_path: Path) -> None:
    context = create_notice()
    doc, text = render("thong_bao_kiem_tra", tmp_path, context)
    e = context["establishment"]
    for expected in ("UBND TỈNH CAO BẰNG ĐOÀN KIỂM TRA LIÊN NGÀNH SỐ 1", "Số: 31/TB-ĐKT",
                     "Cao Bằng, ngày 13 tháng 02 năm 2026",
                     "THÔNG BÁO Về việc kiểm tra liên ngành về an toàn, vệ sinh lao động",
                     f"Kính gửi: {e['name']}", f"Thực hiện {DECISION_REF}",
                     f"mã số thuế: {e['tax_code']}; địa chỉ: {squash(e['address'])}",
                     "vào hồi 14 giờ 00 phút, Thứ Ba, ngày 10 tháng 3 năm 2026 (10/03/2026)",
                     "Đoàn kiểm tra liên ngành số 1, do Nông Thị Hường, Phó Giám đốc, làm Trưởng đoàn; "
                     "điện thoại liên hệ: 0206 3852 123",
                     "đề nghị Đàm Quốc Khánh, Giám đốc, người đại diện theo pháp luật",
                     "hoặc người được ủy quyền bằng văn bản", "Lưu: VT, ĐKT. TRƯỞNG ĐOÀN Nông Thị Hường"):
        assert expected in text, expected
    assert "(Ký, ghi rõ họ tên)" not in text
    prepare = text.index("5. Hồ sơ, tài liệu cơ sở cần chuẩn bị:")
    for item in DOCUMENTS:
        assert f"- {item};" in text[prepare:], item
    assert doc.pages <= 2


def test_notice_without_documents_or_phone(tmp_path: Path) -> None:
    context = create_notice(documents_to_prepare=[])
    context["visit"]["head"]["phone"] = ""
    _, text = render("thong_bao_kiem_tra", tmp_path, context)
    assert "Theo yêu cầu của Đoàn kiểm tra tại buổi làm việc." in text
    assert "điện thoại liên hệ: ……………" in text


# --- all three -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("template", TEMPLATES)
def test_text_intact_a4_fonts_embedded(template: str, tmp_path: Path) -> None:
    doc, text = render(template, tmp_path)
    assert "■" not in text and "\ufffd" not in text
    reader = PdfReader(doc.path)
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width), 2), round(float(box.height), 2)) == (595.28, 841.89)
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("LiberationSerif" in font["/BaseFont"] for font in fonts)
    assert all("/FontFile2" in font["/FontDescriptor"] for font in fonts)
    assert not squash(reader.pages[0].extract_text()).startswith("1 ")
    if template != "quyet_dinh_kiem_tra":
        assert squash(DIACRITICS) in text


@pytest.mark.parametrize("template", TEMPLATES)
def test_same_context_same_bytes_and_nfd_is_drawn_composed(template: str, tmp_path: Path) -> None:
    first = render_pdf(template, CREATE[template](), tmp_path / "a.pdf")
    assert render_pdf(template, CREATE[template](), tmp_path / "b.pdf").sha256 == first.sha256
    nfd = render_pdf(template, to_nfd(CREATE[template]()), tmp_path / "nfd.pdf")
    raw = " ".join(page.extract_text() for page in PdfReader(nfd.path).pages)
    assert not [c for c in raw if unicodedata.combining(c)]
    assert nfd.sha256 == first.sha256


@pytest.mark.parametrize("template", TEMPLATES)
def test_render_does_not_mutate_the_context(template: str, tmp_path: Path) -> None:
    context = CREATE[template]()
    before = copy.deepcopy(context)
    render_pdf(template, context, tmp_path / "d.pdf")
    assert context == before
    assert template_version(template) and load_template(template)["version"] == template_version(template)


@pytest.mark.parametrize(("template", "remove", "key"), [
    ("quyet_dinh_kiem_tra", ("plan_ref",), "plan_ref"),
    ("quyet_dinh_kiem_tra", ("report_working_days",), "report_working_days"),
    ("quyet_dinh_kiem_tra", ("campaign", "duration_working_days"), "campaign.duration_working_days"),
    ("quyet_dinh_kiem_tra", ("teams", 2, "members", 3, "role_vi"), "role_vi"),
    ("ke_hoach_kiem_tra", ("schedule", 17, "tax_code"), "tax_code"),
    ("ke_hoach_kiem_tra", ("team", "head", "phone"), "team.head.phone"),
    ("ke_hoach_kiem_tra", ("decision_ref",), "decision_ref"),
    ("thong_bao_kiem_tra", ("visit", "time_vi"), "visit.time_vi"),
    ("thong_bao_kiem_tra", ("establishment", "legal_representative"), "establishment.legal_representative"),
    ("thong_bao_kiem_tra", ("documents_to_prepare",), "documents_to_prepare"),
    ("thong_bao_kiem_tra", ("signer", "full_name"), "signer.full_name"),
])
def test_missing_key_is_named(template: str, remove: tuple[Any, ...], key: str, tmp_path: Path) -> None:
    context = CREATE[template]()
    holder: Any = context
    for step in remove[:-1]:
        holder = holder[step]
    del holder[remove[-1]]
    with pytest.raises(TemplateError) as caught:
        render_pdf(template, context, tmp_path / "x.pdf")
    assert caught.value.key == key and template in str(caught.value) and key in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_a_bad_block_inside_repeat_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.documents import render as render_module
    spec = (render_module.TEMPLATES_DIR / "quyet_dinh_kiem_tra.toml").read_text(encoding="utf-8")
    (tmp_path / "bad_repeat.toml").write_text(spec.replace('each = "members"', 'each = "members"\nrows = 3'),
                                              encoding="utf-8")
    monkeypatch.setattr(render_module, "TEMPLATES_DIR", tmp_path)
    with pytest.raises(TemplateError, match=re.escape("body[10].blocks[1]")):
        render_pdf("bad_repeat", create_decision(), tmp_path / "x.pdf")


def test_decision_signer_lines_come_from_the_procedure() -> None:
    from services.rules.procedure import procedure_for
    from services.stages.schedule_docs import _signature
    procedure = procedure_for(date(2026, 3, 2))
    assert _signature(procedure, "Chủ tịch Ủy ban nhân dân tỉnh") == {"title": "Chủ tịch"}  # never the body's name
    assert _signature(procedure, "Phó Chủ tịch Ủy ban nhân dân tỉnh") == {"title": "Phó chủ tịch", "for_title": "Chủ tịch"}


def test_agencies_in_tables_and_running_text_are_in_sentence_case(tmp_path: Path) -> None:
    context = create_plan(lead_agency="SỞ NỘI VỤ")
    for m in context["team"]["members"]:
        m["agency"] = m["agency"].upper()
    context["team"]["head"]["agency"] = "SỞ NỘI VỤ"
    _, text = render("ke_hoach_kiem_tra", tmp_path, context)
    assert "SỞ NỘI VỤ" not in text and "SỞ Y TẾ" not in text and "Sở Y tế" in text and "- Sở Nội vụ (để báo cáo);" in text


# --- no guessed honorific: the engine does not record anyone's sex ---------------------------------------

HONORIFIC = re.compile(r"\b(?:Ông|Bà)\s*/\s*(?:Ông|Bà)\b", re.IGNORECASE)


@pytest.mark.parametrize("template", TEMPLATES)
def test_people_are_named_without_a_guessed_honorific(template: str, tmp_path: Path) -> None:
    _, text = render(template, tmp_path)
    assert not HONORIFIC.search(text), HONORIFIC.search(text)
    head = "Nông Thị Hường"
    assert head in text and not re.search(rf"\b(?:Ông|Bà|ông|bà)\s+{head}", text)


def test_the_assignment_message_addresses_members_neutrally() -> None:
    """The message to each team member (services.stages.schedule_docs.issue_plan): "Đồng chí", as civil servants
    are addressed, never "Ông/Bà" (the integration tests run it on a database)."""
    import inspect

    from services.stages import schedule_docs

    source = inspect.getsource(schedule_docs.issue_plan)
    assert not HONORIFIC.search(source)
    assert source.count('f"Đồng chí được phân công tham gia {team[\'name\']}') == 2

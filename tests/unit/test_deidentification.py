"""The register's de-identification guard on made-up rows (no database): names found in free text, a name in a
field or anywhere in a file refused with the field and the decision number (never the name), an organisation's
registered name allowed."""
from __future__ import annotations

import pytest

from services.publishing.register import render_outputs
from services.publishing.deidentify import Protected, check_deidentified, names_in_text
from services.errors import DeidentificationError

ROW = {"so_quyet_dinh": "12/QĐ-XPHC", "ngay_quyet_dinh": "2026-05-18", "co_quan_ban_hanh": "Ủy ban nhân dân tỉnh Cao Bằng",
       "ten_co_so": "Công ty TNHH Minh Phát", "ma_so_thue": "0101234567", "ten_xa": "Phường Thục Phán",
       "ten_tinh": "Tỉnh Cao Bằng", "hanh_vi": "Điểm a khoản 1 Điều 22: 5.000.000 đồng", "tong_tien_phat_vnd": 5_000_000,
       "ngay_cong_khai": "2026-05-18", "thay_the_quyet_dinh": ""}
INSPECTOR = Protected("Nguyễn Văn Hùng", "Person.full_name (thành viên đoàn kiểm tra, mã SNV-TT01)")
VICTIM = Protected("Lê Thị Hoa", "tên người trong InspectionTrigger.note (tai nạn lao động, căn cứ số 2)")


def outputs(rows: list[dict]) -> dict[str, str]:
    from datetime import date

    return render_outputs(rows, today=date(2026, 6, 1), months=36)


def test_names_are_found_in_complaints_and_accident_notes() -> None:
    note = ("Người khiếu nại: ông Trần Văn Bình, công nhân phân xưởng. Nạn nhân Lê Thị Hoa bị thương; "
            "báo cáo của Phạm Quang Huy gửi Sở Nội vụ tỉnh Cao Bằng.")
    found = names_in_text(note)
    assert {"Trần Văn Bình", "Lê Thị Hoa", "Phạm Quang Huy"} <= set(found)
    assert not any(n.startswith(("Sở", "Cao")) for n in found)
    assert names_in_text("Đơn số 12/ĐKN ngày 03/03/2026") == []


def test_clean_rows_pass() -> None:
    rows = [dict(ROW)]
    check_deidentified(rows, outputs(rows), [INSPECTOR, VICTIM])


@pytest.mark.parametrize(("field", "value"), [
    ("hanh_vi", "Điểm a khoản 1 Điều 22 (thanh tra viên Nguyễn Văn Hùng): 5.000.000 đồng"),
    ("ten_co_so", "Công ty TNHH Minh Phát (nạn nhân Lê Thị Hoa)"),
    ("ten_co_so", "Cong ty TNHH Minh Phat - nguyen van hung"),  # without diacritics, in lower case
])
def test_a_name_in_a_field_is_refused_with_the_field_and_the_number_not_the_name(field: str, value: str) -> None:
    rows = [{**ROW, field: value}]
    with pytest.raises(DeidentificationError) as caught:
        check_deidentified(rows, outputs(rows), [INSPECTOR, VICTIM])
    message = caught.value.message
    assert f"«{field}»" in message and "12/QĐ-XPHC" in message and "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15" in message
    assert INSPECTOR.text not in message and VICTIM.text not in message


def test_a_name_anywhere_in_a_file_is_refused() -> None:
    rows = [dict(ROW)]
    files = outputs(rows)
    files["index.html"] = files["index.html"].replace("</main>", "<p>Người lập: Nguyễn Văn Hùng</p></main>")
    with pytest.raises(DeidentificationError, match="tệp index.html"):
        check_deidentified(rows, files, [INSPECTOR])


def test_an_organisations_registered_name_is_public_even_when_it_is_a_persons_name() -> None:
    registered = "Công ty TNHH Nguyễn Văn Hùng"  # named after its founder, a namesake of the inspector
    rows = [{**ROW, "ten_co_so": registered}]
    check_deidentified(rows, outputs(rows), [INSPECTOR], public_names={"12/QĐ-XPHC": registered})
    with pytest.raises(DeidentificationError):  # not the registered name of that decision's establishment: refused
        check_deidentified(rows, outputs(rows), [INSPECTOR], public_names={"99/QĐ-XPHC": registered})

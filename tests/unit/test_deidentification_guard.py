"""The de-identification guard is not fooled by what a reader cannot see (issue 13, point 7): a protected name with a
soft hyphen, a zero-width character, a variation selector or a BOM inside it, or written with Cyrillic or Greek
look-alike letters or fullwidth letters, is still caught — in a row's field and anywhere in a published file —,
while ordinary Vietnamese text still passes."""
from __future__ import annotations

from datetime import date

import pytest

from services.publishing.lookalikes import comparable
from services.publishing.register import render_outputs
from services.publishing.deidentify import Protected, check_deidentified
from services.errors import DeidentificationError

ROW = {"so_quyet_dinh": "12/QĐ-XPHC", "ngay_quyet_dinh": "2026-05-18", "co_quan_ban_hanh": "Ủy ban nhân dân tỉnh Cao Bằng",
       "ten_co_so": "Công ty TNHH Minh Phát", "ma_so_thue": "0101234567", "ten_xa": "Phường Thục Phán",
       "ten_tinh": "Tỉnh Cao Bằng", "hanh_vi": "Điểm a khoản 1 Điều 22: 5.000.000 đồng", "tong_tien_phat_vnd": 5_000_000,
       "ngay_cong_khai": "2026-05-18", "thay_the_quyet_dinh": ""}
INSPECTOR = Protected("Nguyễn Văn Hùng", "Person.full_name (thành viên đoàn kiểm tra, mã SNV-TT01)")
VICTIM = Protected("Hoàng Thị Phương", "tên người trong InspectionTrigger.note (tai nạn lao động, căn cứ số 2)")

DISGUISED = {
    "soft hyphen": "Nguy\u00adễn Văn Hùng",
    "zero-width space": "Nguyễn V\u200băn Hùng",
    "zero-width joiner and non-joiner": "Ng\u200duyễn Văn H\u200cùng",
    "word joiner and BOM": "Nguyễn\u2060 Văn Hù\ufeffng",
    "variation selector": "Nguyễn Văn Hu\ufe0f\u0300ng",
    "Cyrillic o and e": "Nguyễn Văn Hùng".replace("ễ", "\u0435\u0302\u0303"),
    "Cyrillic о in Hoàng": "H\u043eàng Thị Phương",
    "Greek capitals": "\u0397oàng Thị Ρhương",  # Eta for H, Rho for P
    "fullwidth letters": "Ｎｇｕｙễｎ Văn Hùng",
    "Cyrillic, without diacritics": "Nguy\u0435n Van Hung",
    "decomposed, with a soft hyphen": "Nguye\u0302\u0303n Va\u0306n Hu\u0300\u00adng",
}


def outputs(rows: list[dict]) -> dict[str, str]:
    return render_outputs(rows, today=date(2026, 6, 1), months=36)


@pytest.mark.parametrize("case", list(DISGUISED), ids=list(DISGUISED))
def test_a_disguised_name_in_a_field_is_still_caught(case: str) -> None:
    rows = [{**ROW, "hanh_vi": f"Điểm a khoản 1 Điều 22 (người lập: {DISGUISED[case]}): 5.000.000 đồng"}]
    with pytest.raises(DeidentificationError) as caught:
        check_deidentified(rows, outputs(rows), [INSPECTOR, VICTIM])
    assert "«hanh_vi»" in caught.value.message


@pytest.mark.parametrize("case", ["soft hyphen", "zero-width space", "Cyrillic о in Hoàng", "Greek capitals"])
def test_a_disguised_name_anywhere_in_a_file_is_still_caught(case: str) -> None:
    rows = [dict(ROW)]
    files = outputs(rows)
    files["index.html"] = files["index.html"].replace("</main>", f"<p>Người lập: {DISGUISED[case]}</p></main>")
    with pytest.raises(DeidentificationError, match="tệp index.html"):
        check_deidentified(rows, files, [INSPECTOR, VICTIM])


def test_a_disguised_protected_string_is_caught_in_plain_text() -> None:
    """The protected side is brought to the same form: a name stored with a soft hyphen still protects."""
    rows = [{**ROW, "ten_co_so": "Công ty TNHH Minh Phát (Nguyễn Văn Hùng)"}]
    with pytest.raises(DeidentificationError):
        check_deidentified(rows, outputs(rows), [Protected("Nguy\u00adễn V\u200băn Hùng", INSPECTOR.source)])


@pytest.mark.parametrize("text", [
    "Công ty TNHH Minh Phát", "Hợp tác xã Nông nghiệp Hưng Đạo", "Điểm a khoản 1 Điều 22: 5.000.000 đồng",
    "Công ty CP Xây dựng Nguyễn Văn (chi nhánh Cao Bằng)", "Hùng Vương, phường Thục Phán",
    "Cơ sở sản xuất Phương Nam — Hoàng Gia",
])
def test_ordinary_text_is_not_flagged(text: str) -> None:
    rows = [{**ROW, "ten_co_so": text}]
    check_deidentified(rows, outputs(rows), [INSPECTOR, VICTIM])


def test_the_comparable_form_keeps_vietnamese_letters_and_drops_only_what_is_unseen() -> None:
    assert comparable("Nguyễn  Văn\u00a0Hùng") == "nguyễn văn hùng"
    assert comparable("Đặng Thị Ánh") == "đặng thị ánh"
    assert comparable("H\u043e\u00adàng") == comparable("Hoàng") == "hoàng"
    assert comparable("ΗΟΑΝG") == "hoang" and comparable("ηgày") == "ngày"

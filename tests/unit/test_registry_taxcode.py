"""Tax codes (MST): python-stdnum checks them; the stored form and the Vietnamese reasons are ours."""
from __future__ import annotations

import pytest
from stdnum.vn import mst

from services.registry.columns import CellError, read_tax_code
from services.registry.taxcode import is_valid_tax_code, tax_code_problem


@pytest.mark.parametrize(("text", "reason"), [
    ("0100233488", None),
    ("0314409058-002", None),
    ("0100233480", "Mã số thuế 0100233480 sai chữ số kiểm tra (chữ số thứ 10 phải là 8)"),
    ("0100000008", "Mã số thuế 0100000008 không hợp lệ: 7 chữ số thứ tự (3–9) không được đều là 0"),
    ("0314409058-000", "Mã số thuế 0314409058-000 không hợp lệ: mã chi nhánh không được là 000"),
    ("0100000050", "Mã số thuế 0100000050 sai chữ số kiểm tra (không mã số thuế nào bắt đầu bằng 010000005)"),
    ("01OO233488", "Mã số thuế '01OO233488' sai định dạng: cần 10 chữ số, hoặc 10 chữ số-3 chữ số chi nhánh"),
])
def test_each_refusal_says_why_in_vietnamese(text, reason):
    assert tax_code_problem(text) == reason
    assert is_valid_tax_code(text) is (reason is None)


@pytest.mark.parametrize("text", ["01.00.233.488", "0100 233 488", "0100233488002", "０１００２３３４８８", "0314409058 - 002"])
def test_what_stdnum_accepts_but_the_registry_does_not_store(text):
    # stdnum strips separators and folds full-width digits; the registry keeps one written form per establishment
    assert mst.is_valid(text)
    assert tax_code_problem(text) == (
        f"Mã số thuế '{text}' sai định dạng: cần 10 chữ số, hoặc 10 chữ số-3 chữ số chi nhánh")


def test_the_import_cell_keeps_the_reasons_and_restores_a_dropped_leading_zero():
    assert read_tax_code(100233488) == "0100233488"  # Excel made the code a number
    with pytest.raises(CellError, match="chữ số thứ 10 phải là 8"):
        read_tax_code("0100233480")

"""Registry import from Vietnamese CSV/XLSX spreadsheets: the error report, all-or-nothing, upsert by tax code."""
from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from models import AuditEvent
from models.establishment import ESTABLISHMENT_COLUMNS, Establishment
from models.registry import RegistryImport
from services.db import get_engine, session_scope
from services.demo.registry import generate_registry
from services.registry.fingerprint import with_derived
from services.registry.export import export_registry_csv
from services.registry.importer import import_registry
from services.registry.reading import read_rows
from services.errors import RegistryImportRejected
from services.settings import Settings
from tests.factories import count

DATA = Path(__file__).resolve().parents[1] / "data"
TODAY = date(2026, 3, 1)

HEADERS = ["Mã số thuế", "Tên cơ sở", "Địa chỉ", "Mã tỉnh", "Mã xã", "Ngành kinh tế (VSIC)", "Số lao động", "Loại hình",
           "Loại điều kiện lao động cao nhất", "Số lao động làm nghề NNĐHNH", "Số máy, thiết bị có yêu cầu nghiêm ngặt",
           "Ngày khám sức khỏe định kỳ gần nhất", "Tỷ lệ mẫu quan trắc không đạt"]

CSV_ERRORS = [
    (3, "Mã số thuế", "Mã số thuế 0490090057 sai chữ số kiểm tra (chữ số thứ 10 phải là 6)"),
    (4, "Mã xã", "Mã xã 99999 không có trong danh mục xã, phường của tỉnh Cao Bằng"),
    (5, "Mã xã", "Mã xã 06040 (xã Thất Khê) thuộc tỉnh Lạng Sơn, không thuộc tỉnh Cao Bằng"),
    (6, "Số máy, thiết bị có yêu cầu nghiêm ngặt", "Số âm không hợp lệ: -2 (phải ≥ 0)"),
    (7, "Số lao động", "'mười' không phải là số"),
    (8, "Ngày khám sức khỏe định kỳ gần nhất", "Ngày 01/01/2099 ở tương lai (hôm nay là 01/03/2026)"),
    (9, "Số lao động làm nghề NNĐHNH", "Số lao động làm nghề NNĐHNH (120) lớn hơn Số lao động (100)"),
    (10, "Mã số thuế", "Mã số thuế 0464897453 trùng với dòng 11"),
    (11, "Mã số thuế", "Mã số thuế 0464897453 trùng với dòng 10"),
    (12, "Tên cơ sở", "Ô bắt buộc nhưng để trống"),
]


def _counts(settings: Settings) -> tuple[int, int, int]:
    with session_scope(settings) as session:
        return count(session, Establishment), count(session, RegistryImport), count(session, AuditEvent)


def _stored(settings: Settings) -> dict[str, dict[str, Any]]:
    table = Establishment.__table__  # type: ignore[attr-defined]
    with session_scope(settings) as session:
        return {r["tax_code"]: dict(r) for r in session.execute(sa.select(table)).mappings()}


@contextmanager
def _writes_to_establishments(settings: Settings) -> Iterator[list[str]]:
    """The INSERT/UPDATE/DELETE statements sent for the establishment table while the block runs."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = statement.lstrip().split(None, 3)
        if head and head[0] in ("INSERT", "UPDATE", "DELETE") and "establishment" in statement.split("(")[0].split():
            seen.append(statement)
    engine = get_engine(settings)
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def _registry_csv(path: Path, n: int, seed: int = 3) -> list[dict[str, Any]]:
    rows = list(generate_registry(n, province_codes=["04", "20"], seed=seed, as_of=TODAY))
    export_registry_csv(rows, path)
    return rows


def _rewrite_csv(src: Path, dst: Path, edit: Any, keep: list[str] | None = None) -> None:
    with src.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with dst.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keep or list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        for i, row in enumerate(rows):
            edit(i, row)
            writer.writerow(row)


# --- the error report -----------------------------------------------------------------------------------------

def test_csv_with_errors_reports_every_problem_and_stores_nothing(settings: Settings) -> None:
    with pytest.raises(RegistryImportRejected) as exc:
        import_registry(settings, DATA / "registry_errors.csv", actor="chuyenvien", today=TODAY)

    report = exc.value.report
    assert [(e.row, e.column, e.reason) for e in report.errors] == CSV_ERRORS
    assert report.rows == 13 and report.rejected_rows == {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
    assert "Không nhập registry_errors.csv: 10 lỗi ở 10 dòng" in exc.value.message
    assert report.to_csv().splitlines()[:2] == [
        "Dòng,Cột,Giá trị,Lỗi", "3,Mã số thuế,0490090057,Mã số thuế 0490090057 sai chữ số kiểm tra (chữ số thứ 10 phải là 6)"]
    assert "     7  Số lao động" in report.to_table()
    assert _counts(settings) == (0, 0, 0)


def test_xlsx_with_errors_reports_every_problem_and_stores_nothing(settings: Settings, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    addr = "Số 1, phường Thục Phán, tỉnh Cao Bằng"
    for row in [
        [462290173, "Công ty TNHH Cơ khí Minh Phát", addr, 4, 1273, 25, 45, "Doanh nghiệp", 4, 12, 3, datetime(2026, 1, 15), 0.1],
        ["0490090057", "Công ty A", addr, "04", "01279", "41", 30, None, 5, 10, 2, None, None],
        ["0474178708", "Hợp tác xã B", addr, "04", 99999, "01", 12, "Hợp tác xã", 3, 0, 0, None, None],
        ["0479519359", "Công ty C", addr, "04", "06040", "46", 8, "DN", 2, 0, 0, None, None],
        ["0494245021", "Công ty D", addr, "04", "01288", "49", 20, None, 4, 5, -2, None, None],
        ["0473989862", "Hộ kinh doanh E", addr, "04", "01304", "56", "mười", "Hộ kinh doanh", 1, 0, 0, None, None],
        ["0446562278", "Công ty F", addr, "04", "01288", "08", 60, None, 6, 40, 8, datetime(2099, 1, 1), 0.2],
        ["0494335677", "Công ty G", addr, "04", "01279", "14", 100, None, 4, 120, 0, None, None],
        ["0464897453", "Công ty H", addr, "04", "01304", "16", 15, None, 4, 5, 1, None, None],
        ["0464897453", "Công ty H 2", addr, "04", "01304", "16", 15, None, 4, 5, 1, None, None],
        ["0111320608-002", None, addr, "04", "01288", "47", 5, None, 1, None, None, None, None],
        ["0111320608-001", "Chi nhánh I", addr, "04", "01273", "43", 2.5, None, 5, 0, 0, None, None],
        ["0462290173-001", "Hợp tác xã K", addr, "04", "01304", "01", 9, "htx", 2, 0, 0, 45123, None],
    ]:
        sheet.append(row)
    path = tmp_path / "so_dang_ky.xlsx"
    book.save(path)

    with pytest.raises(RegistryImportRejected) as exc:
        import_registry(settings, path, actor="chuyenvien", today=TODAY)

    assert [(e.row, e.column, e.reason) for e in exc.value.report.errors] == CSV_ERRORS + [
        (13, "Số lao động", "Phải là số nguyên, không có phần thập phân: 2.5"),
        (14, "Ngày khám sức khỏe định kỳ gần nhất",
         "Ô chứa số 45123, không phải ngày: định dạng ô là ngày hoặc ghi dd/mm/yyyy"),
    ]
    assert _counts(settings) == (0, 0, 0)

    result = import_registry(settings, path, actor="chuyenvien", valid_only=True, today=TODAY)
    assert (result.inserted, result.rejected) == (1, 12)
    row = _stored(settings)["0462290173"]  # Excel dropped the leading zeros of the codes; they are restored
    assert (row["province_code"], row["commune_code"], row["sector_vsic"]) == ("04", "01273", "25")
    assert (row["last_health_exam_on"], row["monitoring_failing_ratio"], row["working_condition_class_max"]) == (
        date(2026, 1, 15), 0.1, 4)


def test_valid_only_imports_exactly_the_valid_rows(settings: Settings) -> None:
    result = import_registry(settings, DATA / "registry_errors.csv", actor="chuyenvien", valid_only=True, today=TODAY)

    assert (result.rows, result.inserted, result.updated, result.unchanged, result.rejected) == (13, 3, 0, 0, 10)
    assert [(e.row, e.column, e.reason) for e in result.report.errors] == CSV_ERRORS
    stored = _stored(settings)
    assert set(stored) == {"0462290173", "0111320608-001", "0462290173-001"}
    branch = stored["0111320608-001"]
    assert {k: branch[k] for k in ("province_code", "commune_code", "workforce", "ownership", "working_condition_class_max",
                                   "hazardous_workers", "monitoring_failing_ratio", "last_health_exam_on")} == {
        "province_code": "04", "commune_code": "01273", "workforce": 1234, "ownership": "enterprise",
        "working_condition_class_max": 5, "hazardous_workers": 300, "monitoring_failing_ratio": 0.125,
        "last_health_exam_on": date(2025, 11, 30)}
    coop = stored["0462290173-001"]
    assert coop["name"] == "Hợp tác xã Dịch vụ nông nghiệp Hòa An"  # NFC, although the file has it decomposed
    assert coop["address"] == "Thôn 6, xã Quảng Lâm, tỉnh Cao Bằng"  # line break and double space collapsed
    assert (coop["ownership"], coop["legal_representative"], coop["accidents_3y"]) == ("cooperative", "", 0)
    with session_scope(settings) as session:
        entry = session.get(RegistryImport, result.import_id)
        assert entry is not None
        assert (entry.source, entry.rows, entry.inserted, entry.rejected, entry.imported_by) == (
            "registry_errors.csv", 13, 3, 10, "chuyenvien")


# --- upsert ---------------------------------------------------------------------------------------------------

def test_importing_the_same_file_twice_changes_nothing_the_second_time(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "so_dang_ky.csv"
    generated = _registry_csv(path, 300)

    first = import_registry(settings, path, actor="chuyenvien", today=TODAY)
    before = _stored(settings)
    with _writes_to_establishments(settings) as writes:
        second = import_registry(settings, path, actor="chuyenvien", today=TODAY)

    assert (first.inserted, first.updated, first.unchanged) == (300, 0, 0)
    assert (second.rows, second.inserted, second.updated, second.unchanged, second.rejected) == (300, 0, 0, 300, 0)
    assert writes == []
    assert _stored(settings) == before
    # the CSV round trip loses nothing: stored checksums are those of the generated rows
    assert {r["tax_code"]: with_derived(r)["row_checksum"] for r in generated} == {t: r["row_checksum"] for t, r in before.items()}
    # a no-op import is still recorded (evidence the registry was checked against this file), and nothing else
    with session_scope(settings) as session:
        events = session.exec(sa.select(AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id)).all()  # type: ignore[call-overload]
        assert sorted(events) == [("registry_import", "registryimport", first.import_id),
                                  ("registry_import", "registryimport", second.import_id)]
        assert first.content_sha256 == second.content_sha256 == session.get(RegistryImport, second.import_id).content_sha256


def test_changing_one_cell_updates_exactly_that_establishment(settings: Settings, tmp_path: Path) -> None:
    original, changed = tmp_path / "t1.csv", tmp_path / "t2.csv"
    _registry_csv(original, 50)
    import_registry(settings, original, actor="chuyenvien", today=TODAY)
    before = _stored(settings)
    target: dict[str, str] = {}

    def edit(i: int, row: dict[str, str]) -> None:
        if i == 17:
            row["Số lao động"] = str(int(row["Số lao động"]) + 5)
            target["tax_code"] = row["Mã số thuế"]
    _rewrite_csv(original, changed, edit)

    result = import_registry(settings, changed, actor="chuyenvien", today=TODAY)

    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 49)
    after = _stored(settings)
    tax_code = target["tax_code"]
    assert after[tax_code]["workforce"] == before[tax_code]["workforce"] + 5
    assert after[tax_code]["row_checksum"] != before[tax_code]["row_checksum"]
    assert {t: r for t, r in after.items() if r != before[t]}.keys() == {tax_code}
    with session_scope(settings) as session:
        event = session.exec(sa.select(AuditEvent).where(AuditEvent.entity_id == result.import_id)).scalar_one()  # type: ignore[call-overload]
        assert (event.data["updated"], event.data["updated_tax_codes"]) == (1, [tax_code])


def test_a_file_without_risk_columns_keeps_the_stored_risk_values(settings: Settings, tmp_path: Path) -> None:
    full, slim = tmp_path / "full.csv", tmp_path / "slim.csv"
    _registry_csv(full, 40)
    import_registry(settings, full, actor="chuyenvien", today=TODAY)
    before = _stored(settings)
    hazardous = next(t for t, r in before.items() if r["hazardous_workers"] >= 2)

    def edit(i: int, row: dict[str, str]) -> None:
        if row["Mã số thuế"] == hazardous:
            row["Số lao động"] = str(before[hazardous]["hazardous_workers"] - 1)
    _rewrite_csv(full, slim, edit, keep=HEADERS[:7])

    with pytest.raises(RegistryImportRejected) as exc:
        import_registry(settings, slim, actor="chuyenvien", today=TODAY)
    [error] = exc.value.report.errors
    h = before[hazardous]["hazardous_workers"]
    assert (error.column, error.reason) == (
        "Số lao động làm nghề NNĐHNH", f"Số lao động làm nghề NNĐHNH ({h}) lớn hơn Số lao động ({h - 1}) (theo dữ liệu đã lưu)")
    assert _stored(settings) == before

    _rewrite_csv(full, slim, lambda i, row: None, keep=HEADERS[:7])
    result = import_registry(settings, slim, actor="chuyenvien", today=TODAY)
    assert (result.updated, result.unchanged) == (0, 40)
    assert _stored(settings) == before


def test_a_crash_midway_leaves_nothing_written(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "so_dang_ky.csv"
    _registry_csv(path, 30)

    def fail_on_record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO registryimport"):
            raise RuntimeError("disk full")
    engine = get_engine(settings)
    sa.event.listen(engine, "before_cursor_execute", fail_on_record)
    try:
        with pytest.raises(RuntimeError):
            import_registry(settings, path, actor="chuyenvien", today=TODAY)
    finally:
        sa.event.remove(engine, "before_cursor_execute", fail_on_record)
    assert _counts(settings) == (0, 0, 0)


# --- headers and file formats ---------------------------------------------------------------------------------

def _header_errors(settings: Settings, path: Path, header: list[str]) -> list[tuple[int, str, str]]:
    path.write_text(",".join(f'"{h}"' for h in header) + "\n" + ",".join("" for _ in header) + "1\n", encoding="utf-8")
    with pytest.raises(RegistryImportRejected) as exc:
        import_registry(settings, path, actor="chuyenvien", valid_only=True, today=TODAY)
    return [(e.row, e.column, e.reason) for e in exc.value.report.errors]


def test_missing_unknown_and_repeated_headers_are_named(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    assert _header_errors(settings, path, [h for h in HEADERS if h != "Mã xã"]) == [
        (1, "Mã xã", 'Thiếu cột bắt buộc "Mã xã"')]
    typo = [h if h != "Số lao động làm nghề NNĐHNH" else "So lao dong lam nghe NNDHNH" for h in HEADERS] + ["Ghi chú"]
    assert _header_errors(settings, path, typo) == [
        (1, "So lao dong lam nghe NNDHNH",
         'Cột "So lao dong lam nghe NNDHNH" không có trong mẫu nhập; có phải "Số lao động làm nghề NNĐHNH"?'),
        (1, "Ghi chú", 'Cột "Ghi chú" không có trong mẫu nhập')]
    assert _header_errors(settings, path, [*HEADERS, "  MÃ SỐ   THUẾ "]) == [
        (1, "MÃ SỐ THUẾ", 'Cột "MÃ SỐ THUẾ" trùng với cột "Mã số thuế"')]
    assert _counts(settings) == (0, 0, 0)


def test_a_file_that_is_not_utf8_is_refused_with_the_line(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "cp1258.csv"
    path.write_bytes((DATA / "registry_errors.csv").read_bytes().decode("utf-8-sig").encode("cp1258", errors="replace"))
    with pytest.raises(RegistryImportRejected) as exc:
        import_registry(settings, path, actor="chuyenvien", today=TODAY)
    assert [(e.row, e.reason) for e in exc.value.report.errors] == [
        (1, 'Tệp không phải văn bản UTF-8: lưu lại dạng "CSV UTF-8"')]


def test_read_rows_gives_spreadsheet_row_numbers_and_headers(tmp_path: Path) -> None:
    rows = list(read_rows(DATA / "registry_errors.csv"))  # ";"-separated, with a BOM, a blank row and a multi-line cell
    assert [n for n, _ in rows] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15]
    assert list(rows[0][1]) == HEADERS
    comma = tmp_path / "comma.csv"
    generated = _registry_csv(comma, 2)  # ","-separated, as exported
    [(n1, first), (n2, _)] = read_rows(comma)
    assert (n1, n2, first["Mã số thuế"]) == (2, 3, generated[0]["tax_code"])
    assert first["Loại hình"] in ("Doanh nghiệp", "Hợp tác xã", "Hộ kinh doanh")
    assert len(first) == len(ESTABLISHMENT_COLUMNS)


# The 100,000-row import speed is measured by benchmarks/selection.py (import_100k_csv_s), not asserted here.


def test_a_name_no_document_can_print_or_a_spreadsheet_would_run_is_refused_by_row(settings: Settings,
                                                                                   tmp_path: Path) -> None:
    # issue 13: a name ending in "✓" used to pass the import and stop `selection export`: the documents now print it (a
    # fallback font), so it is accepted; a character no shipped font has is refused by row; one starting with "=" would
    # run as a formula in the register's CSV opened in a spreadsheet
    src, bad = tmp_path / "ok.csv", tmp_path / "bad.csv"
    _registry_csv(src, 4)

    def edit(i: int, row: dict[str, Any]) -> None:
        name = next(k for k in row if k.startswith("Tên"))
        if i == 0:
            row[name] = "Công ty TNHH An Toàn ✓"
        if i == 1:
            row[name] = '=HYPERLINK("http://x.invalid","Bấm vào đây")'
        if i == 2:
            row[name] = "Công ty\x1b TNHH Ba"
        if i == 3:
            row[name] = "Công ty \U00013000 TNHH Bốn"

    _rewrite_csv(src, bad, edit)
    with pytest.raises(RegistryImportRejected) as exc:
        import_registry(settings, bad, actor="chuyenvien", today=TODAY)
    reasons = {e.row: e.reason for e in exc.value.report.errors}
    assert 2 not in reasons  # "✓" prints
    assert "U+13000" in reasons[5] and "không in được" in reasons[5]
    assert reasons[3].startswith("Bắt đầu bằng '='")
    assert "U+001B" in reasons[4]
    assert _counts(settings) == (0, 0, 0)


def test_the_register_csv_never_hands_a_spreadsheet_a_formula() -> None:
    from services.publishing.register import KEYS, open_data

    row = {k: "" for k in KEYS} | {KEYS[0]: "=1+1", KEYS[1]: "@SUM(A1)", KEYS[2]: "-ok"}
    csv_text = open_data([row])["register.csv"]
    assert "'=1+1" in csv_text and "'@SUM(A1)" in csv_text and "'-ok" in csv_text
    import json

    assert json.loads(open_data([row])["register.json"])[0][KEYS[0]] == "=1+1"  # open data (JSON) keeps the value as is

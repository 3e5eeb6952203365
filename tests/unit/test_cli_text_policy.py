"""The CLI's free-text options go through the text policy every boundary shares (issue 13, point 1): NFC, line breaks
normalised, a control character refused with a Vietnamese message naming the option, a non-zero exit, nothing stored.

Most of these need no database: a refused option ends the command before its body runs (the data folder stays
empty). The two that show what is stored use the test database."""
from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from services.entry.cli.app import app
from models import Establishment, PriorSanction
from models.registry import InspectionTrigger
from services.db import session_scope
from services.settings import get_settings
from tests.factories import create_world

NFD = unicodedata.normalize("NFD", "Sổ theo dõi xử phạt của Sở Nội vụ")


@pytest.fixture
def empty_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(folder))
    monkeypatch.delenv("KIEMTRA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    return folder


@pytest.mark.parametrize(("args", "option", "shown"), [
    (["selection", "change", "CB-2026-01", "--by", "SNV-LEAD", "--remove", "0401234567=Đã kiểm tra\x00"],
     "--remove", "U+0000"),
    (["selection", "change", "CB-2026-01", "--by", "SNV\x1b[2J", "--add", "0401234567=lý do"], "--by", "U+001B"),
    (["schedule", "conflict", "--person", "SYT-CV01", "--tax-code", "0401234567", "--reason", "anh \x1b[31mruột"],
     "--reason", "U+001B"),
    (["campaign", "start", "--code", "CB-2026-09", "--title", "Đợt \x07 kiểm tra", "--start", "2026-06-01",
      "--end", "2026-07-31"], "--title", "U+0007"),
    (["history", "add", "--tax-code", "0401234567", "--provision", "12/2022/ND-CP Art.21 cl.2(b)", "--decision",
      "88/QĐ-XPHC", "--decided-on", "2025-11-03", "--source", "sổ \ue000", "--by", "SNV-LEAD"], "--source", "U+E000"),
    (["trigger", "add", "--tax-code", "0401234567", "--kind", "complaint", "--reference", "PA-12\x00/2026",
      "--received-on", "2026-02-20", "--by", "SNV-LEAD"], "--reference", "U+0000"),
    (["deadlines", "explained", "7", "--kind", "written", "--reason", "giải trình\x7f"], "--reason", "U+007F"),
    (["deliveries", "retry", "3", "--reason", "đã kiểm tra hộp thư\x00"], "--reason", "U+0000"),
    (["national-feed", "retry", "3", "--reason", "Đã sửa cấu hình", "--by", "SNV\x1b"], "--by", "U+001B"),
    (["portal", "retry", "3", "--reason", "cổng \x07 hoạt động lại"], "--reason", "U+0007"),
    (["appeal", "lodge", "--decision", "12/QĐ-XPHC", "--kind", "complaint", "--reference", "Đơn \x1b",
      "--on", "2026-04-01"], "--reference", "U+001B"),
])
def test_a_control_character_ends_the_command_naming_the_option(args: list[str], option: str, shown: str,
                                                                 empty_data_dir: Path) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert f"Lỗi: {option}: có ký tự điều khiển hoặc không hợp lệ ({shown}" in result.output
    assert "Traceback" not in result.output
    assert not empty_data_dir.exists() or not any(empty_data_dir.iterdir())  # the command never opened the database


def test_a_character_no_document_can_print_is_refused_and_a_symbol_is_not(empty_data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["selection", "change", "CB-2026-01", "--by", "SNV-LEAD", "--remove",
                                      "0401234567=Đã kiểm tra \U00013000"])
    assert result.exit_code == 1 and "--remove: có ký tự '\U00013000' (U+13000" in result.output


def _some_tax_code(settings) -> str:  # type: ignore[no-untyped-def]
    with session_scope(settings) as session:
        return session.exec(select(Establishment.tax_code).order_by(Establishment.id)).first()


def test_what_is_stored_is_nfc_with_line_breaks_normalised(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    create_world(settings, establishments=20)
    tax_code = _some_tax_code(settings)
    result = CliRunner().invoke(app, ["history", "add", "--tax-code", tax_code, "--provision",
                                      "12/2022/ND-CP Art.21 cl.2(b)", "--decision", "88/QĐ-XPHC\r\n",
                                      "--decided-on", "2025-11-03", "--source", NFD + " ✓", "--by", "SNV-LEAD"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["trigger", "add", "--tax-code", tax_code, "--kind", "complaint", "--reference",
                                      unicodedata.normalize("NFD", "Đơn số 12/2026"), "--received-on", "2026-02-20",
                                      "--by", "SNV-LEAD", "--note", "Người lao động phản ánh\r\nqua đường dây nóng"])
    assert result.exit_code == 0, result.output
    with session_scope(settings) as session:
        (prior,) = session.exec(select(PriorSanction)).all()
        (trigger,) = session.exec(select(InspectionTrigger)).all()
        assert prior.source == unicodedata.normalize("NFC", NFD) + " ✓" and prior.decision_ref == "88/QĐ-XPHC"
        assert trigger.reference == "Đơn số 12/2026" and trigger.reference == unicodedata.normalize("NFC",
                                                                                                   trigger.reference)
        assert trigger.note == "Người lao động phản ánh\nqua đường dây nóng"


def test_a_refused_option_stores_nothing(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIEMTRA_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    create_world(settings, establishments=20)
    tax_code = _some_tax_code(settings)
    result = CliRunner().invoke(app, ["trigger", "add", "--tax-code", tax_code, "--kind", "complaint", "--reference",
                                      "PA-12/2026", "--received-on", date(2026, 2, 20).isoformat(), "--by", "SNV-LEAD",
                                      "--note", "ghi chú\x00"])
    assert result.exit_code == 1 and "Lỗi: --note: có ký tự điều khiển" in result.output
    with session_scope(settings) as session:
        assert session.exec(select(InspectionTrigger)).first() is None

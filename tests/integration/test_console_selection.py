"""The console's selection review (issue 15): the list explained, the registry search, remove/add/approve with the
selection API's functions (Done-when 4: the same audit trail and state as the API on a copy of the same world), the
exported list, and the refusals (inspector, official, logged-out, missing reason, CSRF, another site)."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlmodel import col, select

from models import AuditEvent, Campaign, Establishment, Selection
from services.db import session_scope
from services.entry.http.console.base import COOKIE
from services.entry.http.console.selection_view import fold
from services.entry.http.web import COOKIE as FORM_COOKIE
from services.registry.geo import commune_name
from services.settings import Settings
from services.stages import selection
from tests.conftest import Worlds, make_settings
from tests.console_support import console_login, csrf_of, serving
from tests.factories import create_campaign, create_world

CODE = "SEL-01"
PAGE = f"/console/campaigns/{CODE}/selection"


def selection_world(settings: Settings) -> dict[str, str]:
    """A province, a campaign whose proposed list waits for the lead (status ``selected``); the people's tokens."""
    tokens = create_world(settings, establishments=400)
    create_campaign(settings, code=CODE, quota=20)
    selection.select_establishments(settings, CODE)
    return tokens


def _listed(settings: Settings) -> list[tuple[str, float, bool]]:
    with session_scope(settings) as session:
        rows = session.exec(select(Establishment.tax_code, Selection.score, Selection.removed)
                            .join(Selection, col(Selection.establishment_id) == Establishment.id)
                            .order_by(col(Selection.rank))).all()
    return [(t, s, r) for t, s, r in rows]


def _not_listed(settings: Settings, n: int = 1) -> list[Establishment]:
    with session_scope(settings) as session:
        taken = select(Selection.establishment_id)
        rows = session.exec(select(Establishment).where(col(Establishment.id).not_in(taken),
                                                        col(Establishment.last_inspected_on).is_(None))
                            .order_by(col(Establishment.id)).limit(n)).all()
        for e in rows:
            session.expunge(e)
    return list(rows)


def _state(settings: Settings, since: int) -> dict[str, Any]:
    """What a write leaves: the audit rows after ``since`` (without ids and times; logins left out), the list and
    the campaign's status."""
    with session_scope(settings) as session:
        audit = [(a.actor, a.action, a.entity_type, a.entity_id, a.from_state, a.to_state, a.reason, a.data)
                 for a in session.exec(select(AuditEvent).where(col(AuditEvent.id) > since).order_by(col(AuditEvent.id)))
                 if a.entity_type not in ("websession", "accesstoken") and "session" not in a.action
                 and "login" not in a.action]
        rows = [(s.establishment_id, s.rank, s.score, s.factors, str(s.kind), s.removed, s.change_reason, s.changed_by)
                for s in session.exec(select(Selection).order_by(col(Selection.rank)))]
        status = session.exec(select(Campaign.status).where(Campaign.code == CODE)).one()
    return {"audit": audit, "selection": rows, "status": str(status)}


def _last_audit_id(settings: Settings) -> int:
    with session_scope(settings) as session:
        return session.exec(select(AuditEvent.id).order_by(col(AuditEvent.id).desc())).first() or 0


def _post(client: httpx.Client, url: str, path: str, data: dict[str, str]) -> httpx.Response:
    page = client.get(f"{url}{PAGE}")
    return client.post(f"{url}{path}", data={"csrf": csrf_of(page.text, -1), **data}, follow_redirects=False)


def _post_as(client: httpx.Client, url: str, tax_code: str) -> httpx.Response:
    """A remove POST with a token of the lead's form page would not pass either: this one carries none."""
    return client.post(f"{url}{PAGE}/remove", data={"csrf": "", "tax_code": tax_code, "reason": "x"},
                       follow_redirects=False)


@pytest.fixture
def world(settings: Settings, worlds: Worlds) -> dict[str, str]:
    return worlds.copy(settings, selection_world)


def test_the_list_shows_each_score_its_factors_with_units_and_why_sorted_by_score(settings: Settings,
                                                                                 world: dict[str, str]) -> None:
    listed = _listed(settings)
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        console_login(client, url, "SNV-LEAD", world["SNV-LEAD"])
        page = client.get(f"{url}{PAGE}")
        ascending = client.get(f"{url}{PAGE}?sap_xep=diem_tang")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    shown = re.findall(r'name="tax_code" value="([0-9-]+)"', html)
    by_score = [t for t, _, _ in sorted(listed, key=lambda r: -r[1])]
    assert shown == by_score  # highest score first, one remove form per establishment
    assert re.findall(r'name="tax_code" value="([0-9-]+)"', ascending.text)[:len(listed)] == by_score[::-1]
    assert "Theo rủi ro" in html and "Mẫu đối chứng ngẫu nhiên" in html  # why each is on the list
    assert re.search(r"<strong>[0-9.,]+ điểm</strong> — Tai nạn|<strong>[0-9.,]+ điểm</strong> — ", html)
    assert "điểm/vụ, tối đa" in html and "Phê duyệt danh sách" in html
    assert "/selection/danh-sach.pdf" in html and "/selection/danh-sach.xlsx" in html


def test_the_registry_search_finds_by_name_without_accents_by_tax_code_and_by_commune(settings: Settings,
                                                                                      world: dict[str, str]) -> None:
    target = _not_listed(settings)[0]
    words = fold(target.name).split()
    unaccented = " ".join(words[-2:]).upper()  # case and accents left out
    commune = commune_name(target.commune_code).split(" ", 1)[1]
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        console_login(client, url, "SNV-LEAD", world["SNV-LEAD"])
        by_name = client.get(f"{url}{PAGE}", params={"q": unaccented})
        by_code = client.get(f"{url}{PAGE}", params={"q": target.tax_code[:8]})
        by_commune = client.get(f"{url}{PAGE}", params={"xa": fold(commune), "q": target.tax_code})
        nothing = client.get(f"{url}{PAGE}", params={"q": "không có cơ sở nào tên thế này"})
    for answer in (by_name, by_code, by_commune):
        assert answer.status_code == 200
        assert f'name="tax_code" value="{target.tax_code}"' in answer.text and "Bổ sung vào danh sách" in answer.text
    assert "Không tìm thấy cơ sở nào" in nothing.text


def _api_changes(url: str, token: str, remove: tuple[str, str], add: tuple[str, str], note: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
        base = f"/api/campaigns/{CODE}/selection"
        assert api.post(f"{base}/changes", json={"remove": [{"tax_code": remove[0], "reason": remove[1]}]}).status_code == 200
        assert api.post(f"{base}/changes", json={"add": [{"tax_code": add[0], "reason": add[1]}]}).status_code == 200
        assert api.post(f"{base}/approve", json={"note": note}).json() == {"approved": 20}


def test_remove_add_and_approve_leave_the_same_audit_and_state_as_the_api(
        settings: Settings, world: dict[str, str], worlds: Worlds, tmp_path: Path,
        new_database: Callable[[], str | None], migrated: Callable[[Settings], Settings]) -> None:
    api_settings = migrated(make_settings(tmp_path / "api-copy", database_url=new_database()))
    worlds.copy(api_settings, selection_world)
    removed = _listed(settings)[3][0]
    added = _not_listed(settings)[0].tax_code
    remove = (removed, "Cơ sở đã giải thể theo xác nhận của UBND xã")
    add = (added, "Có phản ánh của người lao động về an toàn giàn giáo")
    since = _last_audit_id(settings)
    assert since == _last_audit_id(api_settings)
    with serving(settings) as url, httpx.Client(timeout=60) as client:
        console_login(client, url, "SNV-LEAD", world["SNV-LEAD"])
        answer = _post(client, url, f"{PAGE}/remove", {"tax_code": remove[0], "reason": remove[1]})
        assert answer.status_code == 303 and answer.headers["location"].endswith("?xong=loai")
        assert _post(client, url, f"{PAGE}/add", {"tax_code": add[0], "reason": add[1]}).status_code == 303
        assert _post(client, url, f"{PAGE}/approve", {"note": "Đồng ý", "xac_nhan": "co"}).status_code == 303
        after = client.get(f"{url}{PAGE}")
    assert "Đã phê duyệt" in after.text and "Loại khỏi danh sách" not in after.text and remove[1] in after.text
    with serving(api_settings) as url:
        _api_changes(url, world["SNV-LEAD"], remove, add, "Đồng ý")
    console, api = _state(settings, since), _state(api_settings, since)
    assert [a[:2] for a in console["audit"]] == [("SNV-LEAD", "selection_removed"), ("SNV-LEAD", "selection_added"),
                                                 ("SNV-LEAD", "status_change")]
    assert console["status"] == "approved"
    assert console == api


def test_refusals_inspector_official_logged_out_missing_reason_csrf_and_another_site(settings: Settings,
                                                                                    world: dict[str, str]) -> None:
    target = _listed(settings)[0][0]
    since = _last_audit_id(settings)
    before = _state(settings, since)
    with serving(settings) as url:
        with httpx.Client(timeout=60) as anonymous:
            page = anonymous.get(f"{url}{PAGE}", follow_redirects=False)
            assert page.status_code == 303 and page.headers["location"].startswith("/console/login?next=")
            post = anonymous.post(f"{url}{PAGE}/remove", data={"tax_code": target, "reason": "x"}, follow_redirects=False)
            assert post.status_code == 303 and "/console/login" in post.headers["location"]
            assert anonymous.get(f"{url}{PAGE}/danh-sach.pdf", follow_redirects=False).status_code == 303
        with httpx.Client(timeout=60) as inspector:
            console_login(inspector, url, "SNV-TT01", world["SNV-TT01"])  # an inspector gets a /form session only
            assert inspector.get(f"{url}{PAGE}", follow_redirects=False).status_code == 303
            inspector.cookies.set(COOKIE, inspector.cookies.get(FORM_COOKIE) or "")  # even with it as the console's
            assert inspector.get(f"{url}{PAGE}").status_code == 403
            assert inspector.get(f"{url}{PAGE}/danh-sach.xlsx").status_code == 403
            assert _post_as(inspector, url, target).status_code == 403
        with httpx.Client(timeout=60) as official:
            console_login(official, url, "SNV-GD", world["SNV-GD"])
            page = official.get(f"{url}{PAGE}")
            assert page.status_code == 200 and "Loại khỏi danh sách" not in page.text
            assert "Phê duyệt danh sách</button>" not in page.text
            refused = official.post(f"{url}{PAGE}/remove", data={"csrf": csrf_of(page.text, -1), "tax_code": target,
                                                                  "reason": "không được"}, follow_redirects=False)
            assert refused.status_code == 403 and "không có quyền" in refused.text
        with httpx.Client(timeout=60) as lead:
            console_login(lead, url, "SNV-LEAD", world["SNV-LEAD"])
            blank = _post(lead, url, f"{PAGE}/remove", {"tax_code": target, "reason": "   "})
            assert blank.status_code == 422 and "Phải ghi lý do" in blank.text
            unconfirmed = _post(lead, url, f"{PAGE}/approve", {"note": ""})
            assert unconfirmed.status_code == 422 and "xác nhận" in unconfirmed.text
            forged = lead.post(f"{url}{PAGE}/remove", data={"csrf": "gia-mao", "tax_code": target, "reason": "x"})
            assert forged.status_code == 403 and "chống giả mạo" in forged.text
            page = lead.get(f"{url}{PAGE}")
            other_site = lead.post(f"{url}{PAGE}/remove", headers={"Origin": "https://evil.example"},
                                   data={"csrf": csrf_of(page.text, -1), "tax_code": target, "reason": "x"})
            assert other_site.status_code == 403
            unknown = lead.get(f"{url}/console/campaigns/KHONG-CO/selection")
            assert unknown.status_code == 404
    assert _state(settings, since) == before  # nothing of it was stored


def test_the_exported_list_downloads_as_pdf_and_xlsx_with_a_vietnamese_name(settings: Settings,
                                                                          world: dict[str, str], tmp_path: Path) -> None:
    def stored() -> set[Path]:
        return set(settings.documents_path.rglob("*")) if settings.documents_path.exists() else set()

    with serving(settings) as url, httpx.Client(timeout=120) as client:
        console_login(client, url, "SNV-LEAD", world["SNV-LEAD"])
        before = stored()
        pdf = client.get(f"{url}{PAGE}/danh-sach.pdf")
        xlsx = client.get(f"{url}{PAGE}/danh-sach.xlsx")
        bogus = client.get(f"{url}{PAGE}/danh-sach.exe")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats") and xlsx.content[:2] == b"PK"
    disposition = unquote(pdf.headers["content-disposition"])
    assert disposition.startswith("attachment;") and f"Danh sách cơ sở dự kiến kiểm tra - {CODE}.pdf" in disposition
    assert bogus.status_code == 404
    assert stored() == before  # rendered in memory: a GET writes nothing into the document store
    from services.stages.selection_docs import export_selection

    pdf_path, xlsx_path = export_selection(settings, CODE, out_dir=tmp_path)  # `kiemtra selection export`: the same bytes
    assert pdf_path.read_bytes() == pdf.content and xlsx_path.read_bytes() == xlsx.content

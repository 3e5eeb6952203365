"""What an inspector does in the field app, and what the tests check in the database (issue 16's browser tests).

Steps drive the page by the contract's ids (docs/field-offline.md, "The page's testable surface"); checks read the
database and the evidence store the subprocess server wrote.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from models import Attachment, Submission
from services.db import session_scope
from services.intake.evidence import EvidenceStore
from services.settings import Settings
from tests.field_support import FieldBrowser, wait_until


def log_in(device: FieldBrowser, base_url: str, person_code: str, token: str) -> None:
    """Through the /form login page (typing, pressing the button), then the day list's link to the app, online;
    waits for the app to be ready and controlled by its service worker."""
    from selenium.webdriver.common.by import By

    d = device.driver
    d.get(f"{base_url}/form/login?next=/form/app/")
    d.find_element(By.ID, "person_code").send_keys(person_code)
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.ID, "dang-nhap").click()
    wait_until(lambda: "/form/login" not in d.current_url and d.execute_script("return document.readyState") == "complete"
               and d.get_cookie("kiemtra_phien"), what="the login's next page")
    if "/form/app/" not in d.current_url:  # the day list (/form/) links to the app
        click(device, d.find_element(By.ID, "mo-ung-dung"))
        wait_until(lambda: "/form/app/" in d.current_url, what="the app")
    device.wait_ready()
    wait_until(lambda: d.execute_script("return !!navigator.serviceWorker.controller"), timeout=20,
               what="the service worker to control the page")


def visible(device: FieldBrowser, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(device.driver.find_elements(By.CSS_SELECTOR, css))


def wait_css(device: FieldBrowser, css: str, *, count: int = 1, timeout: float = 30) -> list[Any]:
    return wait_until(lambda: (found := visible(device, css)) and len(found) >= count and found,
                      timeout=timeout, what=css)


def first_visit(device: FieldBrowser) -> dict[str, Any]:
    """The first visit of the list kept on the phone that the inspector may still send findings for."""
    visits = device.state()["visits"]["visits"]
    return next(v for v in visits if v["can_submit"])


def open_visit(device: FieldBrowser, inspection_id: int) -> None:
    device.driver.execute_script("location.hash = arguments[0]", f"#/visit/{inspection_id}")
    wait_css(device, f'#checklist[data-inspection-id="{inspection_id}"]')


def item(device: FieldBrowser, code: str) -> Any:
    return wait_css(device, f'fieldset.item[data-item-code="{code}"]')[0]


def click(device: FieldBrowser, element: Any) -> None:
    device.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", element)


def answer_fail(device: FieldBrowser, code: str, note: str, workers: int) -> None:
    from selenium.webdriver.common.by import By

    fieldset = item(device, code)
    click(device, fieldset.find_element(By.CSS_SELECTOR, f'input[name="result-{code}"][value="fail"]'))
    fieldset.find_element(By.CSS_SELECTOR, "textarea.note").send_keys(note)
    fieldset.find_element(By.CSS_SELECTOR, "input.workers").send_keys(str(workers))


def add_photos(device: FieldBrowser, code: str, files: list[Path]) -> None:
    """Chooses ``files`` in the item's photo input; waits until the page shows them (resized, hashed, stored)."""
    from selenium.webdriver.common.by import By

    fieldset = item(device, code)
    before = len(fieldset.find_elements(By.CSS_SELECTOR, ".photo[data-sha256]"))
    fieldset.find_element(By.CSS_SELECTOR, "input.photo-input").send_keys("\n".join(str(f) for f in files))
    wait_until(lambda: len(fieldset.find_elements(By.CSS_SELECTOR, ".photo[data-sha256]")) >= before + len(files),
               what=f"{len(files)} photos shown on {code}")


def all_pass(device: FieldBrowser) -> None:
    """"Tất cả các mục đạt", its confirm() answered yes; waits until every item is answered."""
    device.driver.execute_script("window.confirm = () => true")
    click(device, wait_css(device, "#all-pass")[0])
    wait_until(lambda: device.driver.execute_script(
        "const p = document.querySelector('#progress'); return p && p.dataset.total > 0 && "
        "p.dataset.answered === p.dataset.total"), what="all items answered")


def press_send(device: FieldBrowser) -> None:
    """"Gửi kết quả": the draft goes to the outbox (queued, or further when online). Waits for one more draft out of
    "editing" than before the press (an earlier, sent draft of the same visit is already in the outbox list)."""
    def out_of_editing() -> int:
        return sum(1 for d in device.state()["drafts"] if d["state"] != "editing")

    before = out_of_editing()
    click(device, wait_css(device, "#send")[0])
    wait_until(lambda: out_of_editing() > before, what="the draft in the outbox")
    wait_css(device, "li.outbox-item[data-draft-id]")


def draft_of(device: FieldBrowser, inspection_id: int, *, state: str | None = None) -> dict[str, Any]:
    drafts = [d for d in device.state()["drafts"] if d["inspection_id"] == inspection_id
              and (state is None or d["state"] == state)]
    assert drafts, f"no draft for inspection {inspection_id} (state {state})"
    return dict(drafts[-1])


def wait_state(device: FieldBrowser, draft_id: str, state: str, *, timeout: float = 30) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        found = [d for d in device.state()["drafts"] if d["id"] == draft_id]
        return found[0] if found and found[0]["state"] == state else None

    return wait_until(reached, timeout=timeout, every=0.2, what=f"draft {draft_id} {state}")


def outbox_state(device: FieldBrowser, draft_id: str) -> tuple[str, str]:
    """The outbox entry of ``draft_id`` on the page: (data-state, its message)."""
    from selenium.webdriver.common.by import By

    entry = wait_css(device, f'li.outbox-item[data-draft-id="{draft_id}"]')[0]
    return entry.get_attribute("data-state"), entry.find_element(By.CSS_SELECTOR, ".outbox-message").text


# --------------------------------------------------------------------------- the database and the evidence store


@dataclass(frozen=True)
class Stored:
    submissions: list[Submission]
    attachments: list[Attachment]
    files: dict[str, bytes]  # SHA-256 → the evidence store's bytes


def stored(settings: Settings, inspection_id: int) -> Stored:
    with session_scope(settings) as session:
        subs = list(session.exec(select(Submission).where(Submission.inspection_id == inspection_id)
                                 .order_by(col(Submission.version))).all())
        ids = [s.id for s in subs]
        atts = list(session.exec(select(Attachment).where(col(Attachment.submission_id).in_(ids))
                                 .order_by(col(Attachment.id))).all()) if ids else []
        session.expunge_all()
    store = EvidenceStore.from_settings(settings)
    files = {a.sha256: store.path_for(a.sha256).read_bytes() for a in atts if store.has(a.sha256)}
    return Stored(subs, atts, files)


def evidence_files(settings: Settings) -> list[Path]:
    """Every blob in the evidence store (temp files of cut uploads excluded)."""
    root = EvidenceStore.from_settings(settings).root
    return sorted(p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.relative_to(root).parts)


def check_one_complete_submission(settings: Settings, inspection_id: int, photos: list[dict[str, Any]],
                                  draft_id: str) -> Submission:
    """Exactly one submission (the draft's id), complete, with each photo the phone kept once: an Attachment row
    with its item code, received, and the evidence file whose SHA-256 is its name."""
    found = stored(settings, inspection_id)
    assert [s.client_submission_id for s in found.submissions] == [draft_id]
    submission = found.submissions[0]
    assert submission.complete and submission.version == 1
    assert sorted((a.sha256, a.item_code, a.size) for a in found.attachments) == sorted(
        (p["sha256"], p["item_code"], p["size"]) for p in photos)
    assert all(a.received and a.captured_at is not None for a in found.attachments)
    for a in found.attachments:
        assert hashlib.sha256(found.files[a.sha256]).hexdigest() == a.sha256
    assert len(evidence_files(settings)) == len(photos)  # stored once each, nothing else
    return submission

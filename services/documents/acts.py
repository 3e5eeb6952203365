"""What an establishment did, in one sentence: the act as the decree words it (never the penalty sentence), the
alternative the checklist item checks, the counts and the inspector's observed facts — the one "violation line"
the minutes, the record, the decision and the proposal print.

``act_of(rule)`` strips the penalty wording ("Phạt tiền từ … đồng đến … đồng đối với người sử dụng lao động có
một trong các hành vi: …", "Mức xử phạt đối với hành vi … như sau:", "… khi vi phạm với mỗi người lao động nhưng
tối đa không quá … đồng …") and keeps the act. A clause listing several alternatives separated by ";" gives the
one closest to the checklist item's own question; an item may also state its act (``act_vi`` in the checklist).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from services.rules.checklist import ChecklistItem
from services.rules.fines import FineRule, UnitKind

_PER_WORKER = re.compile(r"\s*khi vi phạm (?:với|đối với) mỗi người lao động nhưng tối đa không quá [\d.]+ đồng\s*")
_LEVEL = re.compile(r"^Mức xử phạt đối với hành vi\s+")
_PENALTY = re.compile(
    r"^Phạt tiền(?: từ [\d.]+ đồng đến [\d.]+ đồng| [\d.]+ đồng)?\s+(?:đối với|khi)\s+"
    r"(?:hành vi vi phạm quy định về .*?(?:như sau|sau đây)\s*:\s*|người sử dụng lao động\s+|người lao động\s+|"
    r"(?:tổ chức|cá nhân|doanh nghiệp|kiểm định viên|bên thuê lại lao động)[^:]*?\s+(?=có|khi))?"
    r"(?:có |khi có |khi )?(?:một trong các )?(?:hành vi)?(?: sau đây)?\s*:?\s*", re.S)
_AMOUNT = re.compile(r"^(?:[a-zđ]\)\s*)?(?:Từ [\d.]+ đồng đến [\d.]+ đồng|[\d.]+ đồng) đối với (?:một trong các )?"
                     r"(?:hành vi)?(?: sau)?\s*:?\s*")
_TAIL = re.compile(r"\s*(?:theo một trong các mức sau đây|như sau)\s*:?\s*$")
_WORD = re.compile(r"\w+")
FACTS = "; thực tế kiểm tra: "  # the inspector's own words follow: never published (they may name people)


def _clean(text: str) -> str:
    text = _PER_WORKER.sub(" ", unicodedata.normalize("NFC", text)).strip()
    text = _TAIL.sub("", text)
    text = _LEVEL.sub("", text)
    text = _PENALTY.sub("", text, count=1)
    text = _AMOUNT.sub("", text)
    if "như sau:" in text:
        text = _AMOUNT.sub("", text.split("như sau:", 1)[1].strip())
    text = _TAIL.sub("", text).strip().rstrip(".;:, ")
    return text[:1].upper() + text[1:]


def act_of(rule: FineRule) -> str:
    """The act a row sanctions, as the decree words it, without the penalty sentence."""
    text = rule.description_vi
    if rule.unit in (UnitKind.WORKER_BAND, UnitKind.DEVICE_BAND):
        text = rule.clause_lead_vi or text.split(" — ")[0]
    elif " — " in text:
        text = text.split(" — ")[-1]
    return _clean(text)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def act_for_item(rule: FineRule, item: ChecklistItem | None) -> str:
    """The item's own act where the checklist states it, else the alternative of the row closest to the item."""
    if item is not None and item.act_vi:
        return item.act_vi
    act = act_of(rule)
    alternatives = [a.strip() for a in act.split(";") if a.strip()]
    if item is None or len(alternatives) < 2:
        return act
    asked = _words(item.text_vi)
    best = max(alternatives, key=lambda a: len(_words(a) & asked))
    return best[:1].upper() + best[1:]


def act_line(rule: FineRule, item: ChecklistItem | None, *, workers: int | None = None, devices: int | None = None,
             notes: list[str] | tuple[str, ...] = ()) -> str:
    """The act with what was found: "Không tổ chức huấn luyện … (vi phạm với 12 người lao động); thực tế kiểm tra: …"."""
    line = act_for_item(rule, item)
    counts = []
    if workers:
        counts.append(f"vi phạm với {workers:02d} người lao động")
    if devices:
        counts.append(f"{devices:02d} máy, thiết bị, vật tư")
    if counts:
        line += f" ({'; '.join(counts)})"
    facts = [n.strip().rstrip(".;") for n in notes if n and n.strip()]
    if facts:
        line += FACTS + "; ".join(facts)
    return line


def violation_line(violation: Any, rule: FineRule, *, amount: int | None) -> dict[str, Any]:
    """One act as every output shows it — the record, the decision, the tờ trình, the portal payload, the register:
    what was done, the provision of the decree applied, the amount (None before a decision). ``public_act_vi`` leaves
    out the inspector's observed facts, which may name people (the published outputs use it)."""
    from services.rules.fines import provision_vi

    act = violation.act_vi or act_of(rule)
    return {"act_vi": act, "public_act_vi": act.split(FACTS, 1)[0], "provision_vi": provision_vi(rule), "amount": amount}


def counts_vi(workers: int | None, devices: int | None) -> str:
    """What a finding counted, for the minutes' table: "12 người", "06 máy, thiết bị", both, or "" for neither."""
    parts = [f"{workers} người" if workers else "", f"{devices:02d} máy, thiết bị" if devices else ""]
    return "; ".join(p for p in parts if p)

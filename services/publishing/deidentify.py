"""The register's de-identification guard: no person's name reaches the public register.

Before anything is written or served, every output is checked for the name of an inspector, official or lead
(``Person.full_name``), of a complainant or accident victim (every ``InspectionTrigger``'s ``reference`` as written,
and the personal names written in its ``reference`` and ``note``) and of a household business's owner. A match
writes (or serves) nothing and raises :class:`~services.errors.DeidentificationError`, naming the field and the
decision number, never the name. An organisation's registered name is public (enterprise registration) and is not
refused for containing a personal name. Both sides of every comparison are brought to the form a reader sees
(:func:`services.publishing.lookalikes.comparable`) and compared again without diacritics.
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from models import Establishment, InspectionTrigger, Person
from services.errors import DeidentificationError
from services.publishing.lookalikes import comparable
from services.registry.names import SURNAMES

__all__ = ["PRIVACY_LAW_VI", "Protected", "check_deidentified", "names_in_text", "protected_strings"]

PRIVACY_LAW_VI = "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15"


@dataclass(frozen=True)
class Protected:
    """A string the register must never carry, and where it comes from (said in errors instead of the string)."""
    text: str
    source: str  # e.g. "Person.full_name (thanh tra viên, mã SNV-TT01)", "InspectionTrigger.note (khiếu nại, số 3)"


_NAME_MARKERS = ("ông", "bà", "anh", "chị", "em", "cháu", "nạn nhân", "người bị nạn", "người lao động", "người khiếu nại",
                 "người tố cáo", "người phản ánh", "người làm đơn", "công dân", "họ tên", "họ và tên")
_SURNAMES = frozenset(unicodedata.normalize("NFC", s) for s, _ in SURNAMES)
_WORD = r"[^\W\d_]+"
_TITLE_WORD = re.compile(r"[^\W\d_][^\W\d_]*")


def _is_title(word: str) -> bool:
    return word[:1].isupper() and word[1:] == word[1:].lower()


def names_in_text(text: str) -> list[str]:
    """Personal names written in free text: 2–4 capitalised words after a marker ("ông", "nạn nhân", …) or 3–4
    capitalised words starting with a Vietnamese surname ("Nguyễn Văn An")."""
    text = unicodedata.normalize("NFC", text)
    words = [(m.group(), m.start(), m.end()) for m in _TITLE_WORD.finditer(text)]
    found: list[str] = []
    lowered = text.lower()
    for i, (word, start, _end) in enumerate(words):
        if not _is_title(word):
            continue
        run = [word]
        for nxt, nstart, _ in words[i + 1:i + 4]:
            gap = text[words[i + len(run) - 1][2]:nstart]
            if not _is_title(nxt) or gap.strip():
                break
            run.append(nxt)
        before = lowered[:start].rstrip(" :,.-–(")
        after_marker = any(before.endswith(m) and (len(before) == len(m) or not before[-len(m) - 1].isalpha())
                           for m in _NAME_MARKERS)
        if after_marker and len(run) >= 2:
            found.append(" ".join(run))
        elif word in _SURNAMES and len(run) >= 3:
            found.append(" ".join(run))
    return found


def _norm(text: str) -> str:
    """Both sides of the guard's comparison: invisible characters and look-alike letters cannot hide a name."""
    return comparable(text)


def _fold(text: str) -> str:
    """Without diacritics ("nguyen van an"), so a name written without its marks is caught too."""
    decomposed = unicodedata.normalize("NFD", _norm(text).replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class _Needle:
    protected: Protected
    patterns: tuple[re.Pattern[str], re.Pattern[str]]  # on the normalised text, on the text without diacritics


def _needles(protected: Sequence[Protected]) -> list[_Needle]:
    def pattern(n: str) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(n)}(?!\w)")
    return [_Needle(p, (pattern(_norm(p.text)), pattern(_fold(p.text)))) for p in protected if _norm(p.text)]


def _found(haystack: str, needles: Sequence[_Needle]) -> list[Protected]:
    h = (_norm(haystack), _fold(haystack))
    return [n.protected for n in needles if n.patterns[0].search(h[0]) or n.patterns[1].search(h[1])]


def _worth_checking(text: str) -> bool:
    """Too short or without letters (a bare number like "03") would match innocent text."""
    t = _norm(text)
    return len(t) >= 5 and any(c.isalpha() for c in t)


_ROLE_VI = {"lead": "cán bộ Sở chủ trì", "inspector": "thành viên đoàn kiểm tra", "official": "người có thẩm quyền"}
_KIND_VI = {"complaint": "khiếu nại, phản ánh", "accident": "tai nạn lao động", "referral": "chuyển đến"}


def protected_strings(session: Session, establishments: Iterable[Establishment | None] = ()) -> list[Protected]:
    """Every name the register must not carry: all people of the agencies; the complainants' and victims' names
    and the reference texts of the triggers (complaints, accidents, referrals); household owners' names."""
    out: list[Protected] = []
    for person in session.exec(select(Person).order_by(col(Person.id))).all():
        out.append(Protected(person.full_name, f"Person.full_name ({_ROLE_VI.get(str(person.role), str(person.role))}, "
                                               f"mã {person.code})"))
    for trigger in session.exec(select(InspectionTrigger).order_by(col(InspectionTrigger.id))).all():
        kind = _KIND_VI.get(str(trigger.kind), str(trigger.kind))
        for field in ("reference", "note"):
            value = getattr(trigger, field) or ""
            source = f"InspectionTrigger.{field} ({kind}, căn cứ số {trigger.id})"
            if field == "reference" and _worth_checking(value):  # the file's number links to the complainant
                out.append(Protected(value, source))
            out.extend(Protected(name, f"tên người trong {source}") for name in names_in_text(value))
    for est in establishments:
        if est is not None and not est.is_organisation:
            source = f"cá nhân kinh doanh (cơ sở số {est.id})"
            out.append(Protected(est.legal_representative, f"Establishment.legal_representative, {source}"))
            out.append(Protected(est.name, f"Establishment.name, {source}"))
    return [p for p in out if _worth_checking(p.text)]


def check_deidentified(rows: Sequence[Mapping[str, Any]], outputs: Mapping[str, str], protected: Sequence[Protected], *,
                       public_names: Mapping[str, str] | None = None) -> None:
    """Raise :class:`DeidentificationError` if a row's field, or any output file, carries a protected string.

    ``public_names`` maps a decision number to its organisation's registered name: that name is public, so it is
    not refused in ``ten_co_so`` (nor in the outputs) for containing a protected person's name."""
    public_names = public_names or {}
    needles = _needles(protected)
    problems: list[str] = []
    for row in rows:
        number = str(row.get("so_quyet_dinh", ""))
        for key, value in row.items():
            if not isinstance(value, str) or (key == "ten_co_so" and public_names.get(number) == value):
                continue
            for p in _found(value, needles):
                problems.append(f"trường «{key}» của quyết định số {number} chứa tên được bảo vệ ({p.source})")
    if not problems:  # the rows are clean: what else the files carry (headings, scripts) is checked whole
        masks = sorted({_norm(n) for n in public_names.values() if n}, key=len, reverse=True)
        for name, text in outputs.items():
            body = _norm(html.unescape(text))
            for mask in masks:
                body = body.replace(mask, " ")
            for p in _found(body, needles):
                problems.append(f"tệp {name} chứa tên được bảo vệ ({p.source})")
    if problems:
        listed = "; ".join(dict.fromkeys(problems))
        raise DeidentificationError("Không ghi sổ công khai kết quả xử phạt vì lộ thông tin cá nhân "
                                    f"({PRIVACY_LAW_VI}): {listed}.", problems=list(dict.fromkeys(problems)))

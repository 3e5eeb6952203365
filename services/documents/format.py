"""Vietnamese formatting and the placeholder language of the document templates.

Placeholders, inside any template string::

    {establishment.name}        the value at a dotted path (mapping keys, list indexes, public attributes)
    {amount|money}              piped through formatters, left to right: 10.000.000 đồng
    {note|or:Không}             a formatter with an argument (everything after the colon)
    {requests?|or:……}           ``?``: a missing key gives None instead of an error
    {time?|time|or:……}          formatters pass None on untouched, to a trailing ``or:``
    {{ and }}                   literal braces
    **bold**  __italic__        emphasis, in the template's own wording only (never in values)

Formatters: ``money`` (10.000.000 đồng), ``number`` (10.000.000), ``words`` (Mười triệu đồng),
``spell`` (mười), ``long`` (ngày 05 tháng 3 năm 2026), ``short`` (05/03/2026), ``time`` (08 giờ 00 phút),
``weekday`` (Thứ Ba; Chủ nhật), ``upper``, ``lower``, ``agency`` (an agency's name as running text and Nơi nhận
write it: SỞ NỘI VỤ -> Sở Nội vụ; a name not in capitals is left as given), ``or:TEXT``, ``join:SEP``, ``count``.

A missing key, or a None that no ``or:`` replaces, raises :class:`TemplateError` naming the template and the
key: a document never goes out with a silent blank. Every string is NFC-normalised.

Errors::

    ValueError
     └── TemplateError        bad template, or context missing what the template needs (.template, .key)

No character is an error: the renderer draws what Liberation Serif lacks in a fallback font, or as a placeholder
(:mod:`services.documents.fonts`).
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape
from services.errors import TemplateError


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --- Vietnamese numbers, money, dates ---------------------------------------------------------------

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", " nghìn", " triệu")


def group_digits(n: int) -> str:
    """12345678 -> '12.345.678' (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def _three(n: int, *, full: bool) -> str:
    """Words for 0 < n < 1000; ``full`` spells a zero hundreds digit ('không trăm linh năm')."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units:
        if units == 5 and tens:
            words.append("lăm")
        elif units == 1 and tens > 1:
            words.append("mốt")
        elif units == 4 and tens > 1:
            words.append("tư")
        else:
            words.append(_DIGITS[units])
    return " ".join(words)


def spell_number(n: int) -> str:
    """Vietnamese words for a non-negative integer: 1005000 -> 'một triệu không trăm linh năm nghìn'."""
    if n < 0:
        raise ValueError(f"cannot spell a negative number: {n}")
    if n == 0:
        return "không"
    if n >= 1_000_000_000:
        high, low = divmod(n, 1_000_000_000)
        rest = _below_billion(low, leading=False) if low else ""
        return " ".join(part for part in (spell_number(high), "tỷ", rest) if part)
    return _below_billion(n, leading=True)


def _below_billion(n: int, *, leading: bool) -> str:
    groups = [(n // 1000**i) % 1000 for i in range(2, -1, -1)]
    words: list[str] = []
    for i, group in enumerate(groups):
        if group:
            full = bool(words) or not leading
            words.append(_three(group, full=full) + _SCALES[2 - i])
    return " ".join(words)


def money_words(amount: int) -> str:
    """10000000 -> 'Mười triệu đồng'."""
    text = spell_number(amount) + " đồng"
    return text[0].upper() + text[1:]


def long_date(d: date) -> str:
    """NĐ 30/2020: a day below 10 and the months 1 and 2 take a leading zero."""
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def weekday_vi(d: date) -> str:
    """date(2026, 3, 10) -> 'Thứ Ba'."""
    return WEEKDAYS_VI[d.weekday()]


def short_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def clock_time(value: time | str) -> str:
    """'08:00' or time(8, 0) -> '08 giờ 00 phút'."""
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{1,2})[:hg](\d{2})", value.strip())
        if not match:
            raise ValueError(f"not a time of day: {value!r}")
        value = time(int(match[1]), int(match[2]))
    return f"{value.hour:02d} giờ {value.minute:02d} phút"


# --- agency names in running text ------------------------------------------------------------------

# NĐ 30/2020: an agency's name is in capitals only in the header and the signature; in running text and in
# "Nơi nhận" the first word and each proper name take a capital ("Sở Nội vụ", "Ủy ban nhân dân tỉnh Cao Bằng").
# The field after "Sở"/"Bộ" is itself a name ("Sở Y tế", "Sở Xây dựng"); a few fields are two names.
_AGENCY_WORDS: tuple[tuple[str, str], ...] = (
    ("ỦY BAN NHÂN DÂN", "Ủy ban nhân dân"), ("UỶ BAN NHÂN DÂN", "Ủy ban nhân dân"),
    ("HỘI ĐỒNG NHÂN DÂN", "Hội đồng nhân dân"), ("LIÊN ĐOÀN LAO ĐỘNG", "Liên đoàn Lao động"),
    ("BẢO HIỂM XÃ HỘI", "Bảo hiểm xã hội"), ("BAN QUẢN LÝ", "Ban Quản lý"), ("KHU KINH TẾ", "Khu kinh tế"),
    ("KHU CÔNG NGHIỆP", "Khu công nghiệp"), ("CÔNG AN", "Công an"), ("THANH TRA", "Thanh tra"),
    ("VĂN PHÒNG", "Văn phòng"), ("ĐOÀN KIỂM TRA LIÊN NGÀNH", "Đoàn kiểm tra liên ngành"),
    ("ĐOÀN KIỂM TRA", "Đoàn kiểm tra"), ("LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "Lao động - Thương binh và Xã hội"),
    ("CÔNG THƯƠNG", "Công Thương"), ("NÔNG NGHIỆP VÀ MÔI TRƯỜNG", "Nông nghiệp và Môi trường"),
    ("TÀI CHÍNH", "Tài chính"), ("TƯ PHÁP", "Tư pháp"),
)
_UNITS = ("THÀNH PHỐ", "THỊ TRẤN", "THỊ XÃ", "TỈNH", "HUYỆN", "QUẬN", "PHƯỜNG", "XÃ")
_AGENCY_HEADS = ("SỞ", "BỘ", "CỤC", "CHI CỤC", "BAN", "PHÒNG")


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def agency_vi(name: str) -> str:
    """An agency's name as running text writes it: 'SỞ NỘI VỤ' -> 'Sở Nội vụ', 'ỦY BAN NHÂN DÂN TỈNH CAO BẰNG' ->
    'Ủy ban nhân dân tỉnh Cao Bằng', 'UBND TỈNH CAO BẰNG' -> 'UBND tỉnh Cao Bằng'. A name with a lower-case letter
    is taken as written already."""
    name = nfc(name).strip()
    if name != name.upper():
        return name
    out: list[str] = []
    rest = name
    proper = False  # after a unit word ("tỉnh"), or after "Sở": the next words form a name
    while rest:
        for caps, written in _AGENCY_WORDS:
            if rest == caps or rest.startswith(caps + " "):
                out.append(written)
                rest = rest[len(caps):].lstrip()
                proper = False
                break
        else:
            unit = next((u for u in _UNITS if rest == u or rest.startswith(u + " ")), None)
            if unit is not None and out:
                out.append(unit.lower())
                rest = rest[len(unit):].lstrip()
                out.append(" ".join(_cap(w) if not w.isdigit() else w for w in rest.split()))  # the place's name
                break
            word, _, rest = rest.partition(" ")
            if word.isascii() and len(word) > 1 and word.isalpha() and word not in ("SỞ", "BỘ"):
                out.append(word)  # an abbreviation: UBND, HĐND, BHXH
            elif not out or word in _AGENCY_HEADS:
                out.append(_cap(word))
                proper = word in ("SỞ", "BỘ")
            elif proper:
                out.append(_cap(word))  # the field of a Sở: Nội (vụ), Y (tế)
                proper = False
            else:
                out.append(word.lower())
    return " ".join(part for part in out if part)


# --- formatters --------------------------------------------------------------------------------------

def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(value)


def _as_date(value: Any) -> date:
    if not isinstance(value, date):
        raise ValueError(f"expected a date, got {value!r}")
    return value.date() if isinstance(value, datetime) else value


def _join(value: Any, sep: str | None) -> str:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"expected a list, got {value!r}")
    return (sep if sep is not None else ", ").join(to_text(v) for v in value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


FORMATTERS: dict[str, Callable[[Any, str | None], Any]] = {
    "money": lambda v, a: group_digits(_as_int(v)) + " đồng",
    "number": lambda v, a: group_digits(_as_int(v)),
    "words": lambda v, a: money_words(_as_int(v)),
    "spell": lambda v, a: spell_number(_as_int(v)),
    "long": lambda v, a: long_date(_as_date(v)),
    "short": lambda v, a: short_date(_as_date(v)),
    "time": lambda v, a: clock_time(v),
    "weekday": lambda v, a: weekday_vi(_as_date(v)),
    "upper": lambda v, a: to_text(v).upper(),
    "lower": lambda v, a: to_text(v).lower(),
    "agency": lambda v, a: agency_vi(to_text(v)),
    "or": lambda v, a: (a or "") if _empty(v) else v,
    "join": _join,
    "count": lambda v, a: len(v),
}


def to_text(value: Any) -> str:
    """The default text of a value: dates as 05/03/2026, numbers as written, strings NFC."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, bool) or value is None:
        raise ValueError(f"no text for {value!r}")
    if isinstance(value, date):
        return short_date(_as_date(value))
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    raise ValueError(f"no text for a {type(value).__name__}")


# --- parsing and expansion ---------------------------------------------------------------------------

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")


@dataclasses.dataclass(frozen=True)
class Placeholder:
    path: str
    optional: bool
    pipes: tuple[tuple[str, str | None], ...]


Segment = str | Placeholder


def parse_path(expr: str) -> tuple[str, bool]:
    """'team.members?' -> ('team.members', True); raises ValueError when malformed."""
    path, optional = (expr[:-1], True) if expr.endswith("?") else (expr, False)
    if not _PATH.fullmatch(path):
        raise ValueError(f"bad path {expr!r}")
    return path, optional


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple[Segment, ...]:
    """Split template text into literal strings and placeholders; raises ValueError when malformed."""
    segments: list[Segment] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        segments.append(text[pos:match.start()])
        token = match.group(0)
        if token in ("{{", "}}"):
            segments.append(token[0])
        elif match.group(1) is None:
            raise ValueError(f"unmatched brace at {match.start()} in {text!r}")
        else:
            segments.append(_placeholder(match.group(1).strip()))
        pos = match.end()
    segments.append(text[pos:])
    return tuple(s for s in segments if s != "")


def _placeholder(body: str) -> Placeholder:
    head, *pipes = body.split("|")
    path, optional = parse_path(head.strip())
    parsed: list[tuple[str, str | None]] = []
    for pipe in pipes:
        name, colon, arg = pipe.partition(":")
        name = name.strip()
        if name not in FORMATTERS:
            raise ValueError(f"unknown formatter {name!r} in {{{body}}}")
        parsed.append((name, arg if colon else None))
    return Placeholder(path, optional, tuple(parsed))


_MISSING = object()


def _step(value: Any, segment: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(segment, _MISSING)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return value[int(segment)] if segment.isdigit() and int(segment) < len(value) else _MISSING
    if segment.startswith("_") or value is None:
        return _MISSING
    found = getattr(value, segment, _MISSING)
    return _MISSING if callable(found) else found


def resolve(scopes: Sequence[Mapping[str, Any]], path: str, *, optional: bool, template: str) -> Any:
    """The value at ``path``; the first segment is looked up innermost scope first."""
    first, *rest = path.split(".")
    value = next((s[first] for s in scopes if first in s), _MISSING)
    for segment in rest:
        if value is _MISSING:
            break
        value = _step(value, segment)
    if value is _MISSING:
        if optional:
            return None
        raise TemplateError(f"thiếu dữ liệu '{path}' (missing key)", template=template, key=path)
    return value


def evaluate(ph: Placeholder, scopes: Sequence[Mapping[str, Any]], *, template: str) -> str:
    value = resolve(scopes, ph.path, optional=ph.optional, template=template)
    try:
        for name, arg in ph.pipes:
            if value is not None or name == "or":  # None passes through to a trailing '|or:'
                value = FORMATTERS[name](value, arg)
        if value is None and ph.optional:
            return ""
        if value is None:
            raise ValueError("giá trị rỗng (None); dùng '|or:...' trong mẫu nếu được phép để trống")
        return to_text(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        message = f"không định dạng được '{ph.path}': {exc}"
        raise TemplateError(message, template=template, key=ph.path) from exc


def expand(text: str, scopes: Sequence[Mapping[str, Any]], *, template: str) -> tuple[str, str]:
    """Template text -> (reportlab Paragraph markup, plain text). Values are escaped and never styled."""
    try:
        segments = parse(nfc(text))
    except ValueError as exc:
        raise TemplateError(str(exc), template=template) from exc
    markup: list[str] = []
    plain: list[str] = []
    open_tags = {"**": False, "__": False}
    for segment in segments:
        if isinstance(segment, Placeholder):
            value = nfc(evaluate(segment, scopes, template=template))
            markup.append(escape(value).replace("\n", "<br/>"))
            plain.append(value)
            continue
        for piece in re.split(r"(\*\*|__)", segment):
            if piece in open_tags:
                tag = "b" if piece == "**" else "i"
                markup.append(f"</{tag}>" if open_tags[piece] else f"<{tag}>")
                open_tags[piece] = not open_tags[piece]
            else:
                markup.append(escape(piece).replace("\n", "<br/>"))
                plain.append(piece)
    if any(open_tags.values()):
        raise TemplateError(f"'**' hoặc '__' không đóng trong {text!r}", template=template)
    return "".join(markup), "".join(plain)


def signer_of(full_name: str, person_title: str) -> dict[str, str]:
    """How a person signs under NĐ 30/2020, for a signature line ``{ signer = "signer" }``: the title without the body
    ("Phó Giám đốc Sở Nội vụ" → "Phó Giám đốc"), and for a deputy the head's title they sign for ("KT. GIÁM ĐỐC")."""
    title = re.sub(r"\s+(?:Sở|Ủy ban|UBND|Thanh tra|Đoàn)\b.*$", "", nfc(person_title).strip()) or nfc(person_title).strip()
    if title.startswith("Phó "):
        head = title[4:]
        return {"full_name": full_name, "title": title, "for_title": head[:1].upper() + head[1:]}
    return {"full_name": full_name, "title": title}

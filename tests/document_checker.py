"""A document checker: what a legal officer and a văn thư look for first in an issued PDF (NĐ 30/2020, forms MBB01 and
MQĐ02), read from the PDF itself — the text and, for the căn cứ lines, the font each line is drawn in.

``check_pdf(path, doc_type)`` returns the problems found, each a short English tag and the offending snippet:

- ``number``: a document number below 10 without its leading zero ("Số: 1/QĐ-UBND");
- ``basis-upright`` / ``basis-punctuation``: a căn cứ line not in italics, or not ending with ";" (the last with ".");
- ``lonely-signature``: a page holding only the signature block or "Nơi nhận";
- ``leftover``: "..", ".;", "(nếu có)", "— Từ", a dotted line "……" in a document with no field left for handwriting;
- ``penalty-as-act``: the decree's penalty sentence ("Phạt tiền từ … đồng") printed as an act;
- ``working-in-decision``: the proposal's working in a sanction decision ("đề xuất", "mức trung bình", " : 2 =");
- ``signer``: "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH" as a signature line, or a deputy ("PHÓ …") without "KT.";
- ``unsigned-sheet``: a page but the last of a violation record of several pages without, at its foot, the row of
  signature labels (the drafter and the violator) — Luật XLVPHC Art.58 cl.3: every sheet is signed;
- ``sheet-count``: a violation record that does not say how many sheets it has ("gồm 03 tờ", form MBB01), or says a
  number that is not its page count.
Used by the demo's test over every document it issues and by ``benchmarks/campaign.py`` over a 400-inspection
campaign; it also runs on the documents of an older engine to show what it finds there.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.pdf_support import squash

# documents with fields left on purpose for handwriting (statements, witnesses, the reason for not signing)
HANDWRITTEN = {"minutes", "violation_record"}
_NUMBER = re.compile(r"Số: (\d+)/")
_LEFTOVERS = (re.compile(r"(?<![.…])\.\.(?![.…])"), re.compile(r"\.;"), re.compile(r"\(nếu có\)"), re.compile(r"— Từ"))
_DOTS = re.compile(r"…{2,}|\.{4,}")
_PENALTY = re.compile(r"Phạt tiền (?:từ [\d.]+ đồng|đối với)")
_WORKING = (re.compile(r"đề xuất"), re.compile(r"[Mm]ức trung bình"), re.compile(r" : 2 ="),
            re.compile(r"có thể quyết định mức khác"))
_SIGNATURE_HEADS = ("Nơi nhận",)
_SHEETS = re.compile(r"gồm (\d+) tờ")
# documents signed sheet by sheet: the labels the foot of every page but the last shows (the violator's label varies:
# "Đại diện tổ chức vi phạm", "Chủ hộ kinh doanh vi phạm")
_SIGNED_SHEETS = {"violation_record": (re.compile(r"Người lập biên bản"), re.compile(r"\bvi phạm\b"))}


@dataclass(frozen=True)
class Problem:
    tag: str
    snippet: str

    def __str__(self) -> str:
        return f"{self.tag}: {self.snippet}"


@dataclass
class _Line:
    font: str
    text: str


def _pages(path: Path) -> list[tuple[str, list[_Line]]]:
    """Each page's text and its lines with the font they are drawn in."""
    out = []
    for page in PdfReader(path).pages:
        lines: list[_Line] = []
        current: dict[str, Any] = {"y": None}

        def visit(chunk: str, cm: list[float], tm: list[float], font: Any, size: float,
                  lines: list[_Line] = lines, current: dict[str, Any] = current) -> None:
            body = chunk.replace("\n", "")
            if not body.strip() or font is None:
                return
            name = str(font["/BaseFont"]).split("+", 1)[-1]
            y = round(cm[5] + tm[5], 1)
            if lines and current["y"] == y:
                lines[-1].text += body
            else:
                lines.append(_Line(name, body))
            current["y"] = y

        text = page.extract_text(visitor_text=visit) or ""
        out.append((squash(text), lines))
    return out


def _basis_problems(pages: list[tuple[str, list[_Line]]]) -> list[Problem]:
    """Every line starting "Căn cứ" is italic; the căn cứ block (the italic lines from the first "Căn cứ" on) reads as
    sentences each ending with ";", the last with "."."""
    problems = []
    lines = [line for _, page in pages for line in page]
    block: list[str] = []
    for i, line in enumerate(lines):
        text = squash(line.text)
        if text.startswith("Căn cứ"):
            if "Italic" not in line.font:
                problems.append(Problem("basis-upright", text[:70]))
            block.append(text)
        elif block and "Italic" in line.font and "Italic" in lines[i - 1].font:
            block[-1] += " " + text  # the căn cứ line goes on
    sentences = [s.strip() for s in re.split(r"(?=Căn cứ )", " ".join(block)) if s.strip()]
    for i, sentence in enumerate(sentences):
        expected = "." if i == len(sentences) - 1 else ";"
        if not sentence.endswith(expected):
            problems.append(Problem("basis-punctuation", f"…{sentence[-50:]} (expected '{expected}')"))
    return problems


def check_pdf(path: Path, doc_type: str) -> list[Problem]:
    """The problems of one issued PDF (empty when it reads as an official would sign it)."""
    pages = _pages(path)
    text = " ".join(t for t, _ in pages)
    problems: list[Problem] = []
    for match in _NUMBER.finditer(text):
        if len(match.group(1)) < 2:
            problems.append(Problem("number", text[match.start():match.start() + 20]))
    if doc_type in ("sanction_decision", "inspection_decision", "minutes", "violation_record", "proposal"):
        problems += _basis_problems(pages)
    last = pages[-1][0]
    if len(pages) > 1 and any(h in last for h in _SIGNATURE_HEADS):
        before = last.split("Nơi nhận")[0]
        before = re.sub(r"^\d+\s*", "", before).strip()  # the page number
        if len(before) < 40:
            problems.append(Problem("lonely-signature", last[:80]))
    for pattern in _LEFTOVERS:
        for match in pattern.finditer(text):
            problems.append(Problem("leftover", text[max(0, match.start() - 40):match.end() + 20]))
    if doc_type not in HANDWRITTEN and doc_type != "proposal":
        for match in _DOTS.finditer(text):
            problems.append(Problem("leftover", text[max(0, match.start() - 40):match.end() + 5]))
    if doc_type in ("minutes", "violation_record", "sanction_decision"):
        for match in _PENALTY.finditer(text):
            problems.append(Problem("penalty-as-act", text[max(0, match.start() - 10):match.end() + 50]))
    if doc_type == "sanction_decision":
        for pattern in _WORKING:
            for match in pattern.finditer(text):
                problems.append(Problem("working-in-decision", text[max(0, match.start() - 40):match.end() + 20]))
    if doc_type in _SIGNED_SHEETS:
        for number, (page, _) in enumerate(pages[:-1], start=1):
            foot = re.sub(r"^\d+\s*", "", page)[-120:]
            if not all(label.search(foot) for label in _SIGNED_SHEETS[doc_type]):
                problems.append(Problem("unsigned-sheet", f"page {number} of {len(pages)}: …{foot[-60:]}"))
        counted = _SHEETS.search(text)
        if counted is None or int(counted.group(1)) != len(pages):
            said = counted.group(0) if counted else "no 'gồm … tờ'"
            problems.append(Problem("sheet-count", f"{said}, {len(pages)} pages"))
    tail = text[-160:]
    if re.search(r"CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH(?! [A-ZĐ]+ [A-ZĐ]+ QUYẾT)", tail):
        problems.append(Problem("signer", tail[-90:]))
    for match in re.finditer(r"(?<!KT\. )(?<![A-ZĐ] )PHÓ (GIÁM ĐỐC|CHỦ TỊCH|CHÁNH THANH TRA)", tail):
        if "KT." not in tail[:match.start()]:
            problems.append(Problem("signer", tail[max(0, match.start() - 40):match.end() + 10]))
    return problems


def check_store(documents: list[tuple[Path, str]]) -> dict[Path, list[Problem]]:
    """Every document with its problems (only those that have some)."""
    found = {}
    for path, doc_type in documents:
        problems = check_pdf(path, doc_type)
        if problems:
            found[path] = problems
    return found


def _doc_type_of(path: Path) -> str:
    return path.stem.rsplit("-", 1)[0]


def main(argv: list[str]) -> int:
    """``python -m tests.document_checker DOCUMENTS_DIR``: the problems of every PDF below a document store."""
    root = Path(argv[0]) if argv else Path("var/documents")
    documents = [(p, _doc_type_of(p)) for p in sorted(root.rglob("*.pdf")) if "selection" not in p.parts]
    found = check_store(documents)
    tags: dict[str, int] = {}
    for problems in found.values():
        for p in problems:
            tags[p.tag] = tags.get(p.tag, 0) + 1
    for path, problems in found.items():
        print(f"{path.relative_to(root)}: {len(problems)} — {problems[0]}")  # noqa: T201
    print(f"{len(documents)} documents, {len(found)} with problems; by kind: {tags}")  # noqa: T201
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

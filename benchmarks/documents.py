"""Benchmark: issuing the minutes (biên bản kiểm tra) as PDFs, the project's renderer against bare reportlab.

Contexts: ``--docs`` (default 500) minutes, each in the shape ``services.stages.records`` gives the renderer
(``establishment_context`` over a registry row, ``violations_context`` over proposed fines): establishments from
the synthetic Cao Bằng registry (``services.demo.registry``), a team of 3-6 people (``generate_people``) from
the province's agencies, 6-20 items of the 2025 checklist with seeded results (about a quarter failed, a few not
applicable, workers counted where the item counts them, a note on some), one violation per failed clause with
the amount ``propose_fine`` proposes. They are built before any clock starts.

Two renderers, over the same contexts, in the same process, interleaved in ``--rounds`` batches (the order of
the two swapped each round, so the machine's drift falls on both alike), after a warm-up of each:

- **project**: ``render_pdf("bien_ban_kiem_tra", context, path)``: the template's placeholders expanded per
  block, the glyph check, the platypus story, the PDF built, its sha256, the file written atomically (fsync).
- **bare**: what reportlab alone costs for the same document: the same fonts (the same Liberation Serif files,
  registered once under names of its own), A4, the same margins, and the same paragraphs written out by hand
  as a reportlab script would (f-strings over the context, escaped for reportlab's markup): the header as a
  two-column table with its rules, the title, every paragraph and list item with the same styles and headings
  kept with what follows, the findings table (grid, header row repeated), the signatures, page numbers from the
  second page; ``invariant=1``; the bytes written with ``Path.write_bytes``. Before timing, the text of both
  PDFs (pypdf, whitespace folded) and their page counts are compared for a few contexts: the baseline draws the
  same document, else the run stops.

``ratio_vs_bare_reportlab`` is the project's documents per second over the bare script's (1.0: no overhead).
``--profile`` prints the 25 most expensive functions (cumulative) of the project renderer over the contexts.

Then the signing phase (``benchmarks/signing.py``, issue 17): the first ``--sign-docs`` minutes signed by the competent
person and sealed by the organisation at PAdES B-LT (timestamp, revocation data embedded; the tests' certomancer PKI on
loopback), through the project's path and by a bare pyHanko script, interleaved in ``--rounds`` batches;
``signing_ratio_vs_bare_pyhanko`` is the project's signed documents per second over the script's. ``--profile-signing``
prints the project signing path's cProfile. ``--sign-docs 0`` skips the phase. The last line is one JSON object.

    python benchmarks/documents.py [--docs 500] [--rounds 5] [--profile] [--sign-docs 100] [--profile-signing]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader  # noqa: E402
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    CondPageBreak, HRFlowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from models import Establishment, Ownership, TeamRole, Violation  # noqa: E402
from services.documents.acts import counts_vi  # noqa: E402
from services.documents import render_pdf  # noqa: E402
from services.documents.format import clock_time, group_digits, long_date  # noqa: E402
from services.demo.registry import generate_people, generate_registry  # noqa: E402
from services.rules.checklist import load_checklist  # noqa: E402
from services.rules.fines import load_fine_table, propose_fine  # noqa: E402
from services.settings import TEMPLATES_DIR  # noqa: E402
from services.stages.records import _RESULT_VI, _ROLE_VI, establishment_context, violations_context  # noqa: E402

TEMPLATE = "bien_ban_kiem_tra"
START = date(2026, 3, 2)
AGENCIES = ("Sở Nội vụ", "Sở Y tế", "Liên đoàn Lao động tỉnh", "Bảo hiểm xã hội tỉnh", "Công an tỉnh", "Sở Công Thương")
TITLES = ("Chuyên viên", "Thanh tra viên", "Phó Trưởng phòng", "Trưởng phòng", "Cán bộ")
NOTES = ("", "", "Đã xem hồ sơ", "Chưa cung cấp hồ sơ", "Hồ sơ chưa cập nhật năm 2025", "Đã khắc phục tại chỗ")
RESULTS = ("pass", "pass", "pass", "pass", "pass", "fail", "fail", "not_applicable")


# --------------------------------------------------------------------------- contexts


def make_contexts(n: int, seed: int = 2026) -> list[dict[str, Any]]:
    """``n`` minutes contexts in the shape issuing gives them (see the module docstring)."""
    rng = random.Random(seed)
    checklist, fines = load_checklist(START), load_fine_table()
    people = generate_people(6 * n, seed=seed)
    issuer = {"parent_name": "UBND tỉnh Cao Bằng", "name": "Sở Nội vụ", "code": "SNV", "place": "Cao Bằng"}
    campaign = {"code": "CB-2026-01", "title": "Kiểm tra liên ngành về an toàn, vệ sinh lao động năm 2026",
                "legal_basis": ["Bộ luật Lao động năm 2019", "Luật An toàn, vệ sinh lao động năm 2015",
                                "Nghị định số 12/2022/NĐ-CP ngày 17/01/2022 của Chính phủ",
                                "Kế hoạch số 664/KH-UBND năm 2025 của UBND tỉnh Cao Bằng"],
                "decision_ref": "Quyết định số 15/QĐ-UBND ngày 10/02/2026"}
    contexts = []
    for i, row in enumerate(generate_registry(n, province_codes=["04"], seed=seed, as_of=START)):
        establishment = Establishment(**row)
        size = rng.randint(3, 6)
        members = [{"full_name": p["full_name"], "title": rng.choice(TITLES), "agency": AGENCIES[k % len(AGENCIES)],
                    "role_vi": _ROLE_VI[TeamRole.HEAD if k == 0 else TeamRole.DEPUTY if k == 1 else TeamRole.MEMBER]}
                   for k, p in enumerate(people[6 * i:6 * i + size])]
        items = sorted(rng.sample(checklist.items, rng.randint(6, 20)), key=lambda item: item.code)
        findings, failed = [], {}
        for item in items:
            result = rng.choice(RESULTS)
            workers = rng.randint(1, max(1, row["workforce"])) if result == "fail" and item.counts_workers else None
            devices = rng.randint(1, 4) if result == "fail" and item.counts_devices else None
            findings.append({"item_code": item.code, "item_text": item.text_vi, "result_vi": _RESULT_VI[result],
                             "workers_affected": workers, "counts_vi": counts_vi(workers, devices),
                             "note": rng.choice(NOTES)})
            if result == "fail":
                failed.setdefault(item.provision, (workers, devices))
        violations = []
        for provision, (workers, devices) in failed.items():
            proposal = propose_fine(fines.get(provision), organisation=row["ownership"] != Ownership.HOUSEHOLD,
                                    workers=workers, devices=devices, aggravating=int(row["past_violations"] > 0))
            violations.append(Violation(provision_code=proposal.code, proposed_amount=proposal.amount,
                                        range_min=proposal.range_min, range_max=proposal.range_max,
                                        reasoning=list(proposal.reasoning_vi)))
        day = START + timedelta(days=i // 4)
        start = ("08:00", "14:00")[i % 2]
        contexts.append({
            "issuer": issuer, "number": f"{i + 1}/BB-ĐKT", "issued_on": day, "campaign": campaign,
            "team": {"name": f"Đoàn kiểm tra liên ngành số {i % 8 + 1}", "head": members[0], "members": members},
            "establishment": establishment_context(establishment),
            "inspection": {"date": day, "start_time": start, "end_time": f"{int(start[:2]) + 3:02d}:00",
                           "place": row["address"]},
            "findings": findings, "violations": violations_context(violations),
            "total_amount": sum(v.proposed_amount for v in violations),
        })
    return contexts


# --------------------------------------------------------------------------- the bare reportlab script


BARE = "BareSerif"


def register_bare_fonts() -> None:
    """The same Liberation Serif files, under names of the script's own."""
    faces = {BARE: "Regular", f"{BARE}-Bold": "Bold", f"{BARE}-Italic": "Italic", f"{BARE}-BoldItalic": "BoldItalic"}
    for name, face in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(TEMPLATES_DIR / "fonts" / f"LiberationSerif-{face}.ttf")))
    pdfmetrics.registerFontFamily(BARE, normal=BARE, bold=f"{BARE}-Bold", italic=f"{BARE}-Italic",
                                  boldItalic=f"{BARE}-BoldItalic")


def style(size: float = 13, align: int = TA_JUSTIFY, indent: bool = True, font: str = BARE,
          after: float = 6) -> ParagraphStyle:
    return ParagraphStyle(f"{font}-{size}-{align}-{indent}-{after}", fontName=font, fontSize=size,
                          leading=round(size * 1.25, 2), alignment=align, firstLineIndent=10 * mm if indent else 0,
                          spaceAfter=after)


MARGIN = {"top": 20 * mm, "bottom": 20 * mm, "left": 30 * mm, "right": 15 * mm}
WIDTH = A4[0] - MARGIN["left"] - MARGIN["right"]
ALL = ((0, 0), (-1, -1))
BODY, CENTER = style(), style(13, TA_CENTER, False, after=0)
CELL = style(12, 0, False, after=0)
CELL_CENTER, CELL_HEAD = style(12, TA_CENTER, False, after=0), style(12, TA_CENTER, False, f"{BARE}-Bold", 0)
TITLE = style(14, TA_CENTER, False, f"{BARE}-Bold", 0)


def bare_minutes(ctx: dict[str, Any], out: Path) -> int:
    """The minutes in plain reportlab platypus, wording as in templates/bien_ban_kiem_tra.toml. Returns pages."""
    x = escape
    issuer, team, e, insp = ctx["issuer"], ctx["team"], ctx["establishment"], ctx["inspection"]
    sub = "Độc lập - Tự do - Hạnh phúc"
    left = [Paragraph(x(issuer["parent_name"].upper()), style(12.5, TA_CENTER, False, after=0)),
            Paragraph(x(issuer["name"].upper()), style(12.5, TA_CENTER, False, f"{BARE}-Bold", 0)),
            HRFlowable(width=min(pdfmetrics.stringWidth(issuer["name"].upper(), f"{BARE}-Bold", 12.5), 70 * mm) / 3,
                       thickness=0.6, color="black", spaceBefore=4)]
    right = [Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style(12, TA_CENTER, False, f"{BARE}-Bold", 0)),
             Paragraph(sub, style(13, TA_CENTER, False, f"{BARE}-Bold", 0)),
             HRFlowable(width=pdfmetrics.stringWidth(sub, f"{BARE}-Bold", 13), thickness=0.6, color="black",
                        spaceBefore=4)]
    header = Table([[left, right], [Paragraph(f"Số: {x(ctx['number'])}", CENTER),
                                    Paragraph(f"{x(issuer['place'])}, {long_date(ctx['issued_on'])}",
                                              style(13, TA_CENTER, False, f"{BARE}-Italic", 0))]],
                   colWidths=[70 * mm, WIDTH - 70 * mm])
    header.setStyle(TableStyle([("FONT", *ALL, BARE, 13), ("VALIGN", *ALL, "TOP"), ("ALIGN", *ALL, "CENTER"),
                                ("LEFTPADDING", *ALL, 0), ("RIGHTPADDING", *ALL, 0),
                                ("TOPPADDING", (0, 1), (-1, 1), 6), ("BOTTOMPADDING", *ALL, 0)]))
    subtitle = "Việc chấp hành pháp luật về an toàn, vệ sinh lao động"
    story: list[Any] = [
        header, Spacer(1, 14), Paragraph("BIÊN BẢN KIỂM TRA", TITLE), Paragraph(subtitle, TITLE),
        HRFlowable(width=min(pdfmetrics.stringWidth(subtitle, f"{BARE}-Bold", 14), WIDTH) / 3, thickness=0.6,
                   color="black", spaceBefore=3), Spacer(1, 8)]
    story += [Paragraph(f"Căn cứ {x(basis)};", BODY) for basis in ctx["campaign"]["legal_basis"]]
    story.append(Paragraph(f"Căn cứ {x(ctx['campaign']['decision_ref'])} ({x(ctx['campaign']['title'])}).", BODY))
    story.append(Paragraph(
        f"Hôm nay, vào hồi {clock_time(insp['start_time'])}, {long_date(insp['date'])}, tại {x(insp['place'])}, "
        f"{x(team['name'])} tiến hành kiểm tra việc chấp hành pháp luật về an toàn, vệ sinh lao động tại "
        f"{x(e['name'])}.", BODY))

    def heading(text: str) -> None:
        story.extend([CondPageBreak(30 * mm), Paragraph(f"<b>{text}</b>", BODY)])

    heading("I. THÀNH PHẦN")
    heading("1. Đại diện Đoàn kiểm tra:")
    story += [Paragraph(f"- {x(m['full_name'])}, {x(m['title'])}, {x(m['agency'])} - {x(m['role_vi'])};", BODY)
              for m in team["members"]]
    heading("2. Đại diện cơ sở được kiểm tra:")
    story.append(Paragraph(f"- {x(e['legal_representative'])}, {x(e['representative_title'])}.", BODY))
    story.append(Paragraph(
        f"Tên cơ sở: {x(e['name'])}; mã số thuế: {x(e['tax_code'])}; địa chỉ: {x(e['address'])}; ngành nghề: "
        f"{x(e['sector_vi'])}; tổng số lao động: {group_digits(e['workforce'])} người.", BODY))
    heading("II. NỘI DUNG VÀ KẾT QUẢ KIỂM TRA")
    rows = [[Paragraph(h, CELL_HEAD) for h in ("TT", "Mã", "Nội dung kiểm tra", "Kết quả",
                                                           "Số NLĐ, máy liên quan", "Ghi chú")]]
    for number, f in enumerate(ctx["findings"], start=1):
        workers = f["counts_vi"] or "-"
        rows.append([Paragraph(str(number), CELL_CENTER), Paragraph(x(f["item_code"]), CELL_CENTER),
                     Paragraph(x(f["item_text"]), CELL), Paragraph(x(f["result_vi"]), CELL_CENTER),
                     Paragraph(workers, CELL_CENTER), Paragraph(x(f["note"] or ""), CELL)])
    widths = (11, 16, 60, 22, 20, 36)
    table = Table(rows, colWidths=[WIDTH * w / sum(widths) for w in widths], repeatRows=1)
    table.setStyle(TableStyle([("FONT", *ALL, BARE, 13), ("VALIGN", *ALL, "TOP"), ("GRID", *ALL, 0.5, "black"),
                               ("VALIGN", (0, 0), (-1, 0), "MIDDLE"), ("TOPPADDING", *ALL, 3),
                               ("BOTTOMPADDING", *ALL, 4)]))
    story += [table, Spacer(1, 6)]
    heading("III. KẾT LUẬN VỀ VI PHẠM")
    for number, v in enumerate(ctx["violations"], start=1):
        story.append(Paragraph(f"{number}. {x(v['description'])}; vi phạm quy định tại {x(v['provision_vi'])}.", BODY))
        if v["remedial_vi"]:
            story.append(Paragraph(f"Biện pháp khắc phục hậu quả: {x(v['remedial_vi'])}.", BODY))
    if ctx["violations"]:
        story.append(Paragraph("Đối với các hành vi vi phạm nêu trên, Đoàn kiểm tra lập biên bản vi phạm hành chính và "
                               "chuyển người có thẩm quyền xử phạt theo quy định của pháp luật.", BODY))
    else:
        story.append(Paragraph("Qua kiểm tra, Đoàn kiểm tra không phát hiện hành vi vi phạm hành chính về an toàn, vệ "
                               "sinh lao động tại cơ sở.", BODY))
    heading("IV. Ý KIẾN, KIẾN NGHỊ CỦA CƠ SỞ ĐƯỢC KIỂM TRA")
    dots = "…" * 33
    story.append(Paragraph(f"{dots}\n{dots}", style(indent=False)))
    heading("V. KẾT THÚC KIỂM TRA")
    story.append(Paragraph(
        f"Buổi kiểm tra kết thúc vào hồi {clock_time(insp['end_time'])} cùng ngày. Biên bản đã được đọc lại cho các "
        "thành viên Đoàn kiểm tra và đại diện cơ sở cùng nghe, nhất trí thông qua và ký tên dưới đây. Biên bản được "
        "lập thành 02 bản có giá trị pháp lý như nhau: Đoàn kiểm tra giữ 01 bản, "
        f"{x(e['name'])} giữ 01 bản.", BODY))
    signatures = [[[Paragraph(f"<b>{who}</b>", CENTER), Paragraph(f"<i>{how}</i>", CENTER), Spacer(1, 25 * mm),
                    Paragraph(f"<b>{x(name)}</b>", CENTER)] for who, how, name in (
        ("ĐẠI DIỆN CƠ SỞ ĐƯỢC KIỂM TRA", "(Ký, ghi rõ họ tên, đóng dấu)", e["legal_representative"]),
        ("TRƯỞNG ĐOÀN KIỂM TRA", "(Ký, ghi rõ họ tên)", team["head"]["full_name"]))]]
    signed = Table(signatures, colWidths=[WIDTH / 2, WIDTH / 2])
    signed.setStyle(TableStyle([("FONT", *ALL, BARE, 13), ("VALIGN", *ALL, "TOP"), ("LEFTPADDING", *ALL, 2),
                                ("RIGHTPADDING", *ALL, 2)]))
    closing, heading = story.pop(), story.pop()  # as the renderer does (NĐ 30): signatures kept with the last
    story.append(KeepTogether([heading, closing, Spacer(1, 6), signed]))  # paragraph and its heading

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(BARE, 13)
        canvas.drawCentredString(MARGIN["left"] + WIDTH / 2, A4[1] - 13 * mm, str(doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN["left"], rightMargin=MARGIN["right"],
                            topMargin=MARGIN["top"], bottomMargin=MARGIN["bottom"], invariant=1,
                            title=f"Biên bản kiểm tra số {ctx['number']} - {e['name']}", creator="bare")
    doc.build(story, onLaterPages=page_number)
    out.write_bytes(buffer.getvalue())
    return doc.page


# --------------------------------------------------------------------------- measuring


def project_minutes(ctx: dict[str, Any], out: Path) -> int:
    return render_pdf(TEMPLATE, ctx, out).pages


def text_of(path: Path) -> tuple[int, str]:
    pages = PdfReader(path).pages
    return len(pages), re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages)).strip()


def check_same_document(contexts: list[dict[str, Any]], folder: Path) -> None:
    """The baseline must draw the same text on the same number of pages, else it measures something else."""
    for i, ctx in enumerate(contexts):
        project_minutes(ctx, folder / f"check-project-{i}.pdf")
        bare_minutes(ctx, folder / f"check-bare-{i}.pdf")
        ours, bare = text_of(folder / f"check-project-{i}.pdf"), text_of(folder / f"check-bare-{i}.pdf")
        if ours != bare:
            at = next((k for k, (a, b) in enumerate(zip(ours[1], bare[1], strict=False)) if a != b), None)
            raise SystemExit(f"the bare script draws another document (context {i}, pages {ours[0]} vs {bare[0]}, "
                             f"first difference at {at}: {ours[1][at or 0:][:80]!r} vs {bare[1][at or 0:][:80]!r})")


def timed(render: Callable[[dict[str, Any], Path], int], contexts: list[dict[str, Any]], folder: Path,
          latencies: list[float], pages: list[int]) -> float:
    start = time.perf_counter()
    for i, ctx in enumerate(contexts):
        t = time.perf_counter()
        pages.append(render(ctx, folder / f"{i:05d}.pdf"))
        latencies.append(time.perf_counter() - t)
    return time.perf_counter() - start


def profile(contexts: list[dict[str, Any]], folder: Path) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for i, ctx in enumerate(contexts):
        project_minutes(ctx, folder / f"profile-{i:05d}.pdf")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def signing_figures(contexts: list[dict[str, Any]], folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The signing phase over the minutes the project rendered into ``folder`` (see ``benchmarks/signing.py``)."""
    from benchmarks.pki import benchmark_pki
    from benchmarks.signing import load_unsigned, profile_signing, signing_phase

    with benchmark_pki() as pki:
        docs = load_unsigned(contexts, folder, min(args.sign_docs, len(contexts)))
        figures = signing_phase(pki, docs, args.rounds)
        if args.profile_signing:
            print(profile_signing(pki, docs[:20]), flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved batches per renderer")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the project renderer")
    parser.add_argument("--sign-docs", type=int, default=100, help="minutes signed in the signing phase (0: none)")
    parser.add_argument("--profile-signing", action="store_true", help="print a cProfile of the project's signing")
    args = parser.parse_args()
    built = time.perf_counter()
    contexts = make_contexts(args.docs)
    built_s = time.perf_counter() - built
    findings = [len(c["findings"]) for c in contexts]
    violations = [len(c["violations"]) for c in contexts]
    print(f"{len(contexts)} contexts in {built_s:.1f}s: findings {min(findings)}-{max(findings)} "
          f"(mean {statistics.mean(findings):.1f}), violations {min(violations)}-{max(violations)} "
          f"(mean {statistics.mean(violations):.1f}), none for {violations.count(0)}", flush=True)
    register_bare_fonts()
    with tempfile.TemporaryDirectory(prefix="kiemtra-bench-docs-") as tmp:
        root = Path(tmp)
        folders = {"project": root / "project", "bare": root / "bare"}
        for folder in folders.values():
            folder.mkdir()
        check_same_document(contexts[:5] + [c for c in contexts if not c["violations"]][:1], root)
        renderers = {"project": project_minutes, "bare": bare_minutes}
        for name, render in renderers.items():  # warm-up: imports, font subsets' code paths, template cache
            timed(render, contexts[:10], folders[name], [], [])
        seconds = dict.fromkeys(renderers, 0.0)
        latencies: dict[str, list[float]] = {name: [] for name in renderers}
        pages: dict[str, list[int]] = {name: [] for name in renderers}
        size = -(-len(contexts) // args.rounds)
        for r in range(args.rounds):
            batch = contexts[r * size:(r + 1) * size]
            for name in (("project", "bare") if r % 2 == 0 else ("bare", "project")):
                seconds[name] += timed(renderers[name], batch, folders[name], latencies[name], pages[name])
        docs = len(contexts)
        rate = {name: docs / s for name, s in seconds.items()}
        sizes = [p.stat().st_size for p in folders["project"].glob("*.pdf")]
        for name in renderers:
            ms = sorted(1000 * t for t in latencies[name])
            print(f"{name:8s} {docs} docs in {seconds[name]:.2f}s: {rate[name]:.1f} docs/s, per doc p50 "
                  f"{ms[len(ms) // 2]:.1f} ms, p95 {ms[int(len(ms) * 0.95)]:.1f} ms, pages "
                  f"{min(pages[name])}-{max(pages[name])} (mean {statistics.mean(pages[name]):.2f})", flush=True)
        if args.profile:
            print(profile(contexts[:100], root), flush=True)
        signing = signing_figures(contexts, folders["project"], args) if args.sign_docs > 0 else {}
        print(json.dumps({
            "docs": docs, "docs_per_s": round(rate["project"], 1), "bare_docs_per_s": round(rate["bare"], 1),
            "ratio_vs_bare_reportlab": round(rate["project"] / rate["bare"], 3),
            "project_ms_p50": round(1000 * statistics.median(latencies["project"]), 2),
            "bare_ms_p50": round(1000 * statistics.median(latencies["bare"]), 2),
            "pages_mean": round(statistics.mean(pages["project"]), 2), "kb_mean": round(statistics.mean(sizes) / 1024, 1),
            "findings_mean": round(statistics.mean(findings), 1), "violations_mean": round(statistics.mean(violations), 2),
            "rounds": args.rounds, **signing,
        }))


if __name__ == "__main__":
    main()

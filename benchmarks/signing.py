"""The signing phase of ``benchmarks/documents.py`` (issue 17, Done-when 6): signed documents per second through the
project's signing path against bare pyHanko signing of the same PDFs, in the same run.

Both sign each rendered minutes twice, as NĐ 30/2020 has it: the competent person (the head of the team, whose title
and name close the minutes), then the organisation (the seal) over it; each signature PAdES B-LT (CAdES detached,
SHA-256), with a signature timestamp from the TSA and the chain's revocation data (OCSP, CRLs) embedded, against the
tests' certomancer PKI on loopback (``benchmarks/pki.py``), the same PKCS#12 keys, a fresh validation context per
document (hard-fail revocation, fetching allowed), the same field names and boxes.

- **project**: the issuing sequence's document work (``services.documents.signing_steps``, what
  ``services.documents.signed_issuing`` runs around its transactions) on the draft rendered with its number and date
  as empty fields: the person's certification signature (``certify_draft``: the signature block found in the PDF, the
  Appendix I signature image, the seal's field reserved), the Art.32 check of that signature (``person_signature_problem``:
  validated offline from what it embeds), the number and date filled in and the organisation's signature
  (``fill_and_seal``: the seal image with the organisation, e-mail and ISO 8601 signing time, drawn by reportlab in
  Liberation Serif); keys opened through ``SignerKey``. More work than the bare script does, all of it what an issued
  signed document needs.
- **bare**: what a pyHanko script costs: the boxes handed to it (computed before the clock starts), each key loaded once,
  ``PdfSigner`` with pyHanko's own stamps: the same images as backgrounds and, on the seal, the same lines in pyHanko's
  built-in font (without diacritics: it has no Vietnamese; ``pyHanko[opentype]`` is not installed).

Before timing, one document of each is verified (``verify_pdf``): both must reach B-LT, else the run stops.
``signing_ratio_vs_bare_pyhanko`` compares wall-clock rates; ``signing_cpu_ratio_vs_bare_pyhanko`` the process's CPU
seconds (the bare script's over the project's: above 1 the project spends less), steadier on a machine other work shares.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper
from pyhanko.stamp import StaticStampStyle, TextStampStyle
from pyhanko_certvalidator import ValidationContext

from benchmarks.pki import PASSPHRASE, TestPki, seal_png, signature_png
from services.documents import render_pdf
from services.documents.signing import (PERSON_REASON, SEAL_REASON, Box, find_signature_block, person_box, seal_box,
                                        validation_context, verify_pdf)
from services.documents.signing_steps import certify_draft, fill_and_seal, person_signature_problem

TITLE = "TRƯỞNG ĐOÀN KIỂM TRA"  # the minutes' signer line (templates/bien_ban_kiem_tra.toml)
ORGANISATION, EMAIL = "Sở Nội vụ tỉnh Cao Bằng", "snv@caobang.gov.vn"
PERSON_FIELD, SEAL_FIELD = "ChuKyNguoiCoThamQuyen", "ChuKyCoQuan"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


@dataclass(frozen=True)
class Unsigned:
    """One rendered minutes: its bytes, whose name closes it, and (for the bare script) where the boxes are."""

    pdf: bytes
    draft: bytes  # the same minutes rendered with empty number and date fields (the issuing sequence's draft)
    name: str
    page: int
    person: Box
    seal: Box


def load_unsigned(contexts: list[dict[str, Any]], folder: Path, n: int) -> list[Unsigned]:
    """The first ``n`` minutes rendered by the project into ``folder``, with their signature boxes."""
    out = []
    for i, ctx in enumerate(contexts[:n]):
        pdf = render_pdf("bien_ban_kiem_tra", ctx, folder / f"unsigned-{i:05d}.pdf").path.read_bytes()
        draft = render_pdf("bien_ban_kiem_tra", {**ctx, "number": ""}, folder / f"draft-{i:05d}.pdf",
                           fillable=True).path.read_bytes()
        name = ctx["team"]["head"]["full_name"]
        block = find_signature_block(pdf, TITLE, name)
        person = person_box(block)
        out.append(Unsigned(pdf, draft, name, block.page, person, seal_box(person)))
    return out


class ProjectSigning:
    """The project's path: the issuing sequence's document work (see the module), keys by ``SignerKey``."""

    def __init__(self, pki: TestPki) -> None:
        self.pki = pki
        self.signature = signature_png()
        self.seal = seal_png()
        self.seal_key = pki.key("so-noi-vu", ORGANISATION)

    def __call__(self, doc: Unsigned) -> bytes:
        context = validation_context([self.pki.root])
        signed = certify_draft(doc.draft, self.pki.key("giam-doc", doc.name), title=TITLE, name=doc.name,
                               signature_png=self.signature, tsa_url=self.pki.tsa_url, context=context)
        problem = person_signature_problem(signed, name="Bế Thanh Tịnh",  # the test certificate's holder
                                           trust_roots=[self.pki.root])
        if problem is not None:
            raise SystemExit(f"the person's signature does not hold: {problem}")
        return fill_and_seal(signed, number_text="Số: 01/BB-KT", date_text="Cao Bằng, ngày 05 tháng 12 năm 2026",
                             title=TITLE, name=doc.name, seal_key=self.seal_key, seal_png=self.seal,
                             organisation=ORGANISATION, email=EMAIL, tsa_url=self.pki.tsa_url, context=context)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in folded if not unicodedata.combining(c))


class BareSigning:
    """A pyHanko script: keys loaded once, the boxes given, pyHanko's own stamps over the same images."""

    def __init__(self, pki: TestPki) -> None:
        self.pki = pki
        load = signers.SimpleSigner.load_pkcs12_data
        self.person_key = load(pki.pkcs12("giam-doc").read_bytes(), (), passphrase=PASSPHRASE.encode())
        self.seal_key = load(pki.pkcs12("so-noi-vu").read_bytes(), (), passphrase=PASSPHRASE.encode())
        person_png = Image.open(io.BytesIO(signature_png()))
        seal_image = Image.open(io.BytesIO(seal_png()))
        self.person_style = StaticStampStyle(border_width=0, background=PdfImage(person_png))
        lines = [f"Ky boi: {_ascii(ORGANISATION)}", f"Email: {EMAIL}", "Thoi gian ky:", "%(ts)s"]
        self.seal_style = TextStampStyle(border_width=0, background=PdfImage(seal_image), background_opacity=1.0,
                                         stamp_text="\n".join(lines), timestamp_format=TS_FORMAT)

    def _sign(self, pdf: bytes, key: signers.Signer, field: str, box: Box, page: int, style: Any, reason: str,
              context: ValidationContext) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=field, subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=True,
            use_pades_lta=False, md_algorithm="sha256", validation_context=context, reason=reason)
        signer = signers.PdfSigner(meta, key, timestamper=HTTPTimeStamper(self.pki.tsa_url, timeout=10),
                                   stamp_style=style,
                                   new_field_spec=fields.SigFieldSpec(field, on_page=page, box=box.as_tuple()))
        return bytes(signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)).getvalue())

    def __call__(self, doc: Unsigned) -> bytes:
        context = ValidationContext(trust_roots=[self.pki.root], allow_fetching=True, revocation_mode="hard-fail")
        once = self._sign(doc.pdf, self.person_key, PERSON_FIELD, doc.person, doc.page, self.person_style,
                          PERSON_REASON, context)
        return self._sign(once, self.seal_key, SEAL_FIELD, doc.seal, doc.page, self.seal_style, SEAL_REASON, context)


def check_both_b_lt(pki: TestPki, paths: dict[str, Callable[[Unsigned], bytes]], doc: Unsigned) -> None:
    """Both paths must make what the issue asks (two signatures, PAdES B-LT), else the run measures something else."""
    for name, sign in paths.items():
        result = verify_pdf(sign(doc), [pki.root])
        if not result.ok or result.level != "B-LT" or len(result.signatures) != 2:
            raise SystemExit(f"{name} signing does not give two B-LT signatures: {result.summary}")


def timed(sign: Callable[[Unsigned], bytes], docs: list[Unsigned], latencies: list[float]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (the whole process: the PKI's services answer in its threads, for both paths alike)."""
    start, cpu = time.perf_counter(), time.process_time()
    for doc in docs:
        t = time.perf_counter()
        sign(doc)
        latencies.append(time.perf_counter() - t)
    return time.perf_counter() - start, time.process_time() - cpu


def signing_phase(pki: TestPki, docs: list[Unsigned], rounds: int) -> dict[str, Any]:
    """Both paths over ``docs`` in ``rounds`` interleaved batches (order swapped each round), after a warm-up; prints
    the figures and returns them for the JSON line."""
    paths: dict[str, Callable[[Unsigned], bytes]] = {"project": ProjectSigning(pki), "bare": BareSigning(pki)}
    check_both_b_lt(pki, paths, docs[0])
    for sign in paths.values():  # warm-up: imports, the first OCSP/CRL/TSA connections
        timed(sign, docs[:3], [])
    seconds, cpu = dict.fromkeys(paths, 0.0), dict.fromkeys(paths, 0.0)
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    size = -(-len(docs) // rounds)
    for r in range(rounds):
        batch = docs[r * size:(r + 1) * size]
        for name in (("project", "bare") if r % 2 == 0 else ("bare", "project")):
            wall, used = timed(paths[name], batch, latencies[name])
            seconds[name] += wall
            cpu[name] += used
    rate = {name: len(docs) / s for name, s in seconds.items()}
    for name in paths:
        ms = sorted(1000 * t for t in latencies[name])
        print(f"signing {name:8s} {len(docs)} docs (2 signatures each) in {seconds[name]:.2f}s: {rate[name]:.1f} "
              f"docs/s, per doc p50 {ms[len(ms) // 2]:.1f} ms, p95 {ms[int(len(ms) * 0.95)]:.1f} ms, CPU "
              f"{1000 * cpu[name] / len(docs):.1f} ms/doc", flush=True)
    return {"signed_docs": len(docs), "signed_docs_per_s": round(rate["project"], 2),
            "bare_pyhanko_signed_docs_per_s": round(rate["bare"], 2),
            "signing_ratio_vs_bare_pyhanko": round(rate["project"] / rate["bare"], 3),
            "signing_cpu_ratio_vs_bare_pyhanko": round(cpu["bare"] / cpu["project"], 3),
            "signing_ms_p50": round(1000 * statistics.median(latencies["project"]), 1),
            "bare_signing_ms_p50": round(1000 * statistics.median(latencies["bare"]), 1)}


def profile_signing(pki: TestPki, docs: list[Unsigned]) -> str:
    """The 30 most expensive functions (cumulative) of the project's signing path over ``docs``."""
    sign = ProjectSigning(pki)
    profiler = cProfile.Profile()
    profiler.enable()
    for doc in docs:
        sign(doc)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    return out.getvalue()

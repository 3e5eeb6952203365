"""Procedural settings (notice periods, deadlines, number symbols, signers' competence), effective-dated.

Values the domain marks (config) live in ``data/procedure_*.json``; the one in force on a date is used (the
newest ``effective_from`` on or before it). Every version carries the same keys (a newer one copies what it
does not change), so a date never meets a version without a setting the engine reads.

Competence (who may sign a sanction decision) is the ``signers`` list of a version. Each title has a ceiling
per act for an individual, written either as an amount (``ceiling_individual_vnd``, as NĐ 12/2022 Art.48–51
states it) or as a share of the field's maximum fine (``ceiling_percent_of_field_max`` with the version's
``field_max_individual_vnd``, as NĐ 189/2025 states it from 1 July 2025). A title the campaign cannot route a
file to (``"decides_in_campaign": false``: a commune chair, a single inspector, ministry level) is kept for the
record but never chosen.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeGuard

from services.errors import CompetenceRefused, ProcedureError, StageBlocked
from services.settings import RULES_DIR

# Keys only some versions need: the field maximum is needed where a ceiling is written as a share of it.
OPTIONAL_KEYS = frozenset({"field_max_individual_vnd"})
_SIGNER_KEYS = frozenset({"title", "issuer_suffix", "ceiling_individual_vnd", "ceiling_percent_of_field_max",
                          "decides_in_campaign", "source", "issuer", "head_titles", "deputy_titles", "signature_vi",
                          "deputy_signature_vi"})
# The bodies in whose name a decision is issued: the decider's own (a chair's decision is the People's Committee's).
ISSUERS = frozenset({"province_committee", "department", "department_inspectorate"})


@dataclass(frozen=True)
class Signer:
    """A title with sanctioning competence, and how a decision it takes is issued and signed.

    ``issuer`` is the body the decision is issued by — always the decider's own: ``province_committee`` (Ủy ban
    nhân dân tỉnh, for its Chủ tịch), ``department`` (the labour department, Sở Nội vụ, for its Giám đốc) or
    ``department_inspectorate`` (Thanh tra Sở, for its Chánh Thanh tra, until sở inspectorates were abolished on
    01/07/2025). ``head_titles`` / ``deputy_titles`` are the people's titles (``Person.title``) that exercise the
    competence as the head or as a deputy the head assigned it to (Luật XLVPHC Art.54): a deputy signs
    "KT. <signature_vi>" over "<deputy_signature_vi>".
    """

    title: str
    issuer_suffix: str | None  # the number series' suffix ("UBND", "SNV", "TTr")
    ceiling_individual_vnd: int  # per act, for an individual; doubled for an organisation
    ceiling_percent_of_field_max: int | None = None  # how the ceiling is written, when it is a share
    decides_in_campaign: bool = True
    source: str = ""
    issuer: str = ""
    head_titles: tuple[str, ...] = ()
    deputy_titles: tuple[str, ...] = ()
    signature_vi: str = ""
    deputy_signature_vi: str = ""

    def signature_lines(self, *, deputy: bool) -> list[str]:
        """The title lines above the signature: "GIÁM ĐỐC", or "KT. GIÁM ĐỐC" / "PHÓ GIÁM ĐỐC" for a deputy."""
        return [f"KT. {self.signature_vi}", self.deputy_signature_vi] if deputy else [self.signature_vi]

    def ceiling_vnd(self, *, organisation: bool) -> int:
        """The competence per act: written for individuals, double for organisations (NĐ 12/2022 Art.6 cl.2)."""
        return self.ceiling_individual_vnd * (2 if organisation else 1)


@dataclass(frozen=True)
class Procedure:
    version: str
    effective_from: date
    raw: dict[str, Any]
    competence: tuple[Signer, ...] = ()  # every title of the version, routable or not
    source_file: str = ""

    def __getattr__(self, name: str) -> Any:
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    def symbol(self, doc_type: str) -> str:
        return str(self.raw["document_symbols"][doc_type])

    @property
    def signers(self) -> tuple[Signer, ...]:
        """The titles a campaign's file can be sent to for decision (in the file's order)."""
        return tuple(s for s in self.competence if s.decides_in_campaign)


def _fail(path: Path, key: str, problem: str) -> ProcedureError:
    return ProcedureError(f"Tệp quy định thủ tục {path.name}: khóa {key!r} {problem}.", file=str(path), key=key)


def _positive_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _parse_signer(path: Path, i: int, raw: Any, field_max: Any) -> Signer:
    where = f"signers[{i}]"
    if not isinstance(raw, Mapping):
        raise _fail(path, where, "phải là một đối tượng (title, issuer_suffix, mức trần)")
    unknown = sorted(set(raw) - _SIGNER_KEYS)
    if unknown:
        raise _fail(path, f"{where}.{unknown[0]}", "không được hỗ trợ")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _fail(path, f"{where}.title", "thiếu hoặc rỗng")
    routable = raw.get("decides_in_campaign", True)
    if not isinstance(routable, bool):
        raise _fail(path, f"{where}.decides_in_campaign", "phải là true hoặc false")
    suffix = raw.get("issuer_suffix")
    if routable and (not isinstance(suffix, str) or not suffix.strip()):
        raise _fail(path, f"{where}.issuer_suffix", f"thiếu hoặc rỗng (chức danh {title!r} ký quyết định trong đợt kiểm tra)")
    if suffix is not None and not isinstance(suffix, str):
        raise _fail(path, f"{where}.issuer_suffix", "phải là chuỗi ký tự")
    amount, percent = raw.get("ceiling_individual_vnd"), raw.get("ceiling_percent_of_field_max")
    if (amount is None) == (percent is None):
        raise _fail(path, f"{where}.ceiling_individual_vnd",
                    "hoặc ceiling_percent_of_field_max: cần đúng một trong hai (mức trần theo số tiền hoặc theo tỷ lệ)")
    if percent is not None:
        if not _positive_int(percent) or percent > 100:
            raise _fail(path, f"{where}.ceiling_percent_of_field_max", f"phải là số nguyên từ 1 đến 100, nhận {percent!r}")
        if not _positive_int(field_max):
            raise _fail(path, "field_max_individual_vnd",
                        f"thiếu hoặc không phải số nguyên dương (cần cho tỷ lệ của {title!r}), nhận {field_max!r}")
        ceiling: int = field_max * percent // 100
    elif _positive_int(amount):
        ceiling = amount
    else:
        raise _fail(path, f"{where}.ceiling_individual_vnd", f"phải là số nguyên dương (đồng), nhận {amount!r}")
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise _fail(path, f"{where}.source", "phải là chuỗi ký tự")
    issuer, signature, deputy_signature = (raw.get(k, "") for k in ("issuer", "signature_vi", "deputy_signature_vi"))
    heads, deputies = raw.get("head_titles", [title]), raw.get("deputy_titles", [])
    for key, value in (("head_titles", heads), ("deputy_titles", deputies)):
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _fail(path, f"{where}.{key}", "phải là danh sách chức vụ (chuỗi khác rỗng)")
    if routable:
        if issuer not in ISSUERS:
            raise _fail(path, f"{where}.issuer", f"phải là một trong {sorted(ISSUERS)} (cơ quan ban hành quyết định của "
                                                 f"chức danh {title!r}), nhận {issuer!r}")
        if not isinstance(signature, str) or not signature.strip():
            raise _fail(path, f"{where}.signature_vi", f"thiếu dòng chức danh ký của {title!r} (ví dụ \"GIÁM ĐỐC\")")
        if deputies and (not isinstance(deputy_signature, str) or not deputy_signature.strip()):
            raise _fail(path, f"{where}.deputy_signature_vi", f"thiếu dòng chức danh cấp phó ký thay của {title!r}")
    return Signer(title=title, issuer_suffix=suffix, ceiling_individual_vnd=ceiling,
                  ceiling_percent_of_field_max=percent, decides_in_campaign=routable, source=source, issuer=issuer,
                  head_titles=tuple(heads), deputy_titles=tuple(deputies), signature_vi=signature,
                  deputy_signature_vi=deputy_signature)


def parse_procedure(raw: Any, path: Path) -> Procedure:
    """Validate one procedure file's content; every error names the file and the key."""
    if not isinstance(raw, Mapping):
        raise _fail(path, "(gốc)", "phải là một đối tượng JSON")
    for key in ("version", "effective_from", "signers", "document_symbols"):
        if key not in raw:
            raise _fail(path, key, "bị thiếu")
    if not isinstance(raw["version"], str) or not raw["version"]:
        raise _fail(path, "version", "phải là chuỗi ký tự khác rỗng")
    try:
        effective_from = date.fromisoformat(str(raw["effective_from"]))
    except ValueError:
        raise _fail(path, "effective_from", f"phải là ngày dạng YYYY-MM-DD, nhận {raw['effective_from']!r}") from None
    if not isinstance(raw["document_symbols"], Mapping):
        raise _fail(path, "document_symbols", "phải là một đối tượng (loại văn bản → ký hiệu)")
    if not isinstance(raw["signers"], list) or not raw["signers"]:
        raise _fail(path, "signers", "phải là danh sách chức danh khác rỗng")
    competence = tuple(_parse_signer(path, i, s, raw.get("field_max_individual_vnd")) for i, s in enumerate(raw["signers"]))
    titles = [s.title for s in competence]
    for i, title in enumerate(titles):
        if title in titles[:i]:
            raise _fail(path, f"signers[{i}].title", f"trùng chức danh {title!r}")
    held: dict[str, str] = {}
    for i, signer in enumerate(competence):
        for person_title in (*signer.head_titles, *signer.deputy_titles):
            if signer.decides_in_campaign and person_title in held:
                raise _fail(path, f"signers[{i}]", f"chức vụ {person_title!r} đã thuộc chức danh {held[person_title]!r}")
            held[person_title] = signer.title
    if not any(s.decides_in_campaign for s in competence):
        raise _fail(path, "signers", "không có chức danh nào ký quyết định trong đợt kiểm tra (decides_in_campaign)")
    return Procedure(raw["version"], effective_from, dict(raw), competence, path.name)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProcedureError(f"Tệp quy định thủ tục {path.name}: không phải JSON hợp lệ ({exc}).", file=str(path)) from exc


@lru_cache(maxsize=4)
def _load_all(folder: Path) -> tuple[Procedure, ...]:
    versions = sorted((parse_procedure(_read(path), path) for path in sorted(folder.glob("procedure_*.json"))),
                      key=lambda p: p.effective_from)
    for older, newer in pairwise(versions):
        if older.effective_from == newer.effective_from:
            raise ProcedureError(f"Tệp quy định thủ tục {older.source_file} và {newer.source_file} cùng có hiệu lực từ "
                                 f"ngày {newer.effective_from:%d/%m/%Y}.", file=newer.source_file)
    every_key = set().union(*(p.raw for p in versions)) - OPTIONAL_KEYS
    for p in versions:
        missing = sorted(every_key - set(p.raw))
        if missing:
            has_it = next(q.source_file for q in versions if missing[0] in q.raw)
            raise ProcedureError(f"Tệp quy định thủ tục {p.source_file}: thiếu khóa {missing[0]!r} (có trong {has_it}); "
                                 "mỗi phiên bản phải có đủ mọi khóa.", file=p.source_file, key=missing[0])
    return tuple(versions)


def procedure_for(on: date, folder: Path = RULES_DIR) -> Procedure:
    """The version in force on ``on``: the newest one whose ``effective_from`` is on or before it."""
    versions = _load_all(folder)
    in_force = [p for p in versions if p.effective_from <= on]
    if not in_force:
        first = (f"; phiên bản sớm nhất ({versions[0].version}, {versions[0].source_file}) có hiệu lực từ ngày "
                 f"{versions[0].effective_from:%d/%m/%Y}") if versions else ""
        raise StageBlocked(f"Không có quy định thủ tục nào có hiệu lực vào ngày {on:%d/%m/%Y}{first}.", on=on.isoformat())
    return in_force[-1]


def competent_signer(acts_range_max: Sequence[int], *, organisation: bool, procedure: Procedure) -> Signer:
    """The lowest title the campaign routes to whose ceiling covers every act, judged per act by the maximum
    of its fine range (not the amount chosen, not the total of the file).

    If one act exceeds a title's competence, the whole file goes up (Luật XLVPHC Art.52). Ceilings are
    written for individuals; an organisation's ceiling is double (NĐ 12/2022 Art.6 cl.2).
    """
    worst = max(acts_range_max, default=0)
    for signer in sorted(procedure.signers, key=lambda s: s.ceiling_individual_vnd):
        if worst <= signer.ceiling_vnd(organisation=organisation):
            return signer
    raise StageBlocked(f"Không có chức danh nào đủ thẩm quyền xử phạt hành vi có mức phạt tối đa {worst:,} đồng "
                       f"(quy định thủ tục {procedure.version}).", worst=worst)


@dataclass(frozen=True)
class Competence:
    """What one person may decide on a date: the title whose competence they exercise, as its head or a deputy."""

    signer: Signer
    deputy: bool

    @property
    def signature_lines(self) -> list[str]:
        return self.signer.signature_lines(deputy=self.deputy)


def competence_of(person_title: str, procedure: Procedure) -> Competence | None:
    """The routable title a person holds (by ``Person.title``) in ``procedure``, or None when they hold none."""
    for signer in procedure.signers:
        if person_title in signer.head_titles:
            return Competence(signer, deputy=False)
        if person_title in signer.deputy_titles:
            return Competence(signer, deputy=True)
    return None


def may_decide(person_title: str, acts_range_max: Sequence[int], *, organisation: bool,
               procedure: Procedure) -> Competence:
    """The person's competence, refused (Vietnamese, naming the title needed) when it does not reach every act.

    A file may go up to a higher competent title, never down: any holder of a title at or above the lowest
    competent one may decide it.
    """
    needed = competent_signer(acts_range_max, organisation=organisation, procedure=procedure)
    held = competence_of(person_title, procedure)
    if held is None:
        raise CompetenceRefused(f"Chức vụ {person_title!r} không có thẩm quyền xử phạt theo quy định thủ tục "
                                f"{procedure.version} (có hiệu lực từ {procedure.effective_from:%d/%m/%Y}); hồ sơ này phải "
                                f"do {needed.title} quyết định.", title=person_title, needed=needed.title)
    if held.signer.ceiling_individual_vnd < needed.ceiling_individual_vnd:
        raise CompetenceRefused(f"Vượt thẩm quyền: {held.signer.title} được phạt tiền đến "
                                f"{held.signer.ceiling_vnd(organisation=organisation):,} đồng mỗi hành vi; hồ sơ này phải do "
                                f"{needed.title} quyết định.".replace(",", "."), title=person_title, needed=needed.title)
    return held



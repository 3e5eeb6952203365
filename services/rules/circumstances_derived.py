"""Aggravating circumstances the engine derives from its own history (Luật XLVPHC Art.2 cl.5, Art.6, Art.7, Art.10):
pure rules, no database. An official may never assert them without that basis.

- **tái phạm** (:func:`derive_repeat`; Luật XLVPHC Art.2 cl.5, Art.7): the same act (equal ``act_key``; mapping codes
  across decrees is the caller's job) was sanctioned by a decision taken BEFORE the day the new act was committed, and
  the new act falls within the period during which the person is still considered sanctioned: up to ``complied_on`` +
  6 months (a warning) or + 12 months (any other sanction), or ``enforcement_expired_on`` + 12 months. A decision not
  yet complied with and whose enforcement limitation has not expired keeps the window open. Periods follow the Civil
  Code (Luật XLVPHC Art.8): counted from the day after the event, ending at the end of the corresponding day, so the
  last day itself is still inside (``last_day_inclusive`` in the data). A decision taken on the very day of the new act
  does not count: the order within a day is unknown and the doubt favours the violator.
- **vi phạm hành chính nhiều lần** (:func:`derive_many_times`): earlier occurrences of the same act, committed before
  this one, never sanctioned, and still within the limitation for sanctioning on the day the case is decided (01 year
  for labour, Luật XLVPHC Art.6 cl.1, counted from the day the earlier occurrence ended — the finding's
  ``committed_on``). Whether those occurrences are then fined separately or folded into one act with this circumstance
  is for the sector decree (NĐ 12/2022 Art.6 cl.4; NĐ 283/2026 Art.7 cl.4) and the caller; this module only derives it.

The windows and codes come from the catalog in force (:mod:`services.rules.circumstances_catalog`).
"""
from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.rules.circumstances_catalog import CircumstanceCatalog

def add_months(day: date, months: int) -> date:
    """``day`` + ``months`` calendar months; a missing day becomes the month's last (Civil Code: 29/02 + 12 → 28/02)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _within(day: date, end: date, *, inclusive: bool) -> bool:
    return day <= end if inclusive else day < end


def _d(day: date) -> str:
    return f"{day:%d/%m/%Y}"


@dataclass(frozen=True)
class DerivedCircumstance:
    """An aggravating circumstance the engine established, with the sentence for the file and its basis."""

    code: str
    sentence_vi: str  # "Tái phạm: đã bị xử phạt về hành vi này theo Quyết định số … ngày …, chấp hành xong ngày …"
    basis_vi: str  # the legal provisions relied on
    evidence: tuple[str, ...]  # the decisions (tái phạm) or earlier occurrences (nhiều lần) relied on
    origin: str  # "engine" or "import": where the history came from


@dataclass(frozen=True)
class PriorSanction:
    """A sanction decision taken earlier against the same person or organisation."""

    act_key: str
    decision_ref: str  # "12/QĐ-XPHC"
    decided_on: date
    complied_on: date | None
    enforcement_expired_on: date | None
    warning_only: bool
    source: Literal["engine", "import"]

    def __post_init__(self) -> None:
        if not self.act_key.strip() or not self.decision_ref.strip():
            raise ValueError("act_key, decision_ref: không được để trống")
        if self.source not in ("engine", "import"):
            raise ValueError(f"source: phải là 'engine' hoặc 'import', nhận {self.source!r}")
        for name in ("complied_on", "enforcement_expired_on"):
            later = getattr(self, name)
            if later is not None and later < self.decided_on:
                raise ValueError(f"{name}: ngày {_d(later)} trước ngày ra quyết định {_d(self.decided_on)} "
                                 f"(Quyết định số {self.decision_ref})")


def repeat_window_end(prior: PriorSanction, catalog: CircumstanceCatalog) -> date | None:
    """The last day the person is still considered sanctioned by ``prior``; None while the decision is neither
    complied with nor past its enforcement limitation (the window is still open)."""
    rule = catalog.repeat_window
    if prior.complied_on is not None:
        months = rule.warning_months if prior.warning_only else rule.other_sanction_months
        return add_months(prior.complied_on, months)
    if prior.enforcement_expired_on is not None:
        return add_months(prior.enforcement_expired_on, rule.after_enforcement_expiry_months)
    return None


def _repeat_sentence(prior: PriorSanction, end: date | None) -> str:
    head = f"Tái phạm: đã bị xử phạt về hành vi này theo Quyết định số {prior.decision_ref} ngày {_d(prior.decided_on)}"
    still = f"chưa hết thời hạn để được coi là chưa bị xử phạt (đến hết ngày {_d(end)})" if end else ""
    if prior.complied_on is not None:
        return f"{head}, chấp hành xong ngày {_d(prior.complied_on)}, {still}"
    if prior.enforcement_expired_on is not None:
        return f"{head}, hết thời hiệu thi hành ngày {_d(prior.enforcement_expired_on)}, {still}"
    return f"{head}, chưa chấp hành xong quyết định"


def derive_repeat(act_key: str, committed_on: date, priors: Iterable[PriorSanction],
                  catalog: CircumstanceCatalog) -> DerivedCircumstance | None:
    """"Tái phạm" for an act of ``act_key`` committed on ``committed_on``, or None (rule: module docstring).

    Among several qualifying decisions the most recent one is named; the circumstance counts once.
    """
    rule = catalog.repeat_window
    hits: list[tuple[PriorSanction, date | None]] = []
    for prior in priors:
        if prior.act_key != act_key or prior.decided_on >= committed_on:
            continue  # another act, or a decision not yet taken when the act was committed
        end = repeat_window_end(prior, catalog)
        if end is None or _within(committed_on, end, inclusive=rule.last_day_inclusive):
            hits.append((prior, end))
    if not hits:
        return None
    prior, end = max(hits, key=lambda hit: (hit[0].decided_on, hit[0].decision_ref))
    return DerivedCircumstance(
        code=rule.code, sentence_vi=_repeat_sentence(prior, end),
        basis_vi=f"{catalog.citation_vi(rule.code)}; khoản 5 Điều 2 và Điều 7 {catalog.law_vi}",
        evidence=tuple(f"Quyết định số {p.decision_ref} ngày {_d(p.decided_on)}" for p, _ in hits),
        origin="import" if prior.source == "import" else "engine")


@dataclass(frozen=True)
class PriorFinding:
    """An earlier occurrence of an act found by the engine; ``committed_on`` is the day it ended (or the day it was
    discovered, if it was still going on then): the limitation runs from that day."""

    act_key: str
    committed_on: date
    discovered_on: date
    sanctioned: bool

    def __post_init__(self) -> None:
        if self.discovered_on < self.committed_on:
            raise ValueError(f"discovered_on: ngày phát hiện {_d(self.discovered_on)} trước ngày thực hiện {_d(self.committed_on)}")


def derive_many_times(act_key: str, committed_on: date,
                      findings: Iterable[PriorFinding | tuple[str, date, date, bool]],
                      catalog: CircumstanceCatalog, *, on: date) -> DerivedCircumstance | None:
    """"Vi phạm hành chính nhiều lần" for an act committed on ``committed_on`` and decided on ``on``, or None.

    Counts the findings of the same ``act_key`` committed strictly before ``committed_on``, never sanctioned, whose
    limitation for sanctioning (``many_times.limitation_months`` from their ``committed_on``) has not expired on ``on``.
    Sanctioned occurrences are :func:`derive_repeat`'s business, not this one's.
    """
    rule = catalog.many_times
    earlier: list[PriorFinding] = []
    for item in findings:
        finding = item if isinstance(item, PriorFinding) else PriorFinding(*item)
        if finding.act_key != act_key or finding.sanctioned or finding.committed_on >= committed_on:
            continue
        if _within(on, add_months(finding.committed_on, rule.limitation_months), inclusive=rule.last_day_inclusive):
            earlier.append(finding)
    if not earlier:
        return None
    earlier.sort(key=lambda f: f.committed_on)
    dates = "; ".join(f"ngày {_d(f.committed_on)}, phát hiện ngày {_d(f.discovered_on)}" for f in earlier)
    return DerivedCircumstance(
        code=rule.code,
        sentence_vi=(f"Vi phạm hành chính nhiều lần: hành vi này đã được thực hiện {len(earlier):02d} lần trước đó ({dates}), "
                     "chưa bị xử phạt và chưa hết thời hiệu xử phạt"),
        basis_vi=f"{catalog.citation_vi(rule.code)}; khoản 1 Điều 6 {catalog.law_vi}",
        evidence=tuple(f"Lần vi phạm ngày {_d(f.committed_on)}" for f in earlier), origin="engine")

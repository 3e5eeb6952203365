"""Procedural settings (notice periods, deadlines, number symbols, signers' competence), effective-dated.

Values the domain marks (config) live in ``data/procedure_*.json``; the one in force on a date is used.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.errors import StageBlocked
from services.settings import RULES_DIR


@dataclass(frozen=True)
class Signer:
    title: str
    issuer_suffix: str
    ceiling_individual_vnd: int


@dataclass(frozen=True)
class Procedure:
    version: str
    effective_from: date
    raw: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    def symbol(self, doc_type: str) -> str:
        return str(self.raw["document_symbols"][doc_type])

    @property
    def signers(self) -> tuple[Signer, ...]:
        return tuple(Signer(**s) for s in self.raw["signers"])


@lru_cache(maxsize=4)
def _load_all(folder: Path) -> tuple[Procedure, ...]:
    out = []
    for path in sorted(folder.glob("procedure_*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        out.append(Procedure(raw["version"], date.fromisoformat(raw["effective_from"]), raw))
    return tuple(sorted(out, key=lambda p: p.effective_from))


def procedure_for(on: date, folder: Path = RULES_DIR) -> Procedure:
    in_force = [p for p in _load_all(folder) if p.effective_from <= on]
    if not in_force:
        raise StageBlocked(f"Không có quy định thủ tục nào có hiệu lực vào ngày {on:%d/%m/%Y}.")
    return in_force[-1]


def competent_signer(acts_range_max: Sequence[int], *, organisation: bool, procedure: Procedure) -> Signer:
    """The lowest title whose ceiling covers every act, judged per act by the maximum of its range.

    If one act exceeds a title's competence, the whole file goes up (Luật XLVPHC Art.52). Ceilings are
    written for individuals; an organisation's ceiling is double (NĐ 12/2022 Art.6 cl.1).
    """
    worst = max(acts_range_max, default=0)
    for signer in sorted(procedure.signers, key=lambda s: s.ceiling_individual_vnd):
        if worst <= signer.ceiling_individual_vnd * (2 if organisation else 1):
            return signer
    raise StageBlocked(f"Không có chức danh nào đủ thẩm quyền xử phạt hành vi có mức phạt tối đa {worst:,} đồng.")

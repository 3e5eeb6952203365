"""A comparable picture of everything a campaign stored: rows, numbers, files (timestamps left out)."""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from sqlalchemy import text
from sqlmodel import SQLModel

from services.db import session_scope
from services.settings import Settings


def snapshot(settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        conn = session.connection()
        q = lambda sql: sorted(tuple(r) for r in conn.execute(text(sql)).all())  # noqa: E731
        out: dict[str, Any] = {
            "counts": {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in sorted(SQLModel.metadata.tables)},
            "documents": q("SELECT doc_type, subject_key, revision, issuer_code, year, seq, number, sha256, path, size FROM document"),
            "counters": q("SELECT issuer_code, doc_type, year, last_seq FROM documentcounter"),
            "violations": q("SELECT e.tax_code, f.item_code, v.provision_code, v.proposed_amount, v.range_min, v.range_max, "
                            "v.final_amount FROM violation v JOIN finding f ON f.id = v.finding_id "
                            "JOIN inspection i ON i.id = v.inspection_id JOIN establishment e ON e.id = i.establishment_id"),
            "inspections": q("SELECT e.tax_code, i.status, i.scheduled_on, i.team_id FROM inspection i "
                             "JOIN establishment e ON e.id = i.establishment_id"),
            "publications": q("SELECT channel, subject_key, document_id FROM publication"),
            "audit": sorted(Counter(tuple(r) for r in conn.execute(text(
                "SELECT actor, action, entity_type, entity_id, from_state, to_state FROM auditevent")).all()).items()),
        }
    root = settings.documents_path
    # A process killed while writing may leave its hidden temp file (".<name>.<random>.tmp", see
    # services.documents.render); it is never a document, so it is not part of the picture.
    out["files"] = sorted((p.relative_to(root).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                          for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")) if root.exists() else []
    return out

"""Derived registry columns: a seeded-order key and a content checksum per establishment.

``random_key`` lets SQL order establishments in a seeded pseudo-random way (ties, control samples)
without a hash function in the database. ``row_checksum`` (40 bits of the row's SHA-256) sums, in
SQL, to an order-independent fingerprint of the registry rows a selection saw; 40 bits keep the
sum inside a 64-bit integer for up to 8 million rows.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from models.establishment import ESTABLISHMENT_COLUMNS, MIX_MODULUS, MIX_MULTIPLIER, Ownership

# The checksum hashes ownership under the code stored before migration 0013 (values in English since), so that the
# fingerprints recorded, and printed on selection documents, before it stay verifiable, and re-importing an
# unchanged file stays a no-op. A hashing detail only: nothing stores or shows these codes.
_CHECKSUM_OWNERSHIP: dict[str, str] = {Ownership.ENTERPRISE: "doanh_nghiep", Ownership.COOPERATIVE: "hop_tac_xa",
                                        Ownership.HOUSEHOLD: "ho_kinh_doanh"}
_OWNERSHIP_AT = ESTABLISHMENT_COLUMNS.index("ownership")


def random_key(tax_code: str) -> int:
    return int(hashlib.sha256(tax_code.encode()).hexdigest()[:8], 16) >> 1  # 31 bits


def row_checksum(row: Mapping[str, Any]) -> int:
    values = [None if row[c] is None else str(row[c]) for c in ESTABLISHMENT_COLUMNS]
    ownership = values[_OWNERSHIP_AT]
    if ownership is not None:
        values[_OWNERSHIP_AT] = _CHECKSUM_OWNERSHIP.get(ownership, ownership)
    canonical = json.dumps(values, ensure_ascii=False)
    return int(hashlib.sha256(canonical.encode()).hexdigest()[:10], 16)  # 40 bits


def with_derived(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "random_key": random_key(row["tax_code"]), "row_checksum": row_checksum(row)}


def seeded_order(key: int, seed: int) -> int:
    """The same mixing the SQL ordering uses (services.rules.risk_sql.seeded_order)."""
    return ((key + seed % MIX_MODULUS) * MIX_MULTIPLIER) % MIX_MODULUS

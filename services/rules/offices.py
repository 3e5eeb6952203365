"""Per-province settings the decision needs and no national text gives: where a fine is paid (MQĐ02 notes 19–21)
and the drafting unit after "Lưu: VT," — ``data/province_offices.json``, validated at load (Vietnamese errors naming
the file and key). A province without them cannot issue a decision: the engine refuses rather than print blanks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from services.errors import OfficesError
from services.settings import RULES_DIR

OFFICES_FILE = "province_offices.json"
_KEYS = ("treasury_vi", "treasury_address_vi", "account", "bank_vi", "online_vi")


@dataclass(frozen=True)
class ProvinceOffices:
    province_code: str
    treasury_vi: str
    treasury_address_vi: str
    account: str
    bank_vi: str
    online_vi: str
    drafting_units: dict[str, str]
    sample: bool

    def drafting_unit(self, issuer: str) -> str:
        return self.drafting_units.get(issuer, "")


def _fail(key: str, problem: str) -> OfficesError:
    return OfficesError(f"Tệp cấu hình {OFFICES_FILE}: khóa {key!r} {problem}.", key=key)


@cache
def _load(path: Path) -> dict[str, ProvinceOffices]:
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OfficesError(f"Không đọc được tệp cấu hình {path.name}: {exc}") from exc
    provinces = raw.get("provinces") if isinstance(raw, dict) else None
    if not isinstance(provinces, dict):
        raise _fail("provinces", "phải là một đối tượng (mã tỉnh → cấu hình)")
    out = {}
    for code, entry in provinces.items():
        where = f"provinces.{code}"
        if not isinstance(entry, dict):
            raise _fail(where, "phải là một đối tượng")
        for key in _KEYS:
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise _fail(f"{where}.{key}", "thiếu hoặc rỗng")
        units = entry.get("drafting_units", {})
        if not isinstance(units, dict) or not all(isinstance(v, str) and v.strip() for v in units.values()):
            raise _fail(f"{where}.drafting_units", "phải là đối tượng (loại cơ quan ban hành → đơn vị soạn thảo)")
        out[code] = ProvinceOffices(province_code=code, **{k: entry[k].strip() for k in _KEYS},
                                    drafting_units={k: v.strip() for k, v in units.items()},
                                    sample=bool(entry.get("sample", False)))
    return out


def offices_for(province_code: str, folder: Path = RULES_DIR) -> ProvinceOffices:
    """The province's settings, or a Vietnamese refusal naming what to configure."""
    offices = _load((folder / OFFICES_FILE).resolve())
    if province_code not in offices:
        raise OfficesError(f"Chưa cấu hình nơi nộp tiền phạt (Kho bạc Nhà nước, tài khoản, ngân hàng) cho tỉnh mã "
                           f"{province_code} trong {OFFICES_FILE}: không thể ban hành quyết định xử phạt.",
                           province_code=province_code)
    return offices[province_code]

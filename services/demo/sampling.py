"""The random machinery of the synthetic registry: one run's generator and date window, weighted places, and the
Poisson and binomial draws. Every draw comes from the run's ``random.Random(seed)``, in a fixed order: the same
seed gives the same registry."""
from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import accumulate

from services.demo.profiles import SECTORS
from services.registry.geo import Commune, Province, load_units
from services.registry.names import NameMaker

__all__ = ["WINDOW_DAYS", "Places", "Run", "binomial", "poisson", "size_band"]

WINDOW_DAYS = 3 * 365  # "the last 3 years": offsets 0..1095 days before as_of


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam < 30.0:  # Knuth: about lam + 1 draws
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, int(lam + math.sqrt(lam) * rng.gauss(0.0, 1.0) + 0.5))


def binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0 or p <= 0.0:
        return 0
    if n <= 60:
        rnd = rng.random
        return sum(1 for _ in range(n) if rnd() < p)
    mean, sd = n * p, math.sqrt(n * p * (1.0 - p))
    return min(n, max(0, int(mean + sd * rng.gauss(0.0, 1.0) + 0.5)))


def size_band(workforce: int) -> int:
    return 0 if workforce <= 10 else 1 if workforce <= 50 else 2 if workforce <= 300 else 3


class Places:
    """Communes of the chosen provinces, weighted (phường are denser in businesses than xã)."""

    _KIND_WEIGHT = {"phường": 4.0, "xã": 1.0, "đặc khu": 2.0}

    def __init__(self, province_codes: Sequence[str]) -> None:
        units = load_units()
        if not province_codes:
            raise ValueError("province_codes is empty")
        self.items: list[tuple[Commune, Province]] = []
        for code in dict.fromkeys(province_codes):  # unique, order kept
            prov = units.province(code)
            communes = units.communes(code)
            if not communes:
                raise ValueError(f"no commune list for province {code} ({prov.name})")
            self.items.extend((c, prov) for c in communes)
        self.cum = list(accumulate(self._KIND_WEIGHT[c.kind] for c, _ in self.items))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> tuple[Commune, Province]:
        return self.items[bisect(self.cum, rng.random() * self.total)]


class Run:
    """Per-run state of ``_generate``: the one generator, the date window and the names/tax codes used so far."""

    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.lognorm = self.rng.lognormvariate
        self.names = NameMaker()
        self.sector_cum = list(accumulate(s.weight for s in SECTORS))
        self.sector_total = self.sector_cum[-1]
        self.days = [as_of - timedelta(days=k) for k in range(WINDOW_DAYS + 1)]
        self.n_days = len(self.days)
        self.used_tax: set[str] = set()
        self.used_names: set[str] = set()

    def recent(self, max_days: int) -> date:
        """A day among the last ``max_days`` + 1 (0 = as_of)."""
        return self.days[int(self.rnd() * (max_days + 1))]

    def within(self, lo: int, hi: int) -> date:
        """A day between ``lo`` and ``hi`` days before as_of."""
        return self.days[lo + int(self.rnd() * (hi - lo + 1))]

    def unique_name(self, candidate: str, commune: Commune) -> str:
        """``candidate``, made unique within the run with the commune name and a counter; marked as used."""
        used_names = self.used_names
        if candidate in used_names:
            candidate = f"{candidate} {commune.name}"
            k = 2
            base = candidate
            while candidate in used_names:
                candidate = f"{base} {k}"
                k += 1
        used_names.add(candidate)
        return candidate


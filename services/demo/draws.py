"""One establishment's attributes, drawn in a fixed order from the run's generator (:class:`services.demo.sampling.Run`):
ownership and workforce, names, tax code, address, hazards, exams, accidents, vulnerable workers, inspections."""
from __future__ import annotations

from datetime import date

from models.establishment import Ownership
from services.demo.profiles import (ACCIDENT_SCALE, BRANCH_SHARE, DN, HEALTH_P, HKD, HTX, INSPECTED_P, LATE_REPORT_P,
                                    SectorProfile)
from services.demo.sampling import WINDOW_DAYS, Run, binomial, poisson
from services.registry.geo import Commune, Province
from services.registry.taxcode import make_tax_code

__all__ = ["draw_accidents", "draw_address", "draw_exams", "draw_hazards", "draw_inspections", "draw_names",
           "draw_ownership_and_workforce", "draw_tax_code", "draw_vulnerable"]


def draw_ownership_and_workforce(run: Run, sector: SectorProfile) -> tuple[Ownership, int]:
    """Ownership (co-operatives only where the sector has them), then a lognormal workforce."""
    rnd, lognorm = run.rnd, run.lognorm
    w_dn, w_htx, w_hkd = sector.ownership
    u = rnd() * (w_dn + w_htx + w_hkd)
    ownership = DN if u < w_dn else HTX if u < w_dn + w_htx else HKD

    # workforce: lognormal, most 1-50, a few companies ≥ 300
    if ownership == HKD:
        workforce = min(30, 1 + int(lognorm(0.6, 0.8)))
    elif ownership == HTX:
        workforce = min(400, 3 + int(lognorm(2.0, 0.8)))
    else:
        workforce = min(25_000, 1 + int(lognorm(2.5 + sector.size_shift, 1.2)))
    return ownership, workforce


def _hkd_name(run: Run, rep_name: str, commune: Commune) -> tuple[str, str, str]:
    """Household business: (representative, name, title); redraws the owner while the name is taken."""
    tries = 0
    while f"Hộ kinh doanh {rep_name}" in run.used_names and tries < 20:
        rep_name, _gender = run.names.person(run.rng, male_share=0.65)
        tries += 1
    name = run.unique_name(f"Hộ kinh doanh {rep_name}", commune)
    return rep_name, name, "Chủ hộ kinh doanh"


def _htx_name(run: Run, sector: SectorProfile, commune: Commune) -> str:
    """Co-operative name: up to 20 tries for a free one, then made unique."""
    rnd, used_names = run.rnd, run.used_names
    words = sector.htx_words
    name = None
    for _t in range(20):
        candidate = f"Hợp tác xã {words[int(rnd() * len(words))]} {run.names.brand(run.rng)}"
        if candidate not in used_names:
            name = candidate
            break
    return run.unique_name(name or candidate, commune)


def _dn_name(run: Run, sector: SectorProfile, workforce: int, commune: Commune,
             prov: Province) -> tuple[str, str, bool]:
    """Company (or branch) name: (name, title, branch)."""
    rnd, used_names = run.rnd, run.used_names
    joint_stock = rnd() < (0.55 if workforce >= 100 else 0.25)
    form = "Công ty Cổ phần" if joint_stock else "Công ty TNHH"
    words = sector.dn_words
    name = None
    for _t in range(20):
        candidate = f"{form} {words[int(rnd() * len(words))]} {run.names.brand(run.rng)}"
        if candidate not in used_names:
            name = candidate
            break
    branch = rnd() < BRANCH_SHARE
    if branch:
        name = run.unique_name(f"Chi nhánh {name or candidate} tại {prov.name}", commune)
    else:
        name = run.unique_name(name or candidate, commune)
    title = "Tổng Giám đốc" if joint_stock and not branch and (workforce >= 100 or rnd() < 0.3) else "Giám đốc"
    return name, title, branch


def draw_names(run: Run, sector: SectorProfile, ownership: Ownership, workforce: int, commune: Commune,
                prov: Province) -> tuple[str, str, str, bool]:
    """People and names: (representative, establishment name, title, branch)."""
    rep_name, _gender = run.names.person(run.rng, male_share=0.75 if ownership == DN else 0.65)
    branch = False
    if ownership == HKD:
        rep_name, name, title = _hkd_name(run, rep_name, commune)
    elif ownership == HTX:
        name = _htx_name(run, sector, commune)
        title = "Chủ nhiệm HTX"
    else:
        name, title, branch = _dn_name(run, sector, workforce, commune, prov)
    return rep_name, name, title, branch


def draw_tax_code(run: Run, branch: bool, prov: Province) -> str:
    """A tax code not yet used in the run (branches hang off a made-up 01/03 parent)."""
    rng, rnd = run.rng, run.rnd
    while True:
        if branch:
            tax_code = make_tax_code(rng, "01" if rnd() < 0.6 else "03", branch=1 + int(rnd() * 20))
        else:
            tax_code = make_tax_code(rng, prov.code)
        if tax_code not in run.used_tax:
            run.used_tax.add(tax_code)
            return tax_code


def draw_address(run: Run, commune: Commune, prov: Province) -> str:
    """A street address with the real commune and province names."""
    rnd = run.rnd
    if commune.kind == "phường":
        street = f"Số {1 + int(rnd() * 250)}, tổ {1 + int(rnd() * 30)}"
    else:
        street = f"Thôn {1 + int(rnd() * 15)}"
    return f"{street}, {commune.address_name}, {prov.address_name}"


def draw_hazards(run: Run, sector: SectorProfile, ownership: Ownership, workforce: int) -> tuple[int, int, int, int]:
    """Hazardous work and working conditions: (hazardous, class max, strict-work workers, equipment)."""
    rnd = run.rnd
    # Whether anyone does NNĐHNH work at all, then how many (mean share over the sector ≈ sector.hazard).
    has_p = min(0.95, 2.0 * sector.hazard)
    if rnd() < has_p:
        share = sector.hazard / has_p * (0.3 + 1.4 * rnd())
        hazardous = min(workforce, max(1, int(workforce * share + rnd())))
    else:
        hazardous = 0
    if hazardous > 0:
        cls = 4 + int(rnd() * rnd() * (sector.class_max - 3))  # skewed towards IV
    else:
        cls = 1 + int(rnd() * sector.class_plain)
    strict_work = min(workforce, int(workforce * sector.strict_work * (0.4 + 1.2 * rnd()) + rnd() * 0.5))
    equipment = poisson(run.rng, workforce * sector.equipment * (0.3 if ownership == HKD else 1.0))
    return hazardous, cls, strict_work, equipment


def draw_exams(run: Run, sector: SectorProfile, ownership: Ownership, band: int,
                hazardous: int) -> tuple[date | None, date | None, date | None, float]:
    """Health exams (yearly; 6-monthly for NNĐHNH), occupational-disease exams, monitoring and its failing ratio."""
    rnd, recent, within = run.rnd, run.recent, run.within
    if rnd() < HEALTH_P[ownership][band]:
        health = recent(180) if rnd() < 0.5 else within(181, 364) if rnd() < 0.6 else within(365, WINDOW_DAYS)
    else:
        health = None
    disease = None
    if hazardous > 0 and rnd() < 0.25 + 0.15 * band:
        disease = recent(364) if rnd() < 0.6 else within(365, WINDOW_DAYS)
    monitoring, failing = None, 0.0
    if rnd() < (0.05 if ownership == HKD else 0.15 + 0.12 * band + 0.6 * sector.hazard):
        monitoring = recent(364) if rnd() < 0.65 else within(365, WINDOW_DAYS)
        if rnd() < 0.15 + 0.8 * sector.hazard:
            failing = round(min(1.0, rnd() * (0.15 + 0.6 * sector.hazard)), 3)
    return health, disease, monitoring, failing


def draw_accidents(run: Run, sector: SectorProfile, ownership: Ownership, workforce: int, gaps: int,
                    untrained: int) -> tuple[int, int, int, int]:
    """Accidents over 3 years (sector rate, worse with poor organisation and training): (all, fatal, serious, late)."""
    rng, rnd = run.rng, run.rnd
    lam = workforce * sector.accidents * ACCIDENT_SCALE * (1.0 + 0.2 * gaps) * (1.0 + untrained / workforce)
    accidents = poisson(rng, lam)
    fatal = serious = 0
    if accidents:
        if accidents <= 60:
            for _a in range(accidents):
                v = rnd()
                if v < sector.fatal:
                    fatal += 1
                elif v < sector.fatal + sector.serious:
                    serious += 1
        else:
            fatal = binomial(rng, accidents, sector.fatal)
            serious = binomial(rng, accidents - fatal, sector.serious / (1.0 - sector.fatal))
    late = binomial(rng, accidents, LATE_REPORT_P[ownership])
    return accidents, fatal, serious, late


def draw_vulnerable(run: Run, sector: SectorProfile, workforce: int, hazardous: int) -> int:
    """Vulnerable workers: minors, pregnant women in NNĐHNH."""
    rnd = run.rnd
    vulnerable = 0
    if rnd() < 0.01 + 0.12 * sector.female * (hazardous > 0):
        vulnerable = min(workforce, 1 + int(workforce * 0.02 * rnd()))
    return vulnerable


def draw_inspections(run: Run, sector: SectorProfile, ownership: Ownership, band: int, workforce: int,
                      gaps: int, accidents: int) -> tuple[date | None, int, int]:
    """Inspection history (Chỉ thị 20: a share never inspected), then open complaints."""
    rng, rnd = run.rng, run.rnd
    inspected_p = INSPECTED_P[ownership][band] + (0.1 if accidents else 0.0)
    if rnd() < inspected_p:
        last_inspected = run.days[int(rnd() * run.n_days)]
        past_violations = poisson(rng, 0.4 + 0.4 * gaps + 1.0 * sector.hazard)
    else:
        last_inspected, past_violations = None, 0
    complaints = poisson(rng, 0.02 + 0.0005 * workforce + 0.15 * (accidents > 0))
    return last_inspected, past_violations, complaints


"""A synthetic but realistic registry of establishments (cơ sở lao động) for tests, demos and benchmarks.

``generate_registry`` yields one dict per establishment, with exactly the columns of
``models.Establishment`` (see ``FIELDS``). The output depends only on ``(n, province_codes, seed, as_of)``:
every draw comes from one ``random.Random(seed)``, never from the global generator.

What is real and what is made up:

* province and commune codes and names are real (2025 units, ``geo.load_units``);
* tax codes are valid MSTs (correct check digit) but made up. Head offices use the administrative province
  code as the two-digit prefix, which is not the real tax-office prefix. Branches (``-BBB``) hang off a
  made-up parent with prefix 01 or 03;
* names and all risk attributes are drawn from the sector profiles (:mod:`services.demo.profiles`). These are
  rough orders of magnitude for a northern mountain / industrial province, not statistics;
* ``ownership`` is the stored value (``models.establishment.Ownership``: enterprise, cooperative, household).

The parts: the profiles, the random machinery (:mod:`services.demo.sampling`: one generator per run, weighted
places), the draws of one establishment's attributes (:mod:`services.demo.draws`); this module puts them together.

Consistency rules the output keeps (the tests check them): hazardous_workers, strict_work_workers,
untrained_workers and vulnerable_workers are each ≤ workforce; working_condition_class_max is ≥ 4 exactly
when there are hazardous workers; fatal + serious ≤ accidents_3y; accident_reports_late ≤ accidents_3y;
every date falls within the 3 years up to ``as_of``; monitoring_failing_ratio is 0 when there was no
monitoring; past_violations is 0 for establishments that were never inspected.
"""
from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from datetime import date

from services.demo.draws import (draw_accidents, draw_address, draw_exams, draw_hazards, draw_inspections, draw_names,
                                 draw_ownership_and_workforce, draw_tax_code, draw_vulnerable)
from services.demo.profiles import GAP_P, SECTORS, UNTRAINED, SectorProfile, nfc
from services.demo.sampling import Places, Run, size_band
from services.registry.names import NameMaker

__all__ = ["FIELDS", "SECTORS", "SectorProfile", "generate_registry", "generate_people"]

FIELDS: tuple[str, ...] = (
    "tax_code", "name", "address", "province_code", "commune_code", "sector_vsic", "ownership",
    "legal_representative", "representative_title", "workforce", "hazardous_workers",
    "working_condition_class_max", "strict_equipment_count", "strict_work_workers", "last_health_exam_on",
    "last_disease_exam_on", "last_environment_monitoring_on", "monitoring_failing_ratio",
    "fatal_accidents_3y", "serious_accidents_3y", "accidents_3y", "accident_reports_late",
    "osh_organisation_gaps", "untrained_workers", "vulnerable_workers", "past_violations",
    "last_inspected_on", "open_complaints",
)


def generate_registry(n: int, *, province_codes: Sequence[str], seed: int, as_of: date) -> Iterator[dict]:
    """Yield ``n`` establishments located in ``province_codes`` (each must have a commune list)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    places = Places(province_codes)
    return _generate(n, places, seed, as_of)


def _generate(n: int, places: Places, seed: int, as_of: date) -> Iterator[dict]:
    run = Run(seed, as_of)
    rng, rnd = run.rng, run.rnd
    for _ in range(n):
        sector = SECTORS[bisect(run.sector_cum, rnd() * run.sector_total)]
        commune, prov = places.pick(rng)
        ownership, workforce = draw_ownership_and_workforce(run, sector)
        band = size_band(workforce)
        rep_name, name, title, branch = draw_names(run, sector, ownership, workforce, commune, prov)
        tax_code = draw_tax_code(run, branch, prov)
        address = draw_address(run, commune, prov)
        hazardous, cls, strict_work, equipment = draw_hazards(run, sector, ownership, workforce)
        health, disease, monitoring, failing = draw_exams(run, sector, ownership, band, hazardous)

        # OSH organisation and training
        gap_p = GAP_P[ownership][band]
        gaps = (rnd() < gap_p) + (rnd() < gap_p) + (rnd() < gap_p) + (rnd() < gap_p)
        untrained = min(workforce, int(workforce * UNTRAINED[ownership][band] * 2.0 * rnd() + rnd() * 0.5))

        accidents, fatal, serious, late = draw_accidents(run, sector, ownership, workforce, gaps, untrained)
        vulnerable = draw_vulnerable(run, sector, workforce, hazardous)
        last_inspected, past_violations, complaints = draw_inspections(
            run, sector, ownership, band, workforce, gaps, accidents)

        yield {
            "tax_code": tax_code,
            "name": nfc(name),
            "address": nfc(address),
            "province_code": prov.code,
            "commune_code": commune.code,
            "sector_vsic": sector.code,
            "ownership": ownership,
            "legal_representative": nfc(rep_name),
            "representative_title": title,
            "workforce": workforce,
            "hazardous_workers": hazardous,
            "working_condition_class_max": cls,
            "strict_equipment_count": equipment,
            "strict_work_workers": strict_work,
            "last_health_exam_on": health,
            "last_disease_exam_on": disease,
            "last_environment_monitoring_on": monitoring,
            "monitoring_failing_ratio": failing,
            "fatal_accidents_3y": fatal,
            "serious_accidents_3y": serious,
            "accidents_3y": accidents,
            "accident_reports_late": late,
            "osh_organisation_gaps": gaps,
            "untrained_workers": untrained,
            "vulnerable_workers": vulnerable,
            "past_violations": past_violations,
            "last_inspected_on": last_inspected,
            "open_complaints": complaints,
        }


def generate_people(n: int, *, seed: int) -> list[dict]:
    """``n`` Vietnamese people: ``{"full_name": "Nguyễn Văn An", "gender": "male"}`` (or ``"female"``)."""
    if n < 0:
        raise ValueError("n must be ≥ 0")
    rng = random.Random(seed)
    names = NameMaker()
    out = []
    for _ in range(n):
        full_name, gender = names.person(rng)
        out.append({"full_name": nfc(full_name), "gender": gender})
    return out

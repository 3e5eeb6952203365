"""The register's de-identification guard over the real stages: inspectors, officials and the lead (people of the
agencies), a complainant named in a complaint trigger, an accident victim named in an accident trigger. In a
normal run none of their names (nor the triggers' reference numbers) reach index.html, register.json or
register.csv; a publication made to carry one is refused and nothing is written."""
from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from sqlmodel import select

from models import Establishment, Inspection, Person, Publication
from services.errors import DeidentificationError
from services.publishing import deidentify, register
from services.db import session_scope
from services.settings import Settings
from services.stages import triggers
from tests.integration.test_register_web import TODAY, published_register

COMPLAINANT = "Trần Văn Bình"
VICTIM = "Lê Thị Hoa"
COMPLAINT_REF = "Đơn phản ánh của ông Trần Văn Bình"
ACCIDENT_REF = "TNLĐ-2026-017"
FILES = ("index.html", "register.json", "register.csv")


def with_triggers(settings: Settings) -> list[int]:
    ids = published_register(settings, count=3)
    with session_scope(settings) as session:
        taxes = [session.get(Establishment, session.get(Inspection, i).establishment_id).tax_code for i in ids]
    assert triggers.record_trigger(settings, tax_code=taxes[0], kind="complaint", reference=COMPLAINT_REF,
                                   received_on=date(2026, 3, 2), by="SNV-LEAD",
                                   note=f"Người khiếu nại: ông {COMPLAINANT}, công nhân phân xưởng cơ khí.")
    assert triggers.record_trigger(settings, tax_code=taxes[1], kind="accident", reference=ACCIDENT_REF,
                                   received_on=date(2026, 3, 9), by="SNV-LEAD",
                                   note=f"Nạn nhân {VICTIM} bị thương khi vận hành máy ép.")
    return ids


def protected_texts(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        people = [p.full_name for p in session.exec(select(Person)).all()]
    assert len(people) >= 5
    return [*people, COMPLAINANT, VICTIM, COMPLAINT_REF, ACCIDENT_REF]


def test_no_person_complainant_or_victim_reaches_the_register_in_a_normal_run(settings: Settings) -> None:
    with_triggers(settings)
    with session_scope(settings) as session:
        sources = {p.text: p.source for p in deidentify.protected_strings(session)}
    assert COMPLAINANT in sources and VICTIM in sources and COMPLAINT_REF in sources and ACCIDENT_REF in sources
    folder = register.write_register(settings, today=TODAY)
    for name in FILES:
        text = unicodedata.normalize("NFC", (folder / name).read_text(encoding="utf-8-sig"))
        assert text == unicodedata.normalize("NFC", text)
        for protected in protected_texts(settings):
            assert protected not in text, (name, protected)


def test_an_organisation_named_after_a_person_is_published_but_a_leaked_name_stops_the_register(settings: Settings) -> None:
    ids = with_triggers(settings)
    with session_scope(settings) as session:
        inspector = session.exec(select(Person).where(Person.code == "SNV-TT01")).one().full_name
    folder = register.write_register(settings, today=TODAY)
    before = {name: (folder / name).read_bytes() for name in FILES}

    # an organisation whose registered name is a person's (not a protected one) is public
    with session_scope(settings) as session:
        pub = session.exec(select(Publication).order_by(Publication.id)).first()
        establishment = session.get(Establishment, session.get(Inspection, ids[0]).establishment_id)
        establishment.name = "Công ty TNHH Phạm Quang Huy"
        pub.payload = {**pub.payload, "ten_co_so": establishment.name}
        session.add_all([establishment, pub])
        number = pub.payload["so_quyet_dinh"]
    folder = register.write_register(settings, today=TODAY)
    assert "Công ty TNHH Phạm Quang Huy" in (folder / "index.html").read_text(encoding="utf-8")
    before = {name: (folder / name).read_bytes() for name in FILES}

    # the victim's name slips into a publication (e.g. typed into the establishment's name): refused, nothing written
    for leaked, field in ((f"Công ty TNHH Phạm Quang Huy (nạn nhân {VICTIM})", "ten_co_so"),
                          (f"Cong ty TNHH Pham Quang Huy - {inspector}", "ten_co_so")):
        with session_scope(settings) as session:
            pub = session.exec(select(Publication).order_by(Publication.id)).first()
            pub.payload = {**pub.payload, field: leaked}
            session.add(pub)
        with pytest.raises(DeidentificationError) as caught:
            register.write_register(settings, today=TODAY)
        message = caught.value.message
        assert f"«{field}»" in message and number in message
        assert VICTIM not in message and inspector not in message
        assert {name: (folder / name).read_bytes() for name in FILES} == before

"""Digital signing switched on for a test world (issue 17): sanction decisions go through the NĐ 30 issuing sequence
against the throwaway PKI of tests/pki_support.py.

:func:`signing_on` gives settings with ``signing_documents = ["sanction_decision"]``, the PKI's TSA and root, a keys
folder holding the official's PKCS#12 file and signature image (``<code>.p12``, ``<code>.png``) and the seal image, the
organisation's key in the environment (``KIEMTRA_SIGNING_SEAL_*``), and the official renamed to the certificate's
holder (Bế Thanh Tịnh: a certificate names its holder, and only the holder may sign).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import col, select

from models import Document, DocumentCounter, DocumentType, Person
from services.db import session_scope
from services.settings import Settings
from tests.pki_support import PASSPHRASE, TestPki, seal_png, signature_png

HOLDER = "Bế Thanh Tịnh"  # the "giam-doc" certificate's common name (tests/pki/certomancer.yml)
ORGANISATION = "Sở Nội vụ tỉnh Cao Bằng"  # the "so-noi-vu" certificate's


def signing_on(settings: Settings, pki: TestPki, monkeypatch: pytest.MonkeyPatch, official_code: str, *,
               seal_key: bool = True) -> Settings:
    keys = settings.data_dir / "signing-keys"
    keys.mkdir(parents=True, exist_ok=True)
    shutil.copy(pki.pkcs12("giam-doc"), keys / f"{official_code}.p12")
    (keys / f"{official_code}.png").write_bytes(signature_png())
    (keys / "seal.png").write_bytes(seal_png())
    root = keys / "root.cer"
    root.write_bytes(pki.root.dump())
    if seal_key:
        monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_PKCS12", str(pki.pkcs12("so-noi-vu")))
        monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_PKCS12_PASSPHRASE", PASSPHRASE)
        monkeypatch.setenv("KIEMTRA_SIGNING_SEAL_NAME", ORGANISATION)
    else:
        for name in ("PKCS12", "PKCS12_PASSPHRASE", "NAME", "PKCS11_MODULE"):
            monkeypatch.delenv(f"KIEMTRA_SIGNING_SEAL_{name}", raising=False)
    with session_scope(settings) as session:
        official = session.exec(select(Person).where(Person.code == official_code)).one()
        official.full_name = HOLDER
        session.add(official)
    return settings.model_copy(update={"signing_documents": ("sanction_decision",), "signing_tsa_url": pki.tsa_url,
                                       "signing_trust_roots": (root,), "signing_keys_dir": keys,
                                       "signing_seal_email": "snv@caobang.gov.vn"})


def issued_of(settings: Settings, doc_type: DocumentType) -> list[Document]:
    """The issued documents of a type, by revision then id, detached."""
    with session_scope(settings) as session:
        rows = list(session.exec(select(Document).where(Document.doc_type == doc_type)
                                 .order_by(col(Document.revision), col(Document.id))).all())
        for row in rows:
            session.expunge(row)
        return rows


def counter_of(settings: Settings, doc_type: DocumentType) -> list[int]:
    """The last number taken in each series of a type (empty: none taken)."""
    with session_scope(settings) as session:
        return [c.last_seq for c in session.exec(select(DocumentCounter).where(DocumentCounter.doc_type == doc_type.value))]


def p12_of(settings: Settings, code: str) -> Path:
    assert settings.signing_keys_path is not None
    return settings.signing_keys_path / f"{code}.p12"


__all__ = ["HOLDER", "ORGANISATION", "PASSPHRASE", "counter_of", "issued_of", "p12_of", "signing_on"]

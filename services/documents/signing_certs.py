"""Certificates read from files: a province's trust roots, a token's CA chain (issue 17)."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from asn1crypto import pem, x509


def load_certificates(paths: Iterable[Path | str]) -> list[x509.Certificate]:
    """Certificates from PEM or DER files (a PEM file may hold several)."""
    found: list[x509.Certificate] = []
    for path in paths:
        data = Path(path).read_bytes()
        if pem.detect(data):
            found += [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        else:
            found.append(x509.Certificate.load(data))
    return found

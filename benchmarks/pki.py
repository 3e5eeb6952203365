"""The signing benchmark's PKI: the signing tests' throwaway certomancer PKI (root, intermediate, OCSP, CRLs, TSA, the
competent person's and the organisation's certificates; ``tests/pki_support.py``) served on a loopback port in a temp
dir, with the signature and seal images a signer would upload. Test code stays out of ``services``: only the benchmarks
and the tests import it."""
from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pki_support import PASSPHRASE, TestPki, seal_png, serve_pki, signature_png  # noqa: E402

__all__ = ["PASSPHRASE", "TestPki", "benchmark_pki", "seal_png", "signature_png"]


@contextmanager
def benchmark_pki() -> Iterator[TestPki]:
    """Fresh keys and certificates in a temp dir, the PKI's services on loopback, for the time of the block."""
    with tempfile.TemporaryDirectory(prefix="kiemtra-bench-pki-") as tmp, serve_pki(Path(tmp)) as pki:
        yield pki

"""A throwaway PKI for the signing tests (issue 17): certomancer's Animator (a WSGI app) on a loopback port.

``tests/pki/certomancer.yml`` describes it: a root CA, an intermediate CA, an OCSP responder, CRLs, a TSA, the
competent person's certificate ("giam-doc": Bế Thanh Tịnh, Giám đốc Sở), the organisation's ("so-noi-vu": Sở Nội vụ,
the seal) and a revoked signer ("thu-hoi"). The ``pki`` fixture (through :func:`serve_pki`, which ``benchmarks/pki.py``
reuses) makes fresh RSA keys, serves the PKI with werkzeug in a thread, writes each signer's PKCS#12 file into the temp
dir, and gives the URLs. Also here: the signature and seal images a signer would upload (transparent PNGs, Pillow).
"""
from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import x509
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, ServiceLabel
from certomancer.registry.pki_arch import PKIArchitecture
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image, ImageDraw
from werkzeug.serving import WSGIRequestHandler, make_server

from services.documents.signing_keys import SignerKey

CONFIG = Path(__file__).parent / "pki" / "certomancer.yml"
ARCH = "tinh"
KEYS = ("root", "interm", "interm-ocsp", "tsa", "giam-doc", "so-noi-vu", "thu-hoi")
PASSPHRASE = "mật-khẩu-thử"  # a test PKI's PKCS#12 passphrase (non-ASCII on purpose)


@dataclass
class TestPki:
    base_url: str
    arch: PKIArchitecture
    folder: Path

    __test__ = False  # not a test class

    @property
    def root(self) -> x509.Certificate:
        return self.arch.get_cert(CertLabel("root"))

    @property
    def tsa_url(self) -> str:
        return str(self.arch.service_registry.get_tsa_info(ServiceLabel("tsa")).url)

    @property
    def ocsp_url(self) -> str:
        return str(self.arch.service_registry.get_ocsp_info(ServiceLabel("interm")).url)

    @property
    def crl_url(self) -> str:
        return str(self.arch.service_registry.get_crl_repo_info(ServiceLabel("interm")).latest_external_url)

    def cert(self, label: str) -> x509.Certificate:
        return self.arch.get_cert(CertLabel(label))

    def pkcs12(self, label: str) -> Path:
        """The signer's key, its certificate and the chain, in a PKCS#12 file protected by ``PASSPHRASE``."""
        path = self.folder / f"{label}.p12"
        if not path.exists():
            path.write_bytes(self.arch.package_pkcs12(CertLabel(label), password=PASSPHRASE.encode()))
        return path

    def key(self, label: str, name: str = "") -> SignerKey:
        return SignerKey.pkcs12(self.pkcs12(label), PASSPHRASE, name=name)

    def private_key_pem(self, label: str) -> bytes:
        """The signer's private key as unencrypted PKCS#8 PEM (what softhsm2-util --import reads)."""
        return (self.folder / "keys" / f"{label}.key.pem").read_bytes()


def _make_keys(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for label in KEYS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (folder / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log: each OCSP, CRL and TSA request would print a line."""


class _Late:
    """A WSGI app set after the server is bound: the certificates need the port in their URLs."""

    app: Animator | None = None

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        assert self.app is not None
        return self.app(environ, start_response)


@contextmanager
def serve_pki(folder: Path) -> Iterator[TestPki]:
    """The PKI with fresh keys in ``folder``, served on a loopback port for the time of the block (the tests' fixture
    and ``benchmarks/pki.py``)."""
    _make_keys(folder / "keys")
    late = _Late()
    server = make_server("127.0.0.1", 0, late, threaded=True, request_handler=_Quiet)
    base_url = f"http://127.0.0.1:{server.server_port}"
    config = CertomancerConfig.from_yaml(CONFIG.read_text(encoding="utf-8"), key_search_dir=str(folder),
                                         external_url_prefix=base_url)
    arch = config.get_pki_arch(ArchLabel(ARCH))
    late.app = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
    thread = threading.Thread(target=server.serve_forever, name="certomancer", daemon=True)
    thread.start()
    try:
        yield TestPki(base_url=base_url, arch=arch, folder=folder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    with serve_pki(tmp_path_factory.mktemp("pki")) as served:
        yield served


def signature_png(width: int = 600, height: int = 260) -> bytes:
    """A handwritten-looking signature: a blue stroke on a transparent background."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 26, height // 2 + int(70 * ((-1) ** i) * (0.4 + (i % 3) / 3))) for i in range(20)]
    draw.line(points, fill=(20, 40, 170, 255), width=9, joint="curve")
    draw.line([(60, height - 50), (width - 60, height - 70)], fill=(20, 40, 170, 255), width=6)
    return _png(image)


def seal_png(size: int = 400) -> bytes:
    """A round red seal on a transparent background."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (210, 20, 30, 255)
    draw.ellipse((8, 8, size - 8, size - 8), outline=red, width=14)
    draw.ellipse((44, 44, size - 44, size - 44), outline=red, width=5)
    draw.regular_polygon((size // 2, size // 2, size // 7), 5, fill=red)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

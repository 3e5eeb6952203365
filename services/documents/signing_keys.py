"""Where a signing key lives (issue 17): a PKCS#12 file or a PKCS#11 token (a USB token in an office, SoftHSM in tests).

A :class:`SignerKey` holds only where the key is and how to unlock it; :meth:`SignerKey.open` opens it for one signing
(the PKCS#11 session is closed again when the block ends). Passphrases and PINs are :class:`pydantic.SecretStr`: never
printed by ``repr``, never logged. A PKCS#12 file is decrypted once per process (cached by its path, modification time,
size and passphrase): each signing no longer pays the passphrase's key derivation.

Settings (environment, prefix ``KIEMTRA_SIGNING_<ROLE>_`` where the role is ``SIGNER`` for the competent person's key
and ``SEAL`` for the organisation's, see :func:`key_from_env`):

- ``PKCS12`` (a path) and ``PKCS12_PASSPHRASE``; or
- ``PKCS11_MODULE`` (the token's PKCS#11 library), ``PKCS11_TOKEN`` (the token label), ``PKCS11_KEY`` (the label of the
  key and of its certificate on the token), ``PKCS11_PIN`` and, when the token does not hold its CA certificates,
  ``PKCS11_CHAIN`` (a JSON list of PEM/DER files).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from pyhanko.sign import signers

ROLES = ("signer", "seal")


class SigningKeyError(RuntimeError):
    """A key that cannot be opened: the message is Vietnamese and never carries a passphrase or a PIN."""


@dataclass(frozen=True)
class Pkcs12Key:
    """A key and its certificate chain in a PKCS#12 (.p12/.pfx) file."""

    path: Path
    passphrase: SecretStr = field(repr=False)


@dataclass(frozen=True)
class Pkcs11Key:
    """A key on a PKCS#11 token, found by the token's label and the key's label (its certificate has the same label)."""

    module: Path
    token_label: str
    key_label: str
    pin: SecretStr = field(repr=False)
    chain: tuple[Path, ...] = ()  # CA certificates (PEM/DER files) when the token does not hold them


@dataclass(frozen=True)
class SignerKey:
    """One signing key: where it is, and a name to show people ("Giám đốc Sở", "Sở Nội vụ")."""

    source: Pkcs12Key | Pkcs11Key
    name: str = ""

    @classmethod
    def pkcs12(cls, path: Path | str, passphrase: str | SecretStr, *, name: str = "") -> SignerKey:
        secret = passphrase if isinstance(passphrase, SecretStr) else SecretStr(passphrase)
        return cls(Pkcs12Key(Path(path), secret), name)

    @classmethod
    def pkcs11(cls, module: Path | str, token_label: str, key_label: str, pin: str | SecretStr, *,
               chain: tuple[Path, ...] = (), name: str = "") -> SignerKey:
        secret = pin if isinstance(pin, SecretStr) else SecretStr(pin)
        return cls(Pkcs11Key(Path(module), token_label, key_label, secret, tuple(chain)), name)

    @contextmanager
    def open(self) -> Iterator[signers.Signer]:
        """The pyHanko signer of this key, for the time of the block."""
        if isinstance(self.source, Pkcs12Key):
            yield _open_pkcs12(self.source)
        else:
            with _open_pkcs11(self.source) as signer:
                yield signer


def _open_pkcs12(key: Pkcs12Key) -> signers.Signer:
    try:
        found = key.path.stat()
    except OSError as exc:
        raise SigningKeyError(f"không đọc được tệp khóa PKCS#12 {key.path.name}: {exc.strerror}") from None
    # the file decrypted once (PBKDF and the key's parsing cost ~40 ms a signing); a changed file is read again
    return _load_pkcs12(key.path.resolve(), found.st_mtime_ns, found.st_size, key.passphrase)


@lru_cache(maxsize=16)
def _load_pkcs12(path: Path, _mtime_ns: int, _size: int, passphrase: SecretStr) -> signers.Signer:
    """The signer of a PKCS#12 file, cached by its path, modification time, size and passphrase (a failure is not
    cached: a corrected passphrase or file is tried again)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"không đọc được tệp khóa PKCS#12 {path.name}: {exc.strerror}") from None
    secret = passphrase.get_secret_value().encode() or None
    try:
        return signers.SimpleSigner.load_pkcs12_data(data, other_certs=(), passphrase=secret)
    except Exception:  # a wrong passphrase or a damaged file: pyHanko's message could quote neither, but be sure
        raise SigningKeyError(f"không mở được tệp khóa PKCS#12 {path.name}: sai mật khẩu hoặc tệp hỏng") from None


@contextmanager
def _open_pkcs11(key: Pkcs11Key) -> Iterator[signers.Signer]:
    from pyhanko.config.pkcs11 import PKCS11SignatureConfig, TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11SigningContext

    from services.documents.signing_certs import load_certificates

    # every certificate on the token is pulled (other_certs_to_pull=None): tokens carry their CA chain
    config = PKCS11SignatureConfig(module_path=str(key.module), token_criteria=TokenCriteria(label=key.token_label),
                                   cert_label=key.key_label, key_label=key.key_label, other_certs_to_pull=None,
                                   other_certs=load_certificates(key.chain))
    try:
        context = PKCS11SigningContext(config, user_pin=key.pin.get_secret_value())
        signer = context.__enter__()
    except Exception as exc:
        raise SigningKeyError(f"không mở được khóa '{key.key_label}' trên thiết bị ký '{key.token_label}': "
                              f"{type(exc).__name__}") from None
    try:
        yield signer
    finally:
        context.__exit__(None, None, None)


class KeySettings(BaseSettings):
    """One role's key from the environment (``KIEMTRA_SIGNING_SIGNER_…`` or ``KIEMTRA_SIGNING_SEAL_…``)."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    name: str = Field("", description="shown to people: the signer's title or the organisation")
    pkcs12: Path | None = Field(None, description="a PKCS#12 file with the key and its certificate chain")
    pkcs12_passphrase: SecretStr = Field(SecretStr(""), description="the PKCS#12 file's passphrase")
    pkcs11_module: Path | None = Field(None, description="the token's PKCS#11 library (.so)")
    pkcs11_token: str = Field("", description="the token's label")
    pkcs11_key: str = Field("", description="the label of the key and its certificate on the token")
    pkcs11_pin: SecretStr = Field(SecretStr(""), description="the token's user PIN")
    pkcs11_chain: tuple[Path, ...] = Field((), description="CA certificate files, when the token does not hold them")


def key_from_env(role: Literal["signer", "seal"]) -> SignerKey:
    """The key of ``role`` as the environment configures it; a PKCS#11 token wins over a PKCS#12 file."""
    if role not in ROLES:
        raise ValueError(f"unknown signing role {role!r}")
    prefix = f"KIEMTRA_SIGNING_{role.upper()}_"
    found = KeySettings(_env_prefix=prefix)  # pydantic-settings' init-time option
    if found.pkcs11_module is not None:
        if not (found.pkcs11_token and found.pkcs11_key):
            raise SigningKeyError(f"thiếu {prefix}PKCS11_TOKEN hoặc {prefix}PKCS11_KEY cho thiết bị ký")
        return SignerKey.pkcs11(found.pkcs11_module, found.pkcs11_token, found.pkcs11_key, found.pkcs11_pin,
                                chain=found.pkcs11_chain, name=found.name)
    if found.pkcs12 is not None:
        return SignerKey.pkcs12(found.pkcs12, found.pkcs12_passphrase, name=found.name)
    raise SigningKeyError(f"chưa cấu hình khóa ký: đặt {prefix}PKCS12 hoặc {prefix}PKCS11_MODULE")

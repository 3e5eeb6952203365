"""The province portal webhook's signature (v2): what the sender signs and what a receiver checks. Pure functions.

The canonical string is six lines joined by ``"\\n"`` (UTF-8, no trailing newline)::

    v2
    POST                              the method, upper case
    /webhooks/kiemtra/outcomes        the path with its query, exactly as on the request line
    outcome:12:1:publish              the Idempotency-Key header
    1796438400                        the X-Kiemtra-Timestamp header: Unix seconds, decimal digits only
    <hex sha256 of the body bytes>    lower case

and the signature is the lower-case hex HMAC-SHA256 of it with the secret of the key id, sent as
``X-Kiemtra-Signature: v2=<hex>`` beside ``X-Kiemtra-Key-Id`` and ``X-Kiemtra-Timestamp``. Method, path, key,
time and body are all signed, so none can be changed or reused with another (a replay under a new
Idempotency-Key does not verify). The key id lets a receiver hold several secrets during a rotation.

:func:`verify` refuses (:class:`SignatureRefused`, its ``code`` in brackets): a missing or malformed header
[``missing``], a key id it does not hold [``unknown_key``], a signature that does not match, compared in constant
time [``bad_signature``], a timestamp further than the window from its clock [``stale``]. The last rule, a
signature seen before within the window [``replay``], needs the receiver's storage (the stand-in's:
services/clients/outbox.py); :func:`verify` gives what to remember.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from services.errors import SignatureRefused

VERSION = "v2"
DEFAULT_WINDOW_S = 300
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v2=[0-9a-f]{64}")
HEADER_KEY_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE = "X-Kiemtra-Key-Id", "X-Kiemtra-Timestamp", "X-Kiemtra-Signature"


def canonical(*, method: str, path: str, idempotency_key: str, timestamp: str, body: bytes) -> bytes:
    return "\n".join((VERSION, method.upper(), path, idempotency_key, timestamp, hashlib.sha256(body).hexdigest())).encode()


def sign(secret: bytes, *, method: str, path: str, idempotency_key: str, timestamp: str, body: bytes) -> str:
    message = canonical(method=method, path=path, idempotency_key=idempotency_key, timestamp=timestamp, body=body)
    return f"{VERSION}=" + hmac.new(secret, message, hashlib.sha256).hexdigest()


def signature_headers(key_id: str, secret: bytes, *, method: str, path: str, idempotency_key: str, timestamp: int,
                      body: bytes) -> dict[str, str]:
    """The three headers of one attempt (signed at the time of the attempt, never stored)."""
    stamp = str(timestamp)
    return {HEADER_KEY_ID: key_id, HEADER_TIMESTAMP: stamp,
            HEADER_SIGNATURE: sign(secret, method=method, path=path, idempotency_key=idempotency_key, timestamp=stamp, body=body)}


@dataclass(frozen=True)
class Verified:
    key_id: str
    timestamp: int
    signature: str  # what the receiver remembers for the window, to refuse a replay


def verify(keys: Mapping[str, bytes], *, method: str, path: str, idempotency_key: str, key_id: str, timestamp: str,
           signature: str, body: bytes, now: float, window_s: float = DEFAULT_WINDOW_S) -> Verified:
    """Check one received request against the keys the receiver holds; raise :class:`SignatureRefused`."""
    if not (idempotency_key and _TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature) and KEY_ID.fullmatch(key_id)):
        raise SignatureRefused("missing", "Thiếu hoặc sai định dạng Idempotency-Key, X-Kiemtra-Key-Id, X-Kiemtra-Timestamp "
                                          "hoặc X-Kiemtra-Signature (v2=<64 ký tự hex>).")
    secret = keys.get(key_id)
    if not secret:
        raise SignatureRefused("unknown_key", f"Cổng không có khóa ký mã '{key_id}'.", key_id=key_id)
    expected = sign(secret, method=method, path=path, idempotency_key=idempotency_key, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureRefused("bad_signature", "Chữ ký không khớp với phương thức, đường dẫn, Idempotency-Key, "
                                                "dấu thời gian và nội dung.", key_id=key_id)
    if abs(now - int(timestamp)) > window_s:
        raise SignatureRefused("stale", f"Dấu thời gian lệch {abs(int(now) - int(timestamp))} giây so với giờ của cổng "
                                        f"(cho phép ±{int(window_s)} giây).", key_id=key_id)
    return Verified(key_id, int(timestamp), signature)


def parse_keys(text: str) -> dict[str, bytes]:
    """Accepted keys from a setting: a JSON object ``{"k1": "secret", …}`` or ``k1:secret,k2:secret`` (a secret with
    a comma needs the JSON form). Errors name an entry by its position, never by what it holds."""
    text = text.strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            raise ValueError("KIEMTRA_PORTAL_ACCEPTED_KEYS không phải JSON hợp lệ") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise ValueError("KIEMTRA_PORTAL_ACCEPTED_KEYS: mỗi khóa phải là một chuỗi")
        pairs = list(loaded.items())
    else:
        pairs = [(key_id, secret) for key_id, _, secret in (item.partition(":") for item in text.split(","))]
    keys: dict[str, bytes] = {}
    for n, (key_id, secret) in enumerate(pairs, start=1):
        key_id = key_id.strip()
        if not KEY_ID.fullmatch(key_id):
            raise ValueError(f"KIEMTRA_PORTAL_ACCEPTED_KEYS: mục thứ {n} không có dạng mã:khóa với mã 1–64 ký tự A–Z a–z 0–9 . _ -")
        if not secret.strip():
            raise ValueError(f"KIEMTRA_PORTAL_ACCEPTED_KEYS: mục thứ {n} có khóa rỗng")
        if key_id in keys:
            raise ValueError(f"KIEMTRA_PORTAL_ACCEPTED_KEYS: mục thứ {n} lặp lại một mã khóa đã có")
        keys[key_id] = secret.encode()
    return keys

"""The document store's files: written atomically (temp file in the same folder, fsync, rename), read back only as
the bytes that were recorded."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from services.errors import NotStored


def read_stored(root: Path, relative: str, sha256: str | None) -> bytes:
    """A file of the store under ``root``, refused (:class:`NotStored`, in Vietnamese) when it lies outside the store,
    is missing, or is not the bytes whose SHA-256 was recorded (``None``: not checked)."""
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise NotStored("Không tìm thấy tệp của văn bản trong kho lưu trữ; hãy báo quản trị hệ thống.", path=relative)
    data = path.read_bytes()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise NotStored("Tệp của văn bản trong kho lưu trữ không khớp với bản đã lưu (đã bị thay đổi); không dùng được, "
                        "hãy báo quản trị hệ thống.", path=relative)
    return data


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a half-written one; a crash leaves only a hidden temp file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

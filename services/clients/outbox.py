"""A local outbox for the demo and development: the gateway's and the province portal's HTTP protocols on
loopback, writing each message it accepts to a folder (one JSON file per Idempotency-Key, so a re-sent message
is stored once): ``POST /messages`` (notifications) into ``folder``, ``POST /outcomes`` (publications) into
``folder/portal``.

``/outcomes`` is received as the documented portal contract says (docs/operations.md, "The portal webhook"): the
v2 signature is checked against the keys it holds (:func:`services.portal_signature.verify`, before the body is
parsed) and refused with 401; a signature seen before within the window is refused as a replay with 409 (the
signatures seen are kept in ``folder/portal/seen-signatures.sqlite3``, so a restart does not forget them, and
pruned once past the window); a message whose Idempotency-Key it already keeps is answered 409 with the receipt
of the first. It refuses to start without a key or with an empty one.

``/decisions`` is the stand-in of the national violations database (docs/national-feed.md): the same v2 signature
check against ``feed_keys`` (401 on a bad one), each message stored once per Idempotency-Key in ``folder/national``
(a repeat answered 409 with the first one's receipt). For tests and the demo it obeys a script
(:attr:`Outbox.faults`): ``"500"`` answers 500 without storing, ``"timeout:<s>"`` stores, then waits ``s`` seconds
before answering (past the client's timeout), ``"400"`` refuses.

It speaks exactly what :class:`services.clients.gateway.GatewayClient` and
:class:`services.clients.portal.PortalClient` send, so the demo's notifications and publications travel the
real delivery paths; production points ``KIEMTRA_GATEWAY_URL`` and ``KIEMTRA_PORTAL_URL`` at the province's.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from services.errors import KiemtraError
from services.portal_signature import DEFAULT_WINDOW_S, HEADER_KEY_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, verify
from services.errors import SignatureRefused

MAX_BODY = 1024 * 1024  # one message or outcome is a few KiB


@dataclass
class Outbox:
    url: str
    folder: Path
    server: ThreadingHTTPServer
    thread: threading.Thread

    faults: list[str] = field(default_factory=list)  # /decisions: what to do with the next requests (see above)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def messages(self) -> list[dict[str, object]]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.folder.glob("*.json"))]

    def outcomes(self) -> list[dict[str, object]]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((self.folder / "portal").glob("*.json"))]

    def decisions(self) -> list[dict[str, object]]:
        """What the national database stand-in stored, one per Idempotency-Key."""
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((self.folder / "national").glob("*.json"))]


def _name(key: str) -> str:
    """A message's file: one per Idempotency-Key, whatever characters the key holds."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class SeenSignatures:
    """The portal side's memory of the signatures it accepted, for the replay window (a small SQLite file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with closing(sqlite3.connect(path)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS seen (signature TEXT PRIMARY KEY, timestamp INTEGER NOT NULL)")

    def first_time(self, signature: str, timestamp: int, *, now: float, window_s: float) -> bool:
        """Remember ``signature``; False when it was seen before. Forgets those past the window (refused as stale)."""
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute("DELETE FROM seen WHERE timestamp < ?", (now - window_s,))
            return db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (signature, timestamp)).rowcount == 1

    def count(self) -> int:
        with closing(sqlite3.connect(self.path)) as db:
            return int(db.execute("SELECT count(*) FROM seen").fetchone()[0])


@dataclass(frozen=True)
class _OutboxSide:
    """What one outbox's requests share: its folder, the portal keys, the signatures seen, one lock, the clock."""
    folder: Path
    keys: dict[str, bytes]
    seen: SeenSignatures
    lock: threading.Lock
    clock: Callable[[], float]
    window_s: float
    feed_keys: dict[str, bytes] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)  # shared with the Outbox (the same list)


def _handler_for(side: _OutboxSide) -> type[_OutboxHandler]:
    """A handler class serving one outbox (http.server builds one handler per request from a class)."""
    return type("Handler", (_OutboxHandler,), {"side": side})


class _OutboxHandler(BaseHTTPRequestHandler):
    """The outbox's requests; ``side`` (set per outbox by :func:`_handler_for`) holds its folder, keys and memory."""

    side: _OutboxSide

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        key = self.headers.get("Idempotency-Key", "")
        route = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:  # refused unread
            self.close_connection = True
            self._answer(413, {"error": "too_large", "message": f"Nội dung quá {MAX_BODY // 1024} KiB."})
            return
        raw = self.rfile.read(length)
        if route not in ("/messages", "/outcomes", "/decisions") or not key:
            self._answer(400, {"error": "POST /messages, /outcomes or /decisions with an Idempotency-Key header"})
            return
        folder_ = self.side.folder
        signed = route != "/messages"
        if signed:  # who sent it, and when, before anything of the body is read as JSON
            folder_ = self.side.folder / ("portal" if route == "/outcomes" else "national")
            try:
                self._check_signature(key, raw, self.side.keys if route == "/outcomes" else self.side.feed_keys)
            except SignatureRefused as exc:
                stored = (folder_ / f"{_name(key)}.json").exists() and exc.code == "replay"
                self._answer(409 if exc.code == "replay" else 401,
                             {"error": exc.code, "message": exc.message, **({"id": _name(key)} if stored else {})})
                return
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self._answer(400, {"error": "invalid JSON", "message": "Nội dung không phải một đối tượng JSON."})
            return
        fault = self._fault() if route == "/decisions" else ""
        if fault in ("500", "400"):
            self._answer(int(fault), {"error": "scripted", "message": f"Lỗi giả lập (HTTP {fault})."})
            return
        self._store(folder_ / f"{_name(key)}.json", key, message, conflict=signed,
                    delay_s=float(fault.partition(":")[2] or 0) if fault.startswith("timeout") else 0.0)

    def _fault(self) -> str:
        with self.side.lock:
            return self.side.faults.pop(0) if self.side.faults else ""

    def _check_signature(self, key: str, raw: bytes, keys: Mapping[str, bytes]) -> None:
        side = self.side
        now = side.clock()
        verified = verify(keys, method=self.command, path=self.path, idempotency_key=key,
                          key_id=self.headers.get(HEADER_KEY_ID, ""), timestamp=self.headers.get(HEADER_TIMESTAMP, ""),
                          signature=self.headers.get(HEADER_SIGNATURE, ""), body=raw, now=now, window_s=side.window_s)
        with side.lock:
            first = side.seen.first_time(verified.signature, verified.timestamp, now=now, window_s=side.window_s)
        if not first:
            raise SignatureRefused("replay", "Chữ ký này đã được nhận (gửi lại y nguyên một yêu cầu cũ).")

    def _store(self, path: Path, key: str, message: dict[str, object], *, conflict: bool, delay_s: float = 0.0) -> None:
        """Keep the first message per key; the portal answers a repeat with 409 and the first one's receipt."""
        with self.side.lock:
            new = not path.exists()
            if new:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"idempotency_key": key, **message}, ensure_ascii=False, indent=1),
                               encoding="utf-8")
                os.replace(tmp, path)
        if delay_s:  # stored, but the answer comes after the client gave up
            time.sleep(delay_s)
        if new or not conflict:
            self._answer(202, {"id": path.stem, "status": "accepted"})
        else:
            self._answer(409, {"id": path.stem, "status": "duplicate", "error": "already_received"})

    def _answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()  # the refusal's reason reaches the lead's dead letters
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): it will send again
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        return


def start_outbox(folder: Path, host: str = "127.0.0.1", *, portal_keys: Mapping[str, bytes],
                 portal_window_s: float = DEFAULT_WINDOW_S, clock: Callable[[], float] = time.time,
                 feed_keys: Mapping[str, bytes] | None = None) -> Outbox:
    """Serve the outbox on ``host`` (a free port); ``portal_keys`` are the {key id: secret} ``/outcomes`` accepts,
    ``feed_keys`` those ``/decisions`` accepts (none: every national feed message is refused 401)."""
    if not portal_keys or not all(secret.strip() for secret in portal_keys.values()):
        raise KiemtraError("Cổng thông tin giả lập cần ít nhất một khóa ký và không khóa nào rỗng "
                           "(KIEMTRA_PORTAL_SECRET / KIEMTRA_PORTAL_ACCEPTED_KEYS).")
    keys = dict(portal_keys)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "portal").mkdir(exist_ok=True)
    (folder / "national").mkdir(exist_ok=True)
    faults: list[str] = []
    seen = SeenSignatures(folder / "portal" / "seen-signatures.sqlite3")
    lock = threading.Lock()

    Handler = _handler_for(_OutboxSide(folder, keys, seen, lock, clock, portal_window_s, dict(feed_keys or {}), faults))

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="outbox-gateway", daemon=True)
    thread.start()
    return Outbox(f"http://{host}:{server.server_address[1]}", folder, server, thread, faults)

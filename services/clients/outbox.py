"""A local outbox for the demo and development: the gateway's and the province portal's HTTP protocols on
loopback, writing each message it accepts to a folder (one JSON file per Idempotency-Key, so a re-sent message
is stored once): ``POST /messages`` (notifications) into ``folder``, ``POST /outcomes`` (publications, HMAC
signature checked when a secret is given) into ``folder/portal``.

It speaks exactly what :class:`services.clients.gateway.GatewayClient` and
:class:`services.clients.portal.PortalClient` send, so the demo's notifications and publications travel the
real delivery paths; production points ``KIEMTRA_GATEWAY_URL`` and ``KIEMTRA_PORTAL_URL`` at the province's.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from services.clients.portal import sign


@dataclass
class Outbox:
    url: str
    folder: Path
    server: ThreadingHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def messages(self) -> list[dict[str, object]]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.folder.glob("*.json"))]

    def outcomes(self) -> list[dict[str, object]]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((self.folder / "portal").glob("*.json"))]


def start_outbox(folder: Path, host: str = "127.0.0.1", *, portal_secret: bytes | None = None) -> Outbox:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "portal").mkdir(exist_ok=True)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            key = self.headers.get("Idempotency-Key", "")
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                message = json.loads(raw)
            except ValueError:
                self._answer(400, {"error": "invalid JSON"})
                return
            if self.path not in ("/messages", "/outcomes") or not key or not isinstance(message, dict):
                self._answer(400, {"error": "POST /messages or /outcomes with an Idempotency-Key header"})
                return
            if self.path == "/outcomes" and portal_secret is not None:
                stamp = self.headers.get("X-Kiemtra-Timestamp", "")
                if not hmac.compare_digest(sign(portal_secret, stamp, raw), self.headers.get("X-Kiemtra-Signature", "")):
                    self._answer(401, {"error": "bad signature"})
                    return
            name = hashlib.sha256(key.encode()).hexdigest()[:32]
            path = (folder if self.path == "/messages" else folder / "portal") / f"{name}.json"
            with lock:
                if not path.exists():
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(json.dumps({"idempotency_key": key, **message}, ensure_ascii=False, indent=1),
                                   encoding="utf-8")
                    os.replace(tmp, path)
            self._answer(202, {"id": name, "status": "accepted"})

        def _answer(self, status: int, body: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
            return

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="outbox-gateway", daemon=True)
    thread.start()
    return Outbox(f"http://{host}:{server.server_address[1]}", folder, server, thread)

"""The field app tests' loopback proxy (tests/proxy_support.py) against a small HTTP server: it passes requests
through, cuts an upload after exactly N body bytes, refuses while offline, and holds requests until released."""
from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.proxy_support import Proxy


class Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[str, int]] = []  # (request line's path, body bytes that arrived)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        assert isinstance(server, Upstream)
        server.received.append((self.path, len(body)))
        if len(body) == int(self.headers["Content-Length"]):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[Proxy]:
    proxy = Proxy(upstream.server_address[1])
    yield proxy
    proxy.close()


def wait_for(check: Callable[[], Any]) -> Any:
    for _ in range(250):
        if found := check():
            return found
        time.sleep(0.02)
    return check()


def put(conn: http.client.HTTPConnection, path: str, size: int) -> int:
    conn.request("PUT", path, body=b"x" * size)
    response = conn.getresponse()
    response.read()
    return response.status


def test_requests_pass_through_and_the_nth_upload_is_cut_after_exactly_n_bytes(upstream: Upstream, proxy: Proxy) -> None:
    cut = proxy.cut_upload(1000, match=b"PUT /photo", nth=2)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    assert put(conn, "/other", 5000) == 200 and put(conn, "/photo/1", 5000) == 200  # one keep-alive connection
    with pytest.raises((http.client.HTTPException, OSError)):
        put(conn, "/photo/2", 5000)
    assert cut.wait(5)
    conn.close()
    assert wait_for(lambda: [r for r in upstream.received if r[0] == "/photo/2"]) == [("/photo/2", 1000)]
    fresh = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    assert put(fresh, "/photo/3", 5000) == 200  # one-shot: the next passes
    fresh.close()
    assert proxy.count(b"PUT /photo") == 3


def test_offline_refuses_connections_until_allowed(proxy: Proxy) -> None:
    proxy.refuse()
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    with pytest.raises((http.client.HTTPException, OSError)):
        put(conn, "/x", 10)
    conn.close()
    proxy.allow()
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    assert put(conn, "/x", 10) == 200
    conn.close()
    assert proxy.refused_connections >= 1


def test_held_requests_wait_for_the_release(upstream: Upstream, proxy: Proxy) -> None:
    proxy.hold(b"PUT /held")
    statuses: list[int] = []

    def send() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        statuses.append(put(conn, "/held", 10))
        conn.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    assert wait_for(lambda: proxy.held() == 2) and upstream.received == []
    proxy.release()
    for t in threads:
        t.join(timeout=10)
    assert statuses == [200, 200] and len(upstream.received) == 2

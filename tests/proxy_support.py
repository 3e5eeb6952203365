"""A loopback TCP proxy between Chromium and the app (the field app's tests, see tests/field_support.py).

The browser only ever talks to the proxy's port, so the page's origin stays the same while the server behind it is
killed and restarted. Controls, from the test's thread:

* :meth:`Proxy.refuse` — offline: every open connection is cut and new ones are closed at once; :meth:`Proxy.allow`.
* :meth:`Proxy.cut_upload` — the ``nth`` request whose head starts with ``match`` is cut after ``after_bytes`` of its
  body went upstream (or, with ``action``, ``action()`` is called at that point instead, e.g. the server's kill -9).
* :meth:`Proxy.hold` — requests matching wait before going upstream until :meth:`Proxy.release` (two devices'
  requests arriving together).
* :attr:`Proxy.requests` — the request lines seen, in order.

The client-to-server side parses requests just enough (head, ``Content-Length``) to count body bytes; a chunked
body or an unparsable head passes through untouched for the rest of that connection.
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_HEAD = 64 * 1024


@dataclass
class Rule:
    match: bytes
    after_bytes: int
    nth: int
    action: Callable[[], None] | None
    offline: bool
    seen: int = 0
    fired: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class Link:
    client: socket.socket
    upstream: socket.socket

    def close(self) -> None:
        for s in (self.client, self.upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


class Proxy:
    """Listens on a free loopback port and forwards each connection to ``127.0.0.1:upstream_port``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.requests: list[bytes] = []
        self.refused_connections = 0
        self._lock = threading.Lock()
        self._links: set[Link] = set()
        self._rules: list[Rule] = []
        self._refusing = False
        self._held: list[bytes] = []
        self._hold_match: bytes | None = None
        self._gate = threading.Event()
        self._gate.set()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="field-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ controls

    def refuse(self) -> None:
        """Offline: cut every open connection; close new ones at once."""
        with self._lock:
            self._refusing = True
            links, self._links = list(self._links), set()
        for link in links:
            link.close()

    def allow(self) -> None:
        with self._lock:
            self._refusing = False

    def cut_upload(self, after_bytes: int, match: bytes = b"PUT /form/api/submissions", *, nth: int = 1,
                   action: Callable[[], None] | None = None, offline: bool = False) -> threading.Event:
        """Arms a one-shot cut of the ``nth`` request (counted from now) whose head starts with ``match``, once
        ``after_bytes`` of its body went upstream: its connection is closed (``offline``: :meth:`refuse` as well),
        or ``action()`` is called instead. Returns an event set when it happened."""
        rule = Rule(match, after_bytes, nth, action, offline)
        with self._lock:
            self._rules.append(rule)
        return rule.fired

    def hold(self, match: bytes) -> None:
        """Requests whose head starts with ``match`` wait before going upstream until :meth:`release`."""
        with self._lock:
            self._hold_match, self._held = match, []
            self._gate.clear()

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def release(self) -> None:
        with self._lock:
            self._hold_match = None
        self._gate.set()

    def count(self, prefix: bytes) -> int:
        with self._lock:
            return sum(1 for line in self.requests if line.startswith(prefix))

    def close(self) -> None:
        self._closed = True
        self.release()
        self.refuse()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (a close alone does not)
        except OSError:
            pass
        self.listener.close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ plumbing

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="field-proxy-link", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            refusing = self._refusing or self._closed
            if refusing:
                self.refused_connections += 1
        if refusing:
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:  # the server is down: the browser sees the connection closed
            client.close()
            return
        upstream.settimeout(None)
        link = Link(client, upstream)
        with self._lock:
            self._links.add(link)
        back = threading.Thread(target=self._pump_back, args=(link,), name="field-proxy-back", daemon=True)
        back.start()
        try:
            _Requests(self, link).pump()
        except OSError:
            pass
        finally:
            self._forget(link)
            back.join(timeout=30)

    def _pump_back(self, link: Link) -> None:
        try:
            while True:
                data = link.upstream.recv(65536)
                if not data:
                    break
                link.client.sendall(data)
        except OSError:
            pass
        finally:
            self._forget(link)

    def _forget(self, link: Link) -> None:
        with self._lock:
            self._links.discard(link)
        link.close()

    def _on_head(self, head: bytes) -> Rule | None:
        """Records a request's head; waits at the gate when held; returns the rule that fires on it, if any."""
        line = head.split(b"\r\n", 1)[0]
        with self._lock:
            self.requests.append(line)
            held = self._hold_match is not None and line.startswith(self._hold_match)
            if held:
                self._held.append(line)
            chosen = None
            for rule in self._rules:
                if line.startswith(rule.match):
                    rule.seen += 1
                    if rule.seen == rule.nth:
                        chosen = rule
                        break
            if chosen is not None:
                self._rules.remove(chosen)
        if held:
            self._gate.wait(timeout=60)
        return chosen

    def _fire(self, rule: Rule, link: Link) -> None:
        if rule.action is not None:
            rule.action()
        else:
            link.close()
            if rule.offline:
                self.refuse()
        rule.fired.set()


class _Requests:
    """The client-to-server side of one connection, request by request."""

    def __init__(self, proxy: Proxy, link: Link) -> None:
        self.proxy, self.link = proxy, link
        self.buf = b""
        self.raw = False  # pass everything through from here on

    def pump(self) -> None:
        while True:
            data = self.link.client.recv(65536)
            if not data:
                return
            self.buf += data
            if not self._drain():
                return

    def _drain(self) -> bool:
        """Forwards what can be forwarded; False when the connection was cut."""
        while self.buf:
            if self.raw:
                self.link.upstream.sendall(self.buf)
                self.buf = b""
                return True
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                self.raw = len(self.buf) > MAX_HEAD
                return True
            head, self.buf = self.buf[:end + 4], self.buf[end + 4:]
            length, chunked = _body_length(head)
            rule = self.proxy._on_head(head)
            self.link.upstream.sendall(head)
            if chunked or length is None:
                self.raw = True
                continue
            if not self._body(length, rule):
                return False
        return True

    def _body(self, length: int, rule: Rule | None) -> bool:
        sent = 0
        while sent < length:
            if not self.buf:
                data = self.link.client.recv(65536)
                if not data:
                    return False
                self.buf = data
            take = self.buf[:length - sent]
            if rule is not None and sent + len(take) >= rule.after_bytes:
                take = take[:max(rule.after_bytes - sent, 0)]
                self.link.upstream.sendall(take)
                self.buf = self.buf[len(take):]
                sent += len(take)
                self.proxy._fire(rule, self.link)
                rule = None
                if self.link.client.fileno() < 0:
                    return False
                continue
            self.link.upstream.sendall(take)
            self.buf = self.buf[len(take):]
            sent += len(take)
        return True


def _body_length(head: bytes) -> tuple[int | None, bool]:
    """(Content-Length or 0 when the request has no body framing, chunked?); None when the head is not HTTP/1."""
    lines = head.split(b"\r\n")
    if b" HTTP/1." not in lines[0]:
        return None, False
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            return None, True
    return length, False

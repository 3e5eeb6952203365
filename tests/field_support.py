"""Infrastructure of the field app's end-to-end tests (issue 16): a killable server, a loopback proxy, a Chromium
with a persistent profile, photo files.

* :class:`ServerProcess` — the whole app (uvicorn) in a SUBPROCESS on a fixed loopback port over the test's
  database and data dir; :meth:`~ServerProcess.kill` sends SIGKILL, :meth:`~ServerProcess.start` serves again on
  the same port.
* :class:`Proxy` (tests/proxy_support.py) — the only port the browser talks to, so the page's origin
  (scheme + host + port) survives server restarts; it refuses connections (offline), cuts an upload after N body bytes,
  holds requests to release them together.
* :class:`FieldBrowser` — headless Chromium (the console tests' flags) with its own ``--user-data-dir``: quit and
  relaunched on the same profile (IndexedDB, the service worker and its caches, the cookie stay); CDP offline
  emulation; ``window.kiemtraField`` helpers (``ready``, ``syncNow()``, ``state()``).
* :func:`photo_files` — JPEG/PNG files of distinct content made with Pillow.
"""
from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.settings import Settings
from tests.console_support import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, at_width
from tests.proxy_support import Proxy

ROOT = Path(__file__).resolve().parents[1]
SERVE = """
import sys
import uvicorn
from services.entry.http.app import create_app
from services.entry.http.server import bind_socket
from services.settings import Settings

sock = bind_socket("127.0.0.1", int(sys.argv[1]))
uvicorn.Server(uvicorn.Config(create_app(Settings()), log_level="warning", access_log=False,
                              lifespan="off")).run(sockets=[sock])
"""
__all__ = ["FieldBrowser", "Proxy", "ServerProcess", "free_port", "photo_files", "wait_until"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], *, timeout: float = 30, every: float = 0.1, what: str = "") -> Any:
    """Calls ``check`` until it returns something true (returned); fails the test after ``timeout`` seconds."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}: last {last!r}")


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class ServerProcess:
    """The app served by uvicorn in a child process on ``port`` (fixed: a restart serves the same port)."""

    def __init__(self, settings: Settings, port: int | None = None, log: Path | None = None) -> None:
        self.settings, self.port = settings, port or free_port()
        self.log = log or settings.data_dir.parent / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIEMTRA_")}
        env.update(KIEMTRA_ENVIRONMENT="test", KIEMTRA_DATA_DIR=str(self.settings.data_dir))
        if self.settings.database_url:
            env["KIEMTRA_DATABASE_URL"] = self.settings.database_url
        if self.settings.evidence_dir is not None:
            env["KIEMTRA_EVIDENCE_DIR"] = str(self.settings.evidence_dir)
        return env

    def start(self, timeout: float = 30) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the server is already running"
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts} on port {self.port}\n".encode())
            log.flush()
            self.proc = subprocess.Popen([sys.executable, "-c", SERVE, str(self.port)], cwd=ROOT,
                                         env=self.environment(), stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._healthy, timeout=timeout, every=0.05, what=f"the server on port {self.port}")

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/api/health")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def kill(self) -> None:
        """kill -9: no shutdown, requests in flight die with it."""
        assert self.proc is not None and self.proc.poll() is None, "the server is not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# --------------------------------------------------------------------------- Chromium

READY = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + arguments[0];
(function wait() {
  if (window.kiemtraField && window.kiemtraField.ready) {
    window.kiemtraField.ready.then(() => done({ok: true}), e => done({ok: false, error: String(e && e.stack || e)}));
  } else if (Date.now() > deadline) {
    done({ok: false, error: 'window.kiemtraField never appeared'});
  } else { setTimeout(wait, 50); }
})();
"""
CALL = """
const done = arguments[arguments.length - 1];
Promise.resolve().then(() => window.kiemtraField[arguments[0]]())
  .then(v => done({ok: true, value: v === undefined ? null : JSON.parse(JSON.stringify(v))}),
        e => done({ok: false, error: String(e && e.stack || e)}));
"""


class FieldBrowser:
    """One device: a headless Chromium on its own persistent profile (``profile``), phone-sized."""

    def __init__(self, profile: Path, *, width: int = 360) -> None:
        self.profile, self.width = profile, width
        self.driver: Any = None
        self.offline = False

    def launch(self) -> Any:
        """Starts Chromium on the profile (kept from a previous launch); returns the WebDriver."""
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        assert self.driver is None, "already running"
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--window-size=412,900"]:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        self.driver.set_script_timeout(90)
        at_width(self.driver, self.width)
        self.driver.execute_cdp_cmd("Network.enable", {})
        if self.offline:
            self.set_offline(True)
        return self.driver

    def quit(self) -> None:
        """Closes the browser process (the profile stays on disk)."""
        if self.driver is not None:
            self.driver.quit()
            self.driver = None

    def crash(self) -> None:
        """kill -9 of the browser process (chromedriver's child) as a phone's OS would do it; chromedriver stopped."""
        driver_pid = self.driver.service.process.pid
        children = children_of(driver_pid)
        assert children, "no browser process under chromedriver"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        self.driver.service.stop()
        self.driver = None

    def relaunch(self) -> Any:
        self.quit()
        return self.launch()

    def set_offline(self, offline: bool) -> None:
        """The page's network, as DevTools' "Offline" (``navigator.onLine`` and the online/offline events)."""
        self.offline = offline
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 30) -> None:
        answer = self.driver.execute_async_script(READY, int(timeout_s * 1000))
        assert answer["ok"], f"kiemtraField.ready failed on {self.driver.current_url}: {answer['error']}"

    def call(self, name: str) -> Any:
        """``await window.kiemtraField[name]()`` (``syncNow``, ``state``): its value, JSON-copied."""
        answer = self.driver.execute_async_script(CALL, name)
        assert answer["ok"], f"kiemtraField.{name}() failed: {answer['error']}"
        return answer["value"]

    def sync_now(self) -> Any:
        return self.call("syncNow")

    def state(self) -> Any:
        return self.call("state")

    def script(self, source: str, *args: Any) -> Any:
        """An async script: ``source`` is a function body given ``args`` that returns a value or a promise."""
        wrapped = ("const done = arguments[arguments.length - 1]; const args = Array.from(arguments).slice(0, -1);"
                   f"Promise.resolve().then(async () => {{ {source} }})"
                   ".then(v => done({ok: true, value: v === undefined ? null : v}),"
                   " e => done({ok: false, error: String(e && e.stack || e)}));")
        answer = self.driver.execute_async_script(wrapped, *args)
        assert answer["ok"], f"script failed: {answer['error']}"
        return answer["value"]


# --------------------------------------------------------------------------- photos


def photo_files(folder: Path, count: int, *, size: tuple[int, int] = (900, 675), seed: int = 16) -> list[Path]:
    """``count`` photos of distinct content (noise over a colour: JPEG barely shrinks it, so an upload is a few
    hundred kB), alternately JPEG and PNG."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    out = []
    for i in range(count):
        noise = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
        tint = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        image = Image.blend(noise, tint, 0.5)
        path = folder / (f"anh-{i + 1}.jpg" if i % 2 == 0 else f"anh-{i + 1}.png")
        image.save(path, quality=92) if path.suffix == ".jpg" else image.save(path)
        out.append(path)
    return out

"""The signed portal webhook (v2) against the demo's stand-in of the portal, a real local HTTP server: what a
sender that is not ours, or a copy of one of our requests, can no longer get stored — an old message, an exact
replay, a replay under a new Idempotency-Key, another path or method, an unknown key — and what must still work:
a key rotation and a retry hours after a failure."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pydantic
import pytest

from models import PortalStatus
from models.base import utcnow
from services.delivery import portal
from services.stages import portal_delivery
from services.clients.outbox import Outbox, SeenSignatures, start_outbox
from services.clients.portal import PortalClient, PortalRejected
from services.errors import KiemtraError
from services.portal_signature import signature_headers, verify
from services.errors import SignatureRefused
from services.settings import Settings
from services.stages import publishing
from services.stages.common import Outcome
from tests.integration.test_portal import messages, sanctioned

SECRET = b"portal-signature-test-secret"
DAY = 86_400


class Clock:
    """The time on both sides; moved by the test."""

    def __init__(self) -> None:
        self.now = float(int(utcnow().timestamp()))

    def __call__(self) -> float:
        return self.now


class Wire(httpx.HTTPTransport):
    """The network between sender and portal: keeps every request it carries; the first ``down`` never arrive."""

    def __init__(self, down: int = 0) -> None:
        super().__init__()
        self.down = down
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append(request)
        if self.down:
            self.down -= 1
            raise httpx.ConnectError("the portal is down", request=request)
        return super().handle_request(request)


@contextmanager
def stand_in(folder: Path, keys: Mapping[str, bytes], clock: Clock | None = None) -> Iterator[Outbox]:
    outbox = start_outbox(folder, portal_keys=keys, **({"clock": clock} if clock else {}))
    try:
        yield outbox
    finally:
        outbox.stop()


@contextmanager
def sender(url: str, *, key_id: str = "k1", secret: bytes = SECRET, clock: Clock | None = None,
           wire: Wire | None = None) -> Iterator[PortalClient]:
    with httpx.Client(base_url=url, timeout=5, transport=wire or Wire()) as http:
        yield PortalClient(http, secret, key_id=key_id, **({"clock": clock} if clock else {}))


def resend(url: str, request: httpx.Request, *, path: str | None = None, **headers: str) -> httpx.Response:
    """Send a copy of a request the sender made (an eavesdropper's replay), with a header or the path changed."""
    copied = httpx.Headers({k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")})
    copied.update({k.replace("_", "-"): v for k, v in headers.items()})
    return httpx.post(url + (path or request.url.raw_path.decode()), content=request.content, headers=copied)


OUTCOME = {"so_quyet_dinh": "01/QĐ-XPHC", "ten_co_so": "Công ty TNHH Ví dụ"}


def test_the_signature_covers_method_path_key_time_and_body_as_documented() -> None:
    """The contract's test vector (docs/operations.md): a receiver written from the documentation verifies it."""
    body = b'{"event": "publish"}'
    documented = f"v2\nPOST\n/webhooks/kiemtra/outcomes\noutcome:12:1:publish\n1796438400\n{hashlib.sha256(body).hexdigest()}"
    expected = "v2=" + hmac.new(b"k1-secret", documented.encode(), hashlib.sha256).hexdigest()
    headers = signature_headers("k1", b"k1-secret", method="POST", path="/webhooks/kiemtra/outcomes",
                                idempotency_key="outcome:12:1:publish", timestamp=1796438400, body=body)
    assert headers == {"X-Kiemtra-Key-Id": "k1", "X-Kiemtra-Timestamp": "1796438400", "X-Kiemtra-Signature": expected}
    as_sent = dict(method="POST", path="/webhooks/kiemtra/outcomes", idempotency_key="outcome:12:1:publish",
                   key_id="k1", timestamp="1796438400", signature=expected, body=body)
    assert verify({"k1": b"k1-secret"}, **as_sent, now=1796438400 + 300).key_id == "k1"  # type: ignore[arg-type]
    for field, other in [("method", "PUT"), ("path", "/webhooks/kiemtra/outcomes?x=1"), ("idempotency_key", "outcome:12:2:publish"),
                         ("timestamp", "1796438401"), ("body", b'{"event": "withdraw"}')]:
        with pytest.raises(SignatureRefused) as refused:
            verify({"k1": b"k1-secret"}, **{**as_sent, field: other}, now=1796438400)  # type: ignore[arg-type]
        assert refused.value.code == "bad_signature", field
    with pytest.raises(SignatureRefused, match="lệch 301 giây") as stale:
        verify({"k1": b"k1-secret"}, **as_sent, now=1796438400 - 301)  # type: ignore[arg-type]
    assert stale.value.code == "stale"


def test_a_30_day_old_message_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    clock, old = Clock(), Clock()
    old.now -= 30 * DAY
    with stand_in(tmp_path, {"k1": SECRET}, clock) as outbox:
        with sender(outbox.url, clock=old) as client, pytest.raises(PortalRejected, match="HTTP 401") as refused:
            client.send("outcome:1:1:publish", "publish", OUTCOME)
        assert "stale" in refused.value.message and "cho phép ±300 giây" in refused.value.message
        assert outbox.outcomes() == []
        old.now = clock.now - 299  # inside the window: taken
        with sender(outbox.url, clock=old) as client:
            assert not client.send("outcome:1:1:publish", "publish", OUTCOME).duplicate
        assert [m["idempotency_key"] for m in outbox.outcomes()] == ["outcome:1:1:publish"]


def test_an_exact_replay_is_refused_even_after_a_restart_until_the_window_has_passed(tmp_path: Path) -> None:
    clock, wire = Clock(), Wire()
    with stand_in(tmp_path, {"k1": SECRET}, clock) as outbox, sender(outbox.url, clock=clock, wire=wire) as client:
        receipt = client.send("outcome:1:1:publish", "publish", OUTCOME)
        [original] = wire.sent
        replay = resend(outbox.url, original)
        assert replay.status_code == 409 and replay.json()["error"] == "replay"
        assert replay.json()["id"] == receipt.ref  # "already received": the honest sender's lost answer ends here too
    clock.now += 10
    with stand_in(tmp_path, {"k1": SECRET}, clock) as outbox:  # the stand-in restarted: it still remembers
        assert resend(outbox.url, original).json()["error"] == "replay"
        with sender(outbox.url, clock=clock) as client:  # the sender's own retry is signed anew: a duplicate, not a replay
            assert client.send("outcome:1:1:publish", "publish", OUTCOME).duplicate
        clock.now += 301
        late = resend(outbox.url, original)
        assert late.status_code == 401 and late.json()["error"] == "stale"
        assert SeenSignatures(tmp_path / "portal" / "seen-signatures.sqlite3").count() == 2  # the original and the retry
        with sender(outbox.url, clock=clock) as client:
            client.send("outcome:2:1:publish", "publish", OUTCOME)
        assert len(outbox.outcomes()) == 2
    assert SeenSignatures(tmp_path / "portal" / "seen-signatures.sqlite3").count() == 1  # those past the window pruned


def test_a_replay_under_a_new_idempotency_key_is_refused(tmp_path: Path) -> None:
    """The case of the issue: the same body and timestamp sent again with a fresh key was stored a second time."""
    clock, wire = Clock(), Wire()
    with stand_in(tmp_path, {"k1": SECRET}, clock) as outbox, sender(outbox.url, clock=clock, wire=wire) as client:
        client.send("outcome:1:1:publish", "publish", OUTCOME)
        answer = resend(outbox.url, wire.sent[0], Idempotency_Key="outcome:1:1:publish-again")
        assert answer.status_code == 401 and answer.json()["error"] == "bad_signature"
        assert [m["idempotency_key"] for m in outbox.outcomes()] == ["outcome:1:1:publish"]


def test_a_signature_made_for_another_path_or_method_is_refused(tmp_path: Path) -> None:
    clock, wire = Clock(), Wire()
    with stand_in(tmp_path, {"k1": SECRET}, clock) as outbox, sender(outbox.url, clock=clock, wire=wire) as client:
        client.send("outcome:1:1:publish", "publish", OUTCOME)
        moved = resend(outbox.url, wire.sent[0], path="/outcomes?again=1")
        assert moved.status_code == 401 and moved.json()["error"] == "bad_signature"
        body = json.dumps({"event": "withdraw", "outcome": OUTCOME}).encode()
        for_delete = signature_headers("k1", SECRET, method="DELETE", path="/outcomes", idempotency_key="outcome:1:2:withdraw",
                                       timestamp=int(clock()), body=body)
        posted = httpx.post(outbox.url + "/outcomes", content=body, headers={"Idempotency-Key": "outcome:1:2:withdraw", **for_delete})
        assert posted.status_code == 401 and posted.json()["error"] == "bad_signature"
        assert len(outbox.outcomes()) == 1


def test_the_sender_signs_the_full_path_of_the_portal_url() -> None:
    """A portal URL with a path of its own (…/webhooks/kiemtra): the path signed is the one on the request line."""
    seen: list[str] = []

    def portal_side(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        seen.append(path)
        verify({"k1": SECRET}, method=request.method, path=path, idempotency_key=request.headers["Idempotency-Key"],
               key_id=request.headers["X-Kiemtra-Key-Id"], timestamp=request.headers["X-Kiemtra-Timestamp"],
               signature=request.headers["X-Kiemtra-Signature"], body=request.read(), now=utcnow().timestamp())
        return httpx.Response(202, json={"id": "P-1"})

    with httpx.Client(base_url="https://portal.example.gov.vn/webhooks/kiemtra",
                      transport=httpx.MockTransport(portal_side)) as http:
        assert PortalClient(http, SECRET).send("outcome:1:1:publish", "publish", OUTCOME).ref == "P-1"
    assert seen == ["/webhooks/kiemtra/outcomes"]


def test_an_unknown_key_id_an_unsigned_or_a_huge_request_is_refused_before_the_body_is_read(tmp_path: Path) -> None:
    with stand_in(tmp_path, {"k1": SECRET}) as outbox:
        with sender(outbox.url, key_id="k9") as client, pytest.raises(PortalRejected, match="HTTP 401") as refused:
            client.send("outcome:1:1:publish", "publish", OUTCOME)
        assert "unknown_key" in refused.value.message and "k9" in refused.value.message
        unsigned = httpx.post(outbox.url + "/outcomes", content=b"[[[not json", headers={"Idempotency-Key": "x"})
        assert unsigned.status_code == 401 and unsigned.json()["error"] == "missing"
        huge = httpx.post(outbox.url + "/outcomes", content=b"[" * (2 << 20), headers={"Idempotency-Key": "x"})
        assert huge.status_code == 413  # not even read
        assert outbox.outcomes() == []


def test_keys_rotate_from_k1_to_k2_and_a_removed_key_is_refused(settings: Settings, tmp_path: Path) -> None:
    """The portal holds {k1, k2} while the workers switch; then k1 goes. Settings on both sides, as the demo wires them."""
    ids = sanctioned(settings, 3, publish=False)
    portal_side = Settings(environment="test", data_dir=tmp_path, portal_accepted_keys='{"k1": "secret-one", "k2": "secret-two"}')
    folder = tmp_path / "outbox"

    def workers(url: str, key_id: str, secret: str) -> Settings:
        return Settings(**{**settings.model_dump(), "portal_url": url, "portal_key_id": key_id, "portal_secret": secret})

    with stand_in(folder, portal_side.portal_receiver_keys) as outbox:
        assert publishing.publish_for_inspection(settings, ids[0]) == Outcome.PUBLISHED
        assert portal_delivery.deliver(workers(outbox.url, "k1", "secret-one")).done == 1
        assert publishing.publish_for_inspection(settings, ids[1]) == Outcome.PUBLISHED
        assert portal_delivery.deliver(workers(outbox.url, "k2", "secret-two")).done == 1
    portal_side = Settings(environment="test", data_dir=tmp_path, portal_accepted_keys="k2:secret-two")
    with stand_in(folder, portal_side.portal_receiver_keys) as outbox:
        assert publishing.publish_for_inspection(settings, ids[2]) == Outcome.PUBLISHED
        assert portal_delivery.deliver(workers(outbox.url, "k1", "secret-one")).details["dead"] == 1  # a worker left behind
        [dead] = portal.dead_messages(settings)
        assert "unknown_key" in dead["last_error"]
        portal.retry_dead(settings, dead["id"], actor="SNV-LEAD", reason="Đổi khóa ký")
        assert portal_delivery.deliver(workers(outbox.url, "k2", "secret-two")).done == 1
        assert len(outbox.outcomes()) == 3
    assert [m.status for m in messages(settings)] == [PortalStatus.DELIVERED] * 3


def test_a_retry_hours_after_a_failure_is_signed_again_and_accepted(settings: Settings, tmp_path: Path) -> None:
    sanctioned(settings, 1)
    clock, wire = Clock(), Wire(down=1)
    start = utcnow()
    with stand_in(tmp_path / "outbox", {"k1": SECRET}, clock) as outbox, \
            sender(outbox.url, clock=clock, wire=wire) as client:
        assert portal.deliver_pending(settings, client, now=start).retrying == 1  # the portal is down
        clock.now += 2 * 3600
        assert portal.deliver_pending(settings, client, now=start + timedelta(hours=2)).delivered == 1
        first, second = wire.sent
        assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
        assert int(second.headers["X-Kiemtra-Timestamp"]) - int(first.headers["X-Kiemtra-Timestamp"]) == 2 * 3600
        stored_signature = resend(outbox.url, first)  # what re-sending the first attempt's signature would get
        assert stored_signature.status_code == 401 and stored_signature.json()["error"] == "stale"
        assert len(outbox.outcomes()) == 1
    [m] = messages(settings)
    assert (m.status, m.attempts) == (PortalStatus.DELIVERED, 2)


def test_the_stand_in_refuses_to_start_without_a_usable_key_and_never_shows_one(tmp_path: Path) -> None:
    for keys in ({"k1": b""}, {"k1": b"  "}, {}, {"k1": SECRET, "k2": b""}):
        with pytest.raises(KiemtraError, match="không khóa nào rỗng"):
            start_outbox(tmp_path, portal_keys=keys)
    for setting, named in [("k1:topsecret-1,k2:", "mục thứ 2 có khóa rỗng"), ("topsecret-1", "mục thứ 1 có khóa rỗng"),
                           (":topsecret-1", "mục thứ 1 không có dạng mã:khóa"), ('{"k1": ""}', "mục thứ 1 có khóa rỗng"),
                           ("k1:topsecret-1,k1:topsecret-2", "mục thứ 2 lặp lại"), ("{not json topsecret-1", "không phải JSON")]:
        with pytest.raises(pydantic.ValidationError, match=named) as refused:
            Settings(data_dir=tmp_path, portal_accepted_keys=setting)
        assert "topsecret" not in str(refused.value)
    with pytest.raises(pydantic.ValidationError, match="KIEMTRA_PORTAL_KEY_ID") as refused:
        Settings(data_dir=tmp_path, portal_secret="topsecret-1", portal_key_id="k 1")
    assert "topsecret" not in str(refused.value)
    assert Settings(data_dir=tmp_path, portal_secret="topsecret-1", portal_key_id="k2").portal_receiver_keys == {"k2": b"topsecret-1"}

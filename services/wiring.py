"""The composition root: the one place that builds the outside clients from settings.

A :class:`Wiring` holds the settings and, for tests, a fake transport per outside system; it opens each client (a
small class around an injected ``httpx.Client``, :mod:`services.clients`) for as long as the caller needs it:

- ``gateway()``: the notification gateway (:class:`~services.clients.gateway.GatewayClient`), for the notify stage;
- ``portal()``: the province portal (:class:`~services.clients.portal.PortalClient`, signed with the portal secret);
- ``national_feed()``: the national violations database (:class:`~services.clients.national_feed.NationalFeedClient`);
- ``registry_api()``: the business registry's API (:class:`~services.clients.registry_api.RegistryApiClient`);
- ``intake_http(url)``: the ``httpx.Client`` the demo's simulated users give to
  :class:`~services.demo.intake_client.IntakeClient` (the simulated devices, one per person's token).

Who builds one: the CLI and the demo (:func:`for_settings` with the settings they were started with), the HTTP app
through its settings, and the flows through :func:`current` (a flow's parameters are plain values, so a flow reads
the wiring installed for its process, or builds it from the environment). Tests pass fakes through here —
``Wiring(settings, transports={"gateway": httpx.MockTransport(...)})``, installed with :func:`use` around a flow —
never by patching our own modules.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from services.clients.gateway import GatewayClient, make_gateway_http_client
from services.clients.national_feed import NationalFeedClient, make_national_feed_http_client
from services.clients.portal import PortalClient, make_portal_http_client
from services.clients.registry_api import RegistryApiClient, make_http_client as make_registry_http_client
from services.errors import KiemtraError
from services.settings import Settings, get_settings

SYSTEMS = ("gateway", "registry_api", "national_feed")  # the outside systems whose transport a test may replace


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    transports: Mapping[str, httpx.BaseTransport] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.transports) - set(SYSTEMS)
        if unknown:
            raise ValueError(f"no outside system named {sorted(unknown)} (known: {SYSTEMS})")

    @contextmanager
    def gateway(self) -> Iterator[GatewayClient]:
        with make_gateway_http_client(self.settings, transport=self.transports.get("gateway")) as http:
            yield GatewayClient(http)

    @contextmanager
    def portal(self) -> Iterator[PortalClient]:
        if self.settings.portal_secret is None:
            raise KiemtraError("Chưa cấu hình KIEMTRA_PORTAL_SECRET.")
        with make_portal_http_client(self.settings) as http:
            yield PortalClient(http, self.settings.portal_secret.get_secret_value().encode(),
                               key_id=self.settings.portal_key_id)

    @contextmanager
    def national_feed(self) -> Iterator[NationalFeedClient]:
        """The national database feed's HTTP transport (services/clients/national_feed.py), signed with its secret."""
        if self.settings.national_feed_secret is None:
            raise KiemtraError("Chưa cấu hình KIEMTRA_NATIONAL_FEED_SECRET.")
        with make_national_feed_http_client(self.settings, transport=self.transports.get("national_feed")) as http:
            yield NationalFeedClient(http, self.settings.national_feed_secret.get_secret_value().encode(),
                                     key_id=self.settings.national_feed_key_id)

    @contextmanager
    def registry_api(self) -> Iterator[RegistryApiClient]:
        if not self.settings.registry_api_url:
            raise KiemtraError("Chưa cấu hình KIEMTRA_REGISTRY_API_URL.")
        with make_registry_http_client(self.settings.registry_api_url, timeout_s=self.settings.registry_api_timeout_s,
                                       transport=self.transports.get("registry_api")) as http:
            yield RegistryApiClient(http)

    def intake_http(self, base_url: str, *, timeout_s: float = 30) -> httpx.Client:
        return httpx.Client(base_url=base_url, timeout=timeout_s)


def for_settings(settings: Settings) -> Wiring:
    return Wiring(settings)


_installed: list[Wiring] = []


def current() -> Wiring:
    """The wiring installed for this process by :func:`use` (the demo, a test), else one built from the environment."""
    return _installed[-1] if _installed else Wiring(get_settings())


@contextmanager
def use(wiring: Wiring) -> Iterator[Wiring]:
    """Install ``wiring`` for the flows run in this process (in any thread) until the block ends."""
    _installed.append(wiring)
    try:
        yield wiring
    finally:
        _installed.remove(wiring)

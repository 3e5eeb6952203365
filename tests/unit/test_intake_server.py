"""The socket the intake API is served on: asyncio must turn Nagle's algorithm off on its connections."""
from __future__ import annotations

import asyncio
import socket

from services.entry.http.server import bind_socket


def nodelay_of_accepted(listening: socket.socket) -> int:
    """TCP_NODELAY on a connection accepted through loop.create_server(sock=...), as uvicorn serves it."""
    async def probe() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                seen.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        try:
            _reader, writer = await asyncio.open_connection(*listening.getsockname()[:2])
            value = await asyncio.wait_for(seen, 5)
            writer.close()
            return value
        finally:
            server.close()

    return asyncio.run(probe())


def test_connections_accepted_on_the_served_socket_have_nagle_off() -> None:
    assert nodelay_of_accepted(bind_socket("127.0.0.1", 0)) != 0


def test_a_socket_made_without_the_tcp_protocol_number_would_keep_nagle_on() -> None:
    """The control: how the server used to bind (every response waited 44 ms for a delayed ACK)."""
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain.bind(("127.0.0.1", 0))
    assert nodelay_of_accepted(plain) == 0


def test_settings_refuse_an_empty_portal_secret_and_the_public_demo_secret_in_production(tmp_path) -> None:
    import pydantic
    import pytest

    from services.settings import Settings

    with pytest.raises(pydantic.ValidationError, match="KIEMTRA_PORTAL_SECRET rỗng"):
        Settings(data_dir=tmp_path, portal_secret="  ")
    with pytest.raises(pydantic.ValidationError, match="không dùng được khi environment=production"):
        Settings(data_dir=tmp_path, environment="production")
    assert Settings(data_dir=tmp_path, environment="production", demo_token_secret="s3cr3t-from-the-vault").environment

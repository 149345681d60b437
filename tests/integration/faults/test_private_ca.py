"""Partners' test systems often use a private CA: OCPI_LEDGER_CA_BUNDLE makes the node trust it
for outbound TLS (forwarding and registration), on top of the public CAs."""

from __future__ import annotations

import asyncio
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from application.delivery import Delivered, Delivery, DeliveryFailed, Target
from domain.status_codes import HubError
from domain.values import PartyRef
from infrastructure.forwarder import HttpDeliverer
from infrastructure.settings import SettingsError, load_settings


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status_code":1000}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def private_ca_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    authority = trustme.CA()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bundle = tmp_path / "partner-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/ocpi/x", bundle
    finally:
        server.shutdown()
        server.server_close()


def deliver(url: str, ca_bundle: str | None) -> object:
    deliverer = HttpDeliverer(timeout=5, ca_bundle=ca_bundle)
    target = Target(PartyRef("NL", "CPA"), "c1", "direct", url)

    async def run() -> object:
        try:
            return await deliverer.deliver(Delivery(target, "GET", url, {}))
        finally:
            await deliverer.aclose()

    return asyncio.run(run())


def test_a_receiver_with_a_private_ca_is_reached_once_its_bundle_is_configured(
    private_ca_server: tuple[str, Path],
) -> None:
    url, bundle = private_ca_server
    refused = deliver(url, None)
    trusted = deliver(url, str(bundle))

    assert isinstance(refused, DeliveryFailed)
    assert refused.status_code is HubError.CONNECTION_PROBLEM
    assert isinstance(trusted, Delivered) and trusted.http_status == 200


def test_a_ca_bundle_that_is_not_pem_stops_the_node_naming_the_setting(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(SettingsError, match="OCPI_LEDGER_CA_BUNDLE: cannot load"):
        load_settings({"OCPI_LEDGER_CA_BUNDLE": str(garbage)})

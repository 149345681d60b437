"""Which paths the raw ASGI front takes as routed endpoints (the rest goes on to FastAPI), and
the rest of the path exactly as it came on the wire."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from api.routed_front import ROUTED_VERSIONS, RoutedPath, RoutedVersion, parse_routed_path
from domain.values import CustomModuleId, InterfaceRole, ModuleId


def parse(raw: str, versions: dict[str, RoutedVersion] = ROUTED_VERSIONS) -> RoutedPath | None:
    """As uvicorn fills the scope: `path` decoded, `raw_path` as sent."""
    return parse_routed_path(unquote(raw), raw.encode("latin-1"), versions)


def test_an_ocpi_module_endpoint_is_routed_with_its_rest_as_sent() -> None:
    routed = parse("/ocpi/2.2.1/locations/receiver/NL/CPA/L%2F1")
    assert routed == RoutedPath(
        "2.2.1", ModuleId.LOCATIONS, InterfaceRole.RECEIVER, "/NL/CPA/L%2F1"
    )


def test_the_endpoint_itself_and_a_rest_joined_without_a_slash_are_routed() -> None:
    assert parse("/ocpi/2.2.1/tokens/sender") == RoutedPath(
        "2.2.1", ModuleId.TOKENS, InterfaceRole.SENDER, ""
    )
    routed = parse("/ocpi/2.2.1/tokens/receiverNL/EMA/1")
    assert routed is not None and routed.rest == "NL/EMA/1"


def test_a_custom_module_is_routed_when_its_interface_is_a_whole_segment() -> None:
    routed = parse("/ocpi/2.2.1/x-reservations/sender/R1")
    assert routed == RoutedPath(
        "2.2.1", CustomModuleId("x-reservations"), InterfaceRole.SENDER, "/R1"
    )
    assert parse("/ocpi/2.2.1/x-reservations/senderR1") is None


@pytest.mark.parametrize(
    "path",
    [
        "/ocpi/2.2.1/credentials",
        "/ocpi/2.2.1/credentials/sender",
        "/ocpi/2.2.1/hubclientinfo/NL/CPA",
        "/ocpi/2.2.1/versions/sender",
        "/ocpi/2.2.1/tokens/elsewhere",
        "/ocpi/2.2.1/X-Upper/sender",
        "/ocpi/2.2.1/tokens",
        "/ocpi/versions",
        "/ocpi/2.0/tokens/receiver/NL/EMA/1",  # a version the node does not route
        "/ocpi/2.1.1/chargingprofiles/receiver/S1",  # a module 2.1.1 lacks
        "/ocpi/2.1.1/x-reservations/sender/R1",  # custom modules: 2.2.1 only
        "/admin/messages",
        "/ocpi/2.2.1/tokens/receiver/%0A",
    ],
)
def test_what_is_no_routed_endpoint_goes_on_to_fastapi(path: str) -> None:
    assert parse(path) is None


def test_an_encoded_module_name_is_read_decoded() -> None:
    routed = parse("/ocpi/2.2.1/tok%65ns/receiver/NL/EMA/1")
    assert routed is not None and routed.module is ModuleId.TOKENS
    assert routed.rest == "/NL/EMA/1"


def test_another_version_is_routed_once_the_mapping_names_it() -> None:
    versions = {**ROUTED_VERSIONS, "9.9": ROUTED_VERSIONS["2.2.1"]}
    routed = parse("/ocpi/9.9/tokens/receiver/NL/EMA/1", versions)
    assert routed == RoutedPath("9.9", ModuleId.TOKENS, InterfaceRole.RECEIVER, "/NL/EMA/1")


def test_each_version_routes_the_modules_it_has_and_230_its_payments() -> None:
    assert parse("/ocpi/2.1.1/tokens/receiver/NL/EMA/1") == RoutedPath(
        "2.1.1", ModuleId.TOKENS, InterfaceRole.RECEIVER, "/NL/EMA/1"
    )
    assert parse("/ocpi/2.3.0/chargingprofiles/receiver/S1") == RoutedPath(
        "2.3.0", ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER, "/S1"
    )
    assert parse("/ocpi/2.3.0/payments/sender/P1") == RoutedPath(
        "2.3.0", CustomModuleId("payments"), InterfaceRole.SENDER, "/P1"
    )

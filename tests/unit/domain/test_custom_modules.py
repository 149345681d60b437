"""Custom module ids: which ids are accepted, how their requests parse and are classified."""

from __future__ import annotations

import pytest

from domain.errors import InvalidOperationError
from domain.operations import OperationKind, parse_operation
from domain.routing import RouteClassKind, classify
from domain.values import CustomModuleId, InterfaceRole, ModuleId, PartyKey, PartyRef, Role
from domain.values import parse_module_id as parse

EMSP = PartyKey("NL", "EM1", Role.EMSP)
CPO = PartyRef("DE", "CP1")
HUB = PartyRef("NL", "HUB")


@pytest.mark.parametrize(
    "text", ["x-evroaming-reservations", "energymix", "a", "my_module-2", "9" * 64]
)
def test_a_lower_case_identifier_outside_ocpi_is_a_custom_module(text: str) -> None:
    module = parse(text)
    assert isinstance(module, CustomModuleId) and module == text and str(module) == text


def test_an_ocpi_module_id_stays_the_ocpi_module() -> None:
    assert parse("locations") is ModuleId.LOCATIONS
    assert parse("credentials") is ModuleId.CREDENTIALS


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "neither an OCPI module"),
        ("X-Upper", "neither an OCPI module"),
        ("has space", "neither an OCPI module"),
        ("dots.not.allowed", "neither an OCPI module"),
        ("a" * 65, "at most 64"),
        ("über", "neither an OCPI module"),
    ],
)
def test_an_invalid_custom_module_id_is_refused_with_the_rule(text: str, why: str) -> None:
    with pytest.raises(InvalidOperationError, match=why):
        parse(text)


@pytest.mark.parametrize("text", ["locations", "hubclientinfo", "versions"])
def test_an_ocpi_module_name_can_never_be_a_custom_module(text: str) -> None:
    with pytest.raises(InvalidOperationError, match="OCPI module"):
        CustomModuleId(text)


def test_a_custom_request_is_opaque_any_path_and_query_no_ids() -> None:
    operation = parse_operation(
        "x-evroaming-reservations",
        InterfaceRole.RECEIVER,
        "put",
        "/NL/EM1/res%201//deep/",
        "a=1&a=2",
    )
    assert operation.kind is OperationKind.CUSTOM and operation.is_custom
    assert operation.module == "x-evroaming-reservations" and operation.method == "PUT"
    assert operation.owner is None and not operation.is_functional


def test_a_custom_request_still_needs_an_ocpi_method_and_a_path_starting_with_a_slash() -> None:
    with pytest.raises(InvalidOperationError, match="not used by OCPI"):
        parse_operation("energymix", InterfaceRole.SENDER, "TRACE", "", "")
    with pytest.raises(InvalidOperationError, match="must start with '/'"):
        parse_operation("energymix", InterfaceRole.SENDER, "GET", "x", "")


def _classify(to: PartyRef | None, hub: PartyRef | None = None) -> object:
    operation = parse_operation("energymix", InterfaceRole.RECEIVER, "POST", "", "")
    return classify(operation, EMSP.ref, to, hub, [EMSP])


def test_a_custom_request_addressed_to_a_party_is_direct() -> None:
    route_class = _classify(CPO)
    assert route_class.kind is RouteClassKind.DIRECT and route_class.to_party == CPO  # type: ignore[attr-defined]


def test_a_custom_request_without_ocpi_to_is_never_open_routed() -> None:
    refusal = _classify(None).refusal  # type: ignore[attr-defined]
    assert refusal.status_code == 2001
    assert "needs OCPI-to" in refusal.message and "never open-routed" in refusal.message


def test_a_custom_request_addressed_to_the_hub_is_never_broadcast() -> None:
    refusal = _classify(HUB, hub=HUB).refusal  # type: ignore[attr-defined]
    assert refusal.status_code == 2001 and "never broadcast" in refusal.message


@pytest.mark.parametrize("path", ["/a/../../credentials", "/%2e%2e", "/a%2Fb", "/a%5Cb", "/a%00"])
def test_a_custom_path_may_hold_anything_but_what_leaves_the_endpoint(path: str) -> None:
    with pytest.raises(InvalidOperationError, match="path segment"):
        parse_operation("x-evroaming-reservations", InterfaceRole.RECEIVER, "GET", path, "")


def test_a_custom_path_is_forwarded_re_encoded_with_its_empty_segments() -> None:
    operation = parse_operation(
        "x-evroaming-reservations", InterfaceRole.RECEIVER, "GET", "/NL/EM1/res%201//deep/", ""
    )
    assert operation.path == "/NL/EM1/res%201//deep/"

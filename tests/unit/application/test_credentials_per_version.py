"""Credentials in the shape of each OCPI version, both ways (versions digest §5.8, §10)."""

from __future__ import annotations

from typing import Any

import pytest

from application.credentials_object import (
    InvalidCredentialsError,
    credentials_in,
    parse_credentials_in,
    parse_endpoints,
)
from domain.values import Role

DETAILS = {"name": "Party"}
CPO = {"role": "CPO", "party_id": "CP1", "country_code": "NL", "business_details": DETAILS}
EMSP = {"role": "EMSP", "party_id": "EM1", "country_code": "DE", "business_details": DETAILS}
HUB = {"role": "HUB", "party_id": "HUB", "country_code": "NL", "business_details": DETAILS}
PTP = {"role": "PTP", "party_id": "PT1", "country_code": "NL", "business_details": DETAILS}
URL = "https://peer.example/ocpi/versions"


@pytest.mark.parametrize(
    ("version", "body", "role", "roles", "hub_party_id"),
    [
        (
            "2.1.1",
            {"token": "t", "url": URL, "party_id": "cp1", "country_code": "nl",
             "business_details": DETAILS},
            Role.CPO,
            [CPO],
            None,
        ),
        ("2.2.1", {"token": "t", "url": URL, "roles": [CPO, EMSP]}, None, [CPO, EMSP], None),
        (
            "2.3.0",
            {"token": "t", "url": URL, "hub_party_id": "nlhub", "roles": [CPO]},
            None,
            [CPO],
            "NLHUB",
        ),
        ("2.3.0", {"token": "t", "url": URL, "roles": [PTP, CPO]}, None, [PTP, CPO], None),
    ],
)  # fmt: skip
def test_a_peers_credentials_of_each_version_read_as_roles(
    version: str, body: dict[str, Any], role: Role | None, roles: list[Any], hub_party_id: Any
) -> None:
    parsed = parse_credentials_in(version, body, role)

    assert (parsed.token, parsed.url) == ("t", URL)
    assert parsed.roles == roles
    assert parsed.hub_party_id == hub_party_id


@pytest.mark.parametrize(
    ("version", "body", "role", "message"),
    [
        ("2.1.1", {"token": "t", "url": URL, "party_id": "CP1", "country_code": "NL",
                   "business_details": DETAILS}, None, "role is unknown"),
        ("2.1.1", {"token": "t", "url": URL, "country_code": "NL", "business_details": DETAILS},
         Role.CPO, "credentials.party_id: required string"),
        ("2.1.1", {"token": "t", "url": URL, "party_id": "CP1", "country_code": "NL"},
         Role.CPO, "credentials.business_details.name"),
        ("2.1.1", {"url": URL, "party_id": "CP1", "country_code": "NL",
                   "business_details": DETAILS}, Role.CPO, "token"),
        ("2.1.1", [], Role.CPO, "JSON object"),
        ("2.3.0", {"token": "t", "url": URL, "roles": [HUB]}, None, "2.3.0 has no HUB role"),
        ("2.3.0", {"token": "t", "url": URL, "hub_party_id": "NL-HUB", "roles": [CPO]}, None,
         "hub_party_id"),
        ("2.3.0", {"token": "t", "url": URL, "roles": []}, None, "roles: required"),
        ("2.2.1", {"token": "t", "url": URL, "roles": [CPO, PTP]}, None,
         r"roles\[1\]\.role: OCPI 2\.2\.1 has no PTP role \(new in OCPI 2\.3\.0"),
    ],
)  # fmt: skip
def test_each_problem_of_a_versions_shape_is_named(
    version: str, body: Any, role: Role | None, message: str
) -> None:
    with pytest.raises(InvalidCredentialsError, match=message):
        parse_credentials_in(version, body, role)


@pytest.mark.parametrize(
    ("version", "reachable", "expected"),
    [
        (
            "2.1.1",
            [CPO],
            {"token": "c", "url": URL, "party_id": "HUB", "country_code": "NL",
             "business_details": DETAILS},
        ),
        ("2.2.1", [CPO], {"token": "c", "url": URL, "roles": [HUB]}),
        ("2.3.0", [CPO, EMSP], {"token": "c", "url": URL, "hub_party_id": "NLHUB",
                               "roles": [CPO, EMSP]}),
        ("2.3.0", [], {"token": "c", "url": URL, "hub_party_id": "NLHUB",
                       "roles": [{**HUB, "role": "OTHER"}]}),
    ],
)  # fmt: skip
def test_a_hubs_own_credentials_take_the_shape_of_the_version(
    version: str, reachable: list[Any], expected: dict[str, Any]
) -> None:
    assert credentials_in(version, "c", URL, [HUB], reachable) == expected


def test_a_platforms_230_credentials_list_its_own_roles_without_hub_party_id() -> None:
    assert credentials_in("2.3.0", "c", URL, [CPO, EMSP], [HUB]) == {
        "token": "c",
        "url": URL,
        "roles": [CPO, EMSP],
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CPO, {"credentials": "SENDER", "locations": "SENDER", "commands": "RECEIVER",
                    "tokens": "RECEIVER", "chargingprofiles": ""}),
        (Role.EMSP, {"credentials": "SENDER", "locations": "RECEIVER", "commands": "SENDER",
                     "tokens": "SENDER", "chargingprofiles": ""}),
    ],
)  # fmt: skip
def test_211_endpoints_get_the_interface_the_peers_role_implies(
    role: Role, expected: dict[str, str]
) -> None:
    details = {
        "version": "2.1.1",
        "endpoints": [{"identifier": m, "url": f"https://p/{m}"} for m in expected],
    }

    version, endpoints = parse_endpoints(details, "2.1.1", role)

    assert version == "2.1.1"
    assert {e["identifier"]: e["role"] for e in endpoints} == expected

"""A simulated platform speaking OCPI 2.1.1 or 2.3.0: its versions, credentials and modules in
that version's shapes (versions digest §1, §5)."""

import asyncio

import pytest

from simulator import SimConfig, SimParty, samples

CPO = SimParty("NL", "CPO", "CPO", "2.1.1 CPO")
EMSP = SimParty("DE", "MSP", "EMSP", "2.1.1 eMSP")
CPO_KEY, EMSP_KEY = ("NL", "CPO"), ("DE", "MSP")
ROUTING_HEADERS = {"x-request-id", "x-correlation-id", "ocpi-from-country-code",
                   "ocpi-from-party-id", "ocpi-to-country-code", "ocpi-to-party-id"}  # fmt: skip


@pytest.fixture
def pair_211(platform):
    """A 2.1.1 CPO registered with a 2.1.1 eMSP."""
    cpo = platform(CPO, ocpi_version="2.1.1")
    emsp = platform(EMSP, ocpi_version="2.1.1", token_a="token-a-for-emsp")
    asyncio.run(cpo.sim.register(emsp.versions_url, "token-a-for-emsp"))
    return cpo, emsp


def test_a_211_platform_lists_only_211_and_endpoints_without_roles(platform):
    cpo = platform(CPO, ocpi_version="2.1.1", token_a="a")

    versions = cpo.call("GET", "/ocpi/versions", "a").json()["data"]
    details = cpo.call("GET", "/ocpi/2.1.1", "a").json()["data"]

    assert versions == [{"version": "2.1.1", "url": f"{cpo.url}/ocpi/2.1.1"}]
    assert {e["identifier"] for e in details["endpoints"]} == {
        "credentials", "locations", "sessions", "cdrs", "tariffs", "tokens", "commands",
    }  # fmt: skip
    assert all(set(e) == {"identifier", "url"} for e in details["endpoints"])
    assert cpo.call("GET", "/ocpi/2.2.1", "a").status_code == 404


def test_two_211_platforms_exchange_credentials_of_one_party_without_roles(pair_211):
    cpo, emsp = pair_211

    theirs, ours = cpo.sim.peer(), emsp.sim.peer()

    assert theirs.roles == [{"role": None, "country_code": "DE", "party_id": "MSP",
                             "business_details": {"name": "2.1.1 eMSP"}}]  # fmt: skip
    assert ours.id == "NL*CPO" and ours.version == theirs.version == "2.1.1"
    # the eMSP's 2.1.1 endpoints name no interface: the CPO reads them as the eMSP side
    assert theirs.endpoints[("locations", "RECEIVER")] == f"{emsp.url}/ocpi/emsp/2.1.1/locations"
    assert ours.endpoints[("commands", "RECEIVER")] == f"{cpo.url}/ocpi/cpo/2.1.1/commands"


def test_211_objects_travel_without_routing_headers_or_owner_ids(pair_211):
    cpo, emsp = pair_211
    location, token = samples.location_211("LOC1"), samples.token_211("TOKEN1")
    cpo.sim.seed(*CPO_KEY, "locations", location)
    emsp.sim.seed(*EMSP_KEY, "tokens", token)
    cpo_client, emsp_client = cpo.sim.client(*CPO_KEY), emsp.sim.client(*EMSP_KEY)

    assert asyncio.run(cpo_client.push_location(None, location)).status_code == 201
    got = asyncio.run(emsp_client.get_location(None, "LOC1"))
    tokens = asyncio.run(cpo_client.get_tokens(None))
    session = samples.session_211("S1", location=location)
    assert asyncio.run(cpo_client.push_session(None, session)).status_code == 201
    cdr = samples.cdr_211("CDR1", location=location)
    assert asyncio.run(cpo_client.post_cdr(None, cdr)).status_code == 201

    assert emsp.sim.received_objects(EMSP_KEY, "locations")[(*CPO_KEY, "LOC1")] == location
    assert got.json()["data"] == location and tokens == [token]
    assert emsp.sim.received_objects(EMSP_KEY, "sessions")[(*CPO_KEY, "S1")] == session
    assert emsp.sim.received_objects(EMSP_KEY, "cdrs")[(*CPO_KEY, "CDR1")] == cdr
    for entry in cpo.sim.requests() + emsp.sim.requests():
        assert not ROUTING_HEADERS & set(entry.headers), (entry.method, entry.path)


def test_a_211_start_session_is_answered_and_its_result_posted_in_211_shape(pair_211):
    cpo, emsp = pair_211
    cpo.sim.seed(*CPO_KEY, "locations", samples.location_211("LOC1"))

    call = asyncio.run(emsp.sim.client(*EMSP_KEY).start_session(
        None, samples.token_211(), "LOC1", "EVSE1"))  # fmt: skip
    result = asyncio.run(call.result())

    assert call.data == {"result": "ACCEPTED"}  # 2.1.1 CommandResponse: no timeout
    assert result.body == {"result": "ACCEPTED"}
    assert not ROUTING_HEADERS & set(result.headers)
    command = next(e for e in cpo.sim.requests() if e.path.endswith("/START_SESSION"))
    assert command.path == "/ocpi/cpo/2.1.1/commands/START_SESSION"


def test_a_211_token_authorisation_answers_211s_authorization_info(pair_211):
    cpo, emsp = pair_211
    emsp.sim.seed(*EMSP_KEY, "tokens", samples.token_211("TOKEN1"))

    answer = asyncio.run(cpo.sim.client(*CPO_KEY).authorize(None, "TOKEN1"))

    assert answer.json()["data"] == {"allowed": "ALLOWED"}


def test_a_230_platform_takes_hub_party_id_and_refuses_a_hub_role(platform):
    emsp = platform(SimParty("DE", "MSP", "EMSP"), ocpi_version="2.3.0", token_a="a")
    other = platform(SimParty("NL", "CPO", "CPO"), ocpi_version="2.3.0")
    details = emsp.call("GET", "/ocpi/2.3.0", "a").json()["data"]
    body = {"token": "b", "url": other.versions_url, "hub_party_id": "NLHUB",
            "roles": [{"role": "HUB", "party_id": "HUB", "country_code": "NL",
                       "business_details": {"name": "h"}}]}  # fmt: skip

    refused = emsp.call("POST", "/ocpi/2.3.0/credentials", "a", json=body)

    assert refused.status_code == 400 and "no HUB role" in refused.json()["status_message"]
    assert {e["url"].split("/ocpi/")[1] for e in details["endpoints"]} >= {
        "2.3.0/credentials", "2.3.0/hubclientinfo", "emsp/2.3.0/locations",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ocpi_version": "2.0"}, "ocpi_version must be one of"),
        ({"ocpi_version": "2.1.1", "parties": [CPO, EMSP]}, "exactly one CPO or EMSP party"),
        ({"ocpi_version": "2.1.1", "parties": [SimParty("NL", "NSP", "NSP")]}, "exactly one"),
    ],
)
def test_a_configuration_a_version_cannot_have_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        SimConfig(**{"parties": [CPO], **options})


def test_every_sample_of_a_version_is_a_valid_object_of_it():
    """Each 2.1.1 and 2.3.0 sample translates to 2.2.1 without refusal (all required fields)."""
    from domain.translation.bridge import TranslationContext, translate
    from domain.values import PartyRef

    context = TranslationContext(
        owner=PartyRef("NL", "CPO"), token_owner=PartyRef("DE", "MSP"), time_zone="UTC"
    )
    kinds = ("Location", "Tariff", "Token", "Session", "Cdr")
    for version in ("2.1.1", "2.3.0"):
        for kind, name in zip(kinds, samples.SAMPLES_BY_VERSION[version], strict=True):
            build = getattr(samples, name)
            obj = build() if version == "2.1.1" else _owned(build, kind)
            translate(kind, obj, version, "2.2.1", context)


def _owned(build, kind):
    if kind in ("Session", "Cdr"):
        return build("NL", "CPO", emsp=("DE", "MSP"))
    return build("NL", "CPO")

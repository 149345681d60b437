"""Digest §2.5 (broadcast audience) and §2.6/§2.12 (open-routing keys)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from domain.errors import InvalidOperationError
from domain.operations import Operation, parse_operation
from domain.routing import (
    BroadcastCandidate,
    audience_roles,
    broadcast_audience,
    broadcast_sender_role,
    resolve_open_routing,
)
from domain.values import ConnectionStatus, InterfaceRole, ModuleId, PartyKey, PartyRef, Role

S = InterfaceRole.SENDER
R = InterfaceRole.RECEIVER
CPO = PartyRef("NL", "CPO")
EMSP = PartyRef("DE", "MSP")


def op(
    module: ModuleId, interface: InterfaceRole, method: str, path: str = "", query: str = ""
) -> Operation:
    return parse_operation(module, interface, method, path, query)


@dataclass
class FakeIndex:
    tokens: dict[tuple[str, str], PartyRef] = field(default_factory=dict)
    locations: dict[str, PartyRef] = field(default_factory=dict)
    sessions: dict[str, PartyRef] = field(default_factory=dict)
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def token_owner(self, uid: str, token_type: str) -> PartyRef | None:
        self.asked.append(("token", uid, token_type))
        return self.tokens.get((uid, token_type))

    def location_owner(self, location_id: str) -> PartyRef | None:
        self.asked.append(("location", location_id))
        return self.locations.get(location_id)

    def session_owner(self, session_id: str) -> PartyRef | None:
        self.asked.append(("session", session_id))
        return self.sessions.get(session_id)


INDEX = FakeIndex(
    tokens={("0123", "RFID"): EMSP, ("0123", "APP_USER"): PartyRef("FR", "APP")},
    locations={"LOC1": CPO},
    sessions={"S1": CPO},
)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


CDR_TOKEN = {"country_code": "de", "party_id": "msp", "uid": "0123", "type": "RFID"}


@pytest.mark.parametrize(
    ("operation", "payload", "expected"),
    [
        (op(ModuleId.CDRS, R, "POST"), body(id="C1", cdr_token=CDR_TOKEN), EMSP),
        (op(ModuleId.SESSIONS, R, "PUT", "/NL/CPO/S1"), body(cdr_token=CDR_TOKEN), EMSP),
        (op(ModuleId.SESSIONS, R, "PATCH", "/NL/CPO/S1"), body(cdr_token=CDR_TOKEN), EMSP),
        (op(ModuleId.SESSIONS, R, "PATCH", "/NL/CPO/S1"), body(kwh=3.5), None),
        (op(ModuleId.TOKENS, S, "POST", "/0123/authorize"), b"", EMSP),
        (
            op(ModuleId.TOKENS, S, "POST", "/0123/authorize", "type=APP_USER"),
            b"",
            PartyRef("FR", "APP"),
        ),
        (op(ModuleId.TOKENS, S, "POST", "/9999/authorize"), b"", None),
        (op(ModuleId.LOCATIONS, S, "GET", "/LOC1/EVSE1"), b"", CPO),
        (op(ModuleId.LOCATIONS, S, "GET", "/LOC9"), b"", None),
        (op(ModuleId.COMMANDS, R, "POST", "/START_SESSION"), body(location_id="LOC1"), CPO),
        (op(ModuleId.COMMANDS, R, "POST", "/RESERVE_NOW"), body(location_id="LOC1"), CPO),
        (op(ModuleId.COMMANDS, R, "POST", "/UNLOCK_CONNECTOR"), body(location_id="LOC1"), CPO),
        (op(ModuleId.COMMANDS, R, "POST", "/STOP_SESSION"), body(session_id="S1"), CPO),
        (op(ModuleId.COMMANDS, R, "POST", "/CANCEL_RESERVATION"), body(reservation_id="R1"), None),
        (op(ModuleId.COMMANDS, R, "POST", "/START_SESSION"), body(location_id=17), None),
        (op(ModuleId.SESSIONS, S, "PUT", "/S1/charging_preferences"), b"{}", CPO),
        (op(ModuleId.CHARGING_PROFILES, R, "PUT", "/S1"), b"{}", CPO),
        (op(ModuleId.CHARGING_PROFILES, R, "DELETE", "/S1", "response_url=https://x/1"), b"", CPO),
        (op(ModuleId.LOCATIONS, R, "PUT", "/NL/CPO/LOC1"), body(id="LOC1"), None),
        (op(ModuleId.TOKENS, R, "PUT", "/DE/MSP/0123"), body(uid="0123"), None),
        (op(ModuleId.LOCATIONS, R, "GET", "/NL/CPO/LOC1"), b"", None),
        (op(ModuleId.COMMANDS, S, "POST", "/cb/1"), body(result="ACCEPTED"), None),
        (op(ModuleId.CHARGING_PROFILES, S, "PUT", "/S1"), b"{}", None),
    ],
)
def test_open_routing_finds_the_receiver_from_the_routing_key_of_each_operation(
    operation: Operation, payload: bytes, expected: PartyRef | None
) -> None:
    assert resolve_open_routing(operation, payload, INDEX) == expected


def test_authorize_looks_the_token_up_with_its_default_type_rfid() -> None:
    index = FakeIndex()

    resolve_open_routing(op(ModuleId.TOKENS, S, "POST", "/0123/authorize"), b"", index)

    assert index.asked == [("token", "0123", "RFID")]


def test_a_session_put_routes_on_the_cdr_token_not_on_the_url_owner_or_the_index() -> None:
    index = FakeIndex(sessions={"S1": CPO})
    session_put = op(ModuleId.SESSIONS, R, "PUT", "/NL/CPO/S1")

    assert resolve_open_routing(session_put, body(cdr_token=CDR_TOKEN), index) == EMSP
    assert index.asked == []


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'"cdr_token"',
        body(cdr_token="DE*MSP"),
        body(cdr_token={"country_code": "DE"}),
        body(cdr_token={"country_code": "DEU", "party_id": "MSP"}),
        body(cdr_token={"country_code": 49, "party_id": "MSP"}),
        b'{"cdr_token": {"country_code": "DE", "party_id": "MSP"}',
    ],
)
def test_open_routing_of_a_cdr_tolerates_a_garbage_body_and_finds_no_receiver(
    garbage: bytes,
) -> None:
    assert resolve_open_routing(op(ModuleId.CDRS, R, "POST"), garbage, INDEX) is None


def test_a_command_with_a_garbage_body_finds_no_receiver() -> None:
    start = op(ModuleId.COMMANDS, R, "POST", "/START_SESSION")

    assert resolve_open_routing(start, b"{oops", INDEX) is None


def key(cc: str, pid: str, role: Role) -> PartyKey:
    return PartyKey(cc, pid, role)


ALL_MODULES = frozenset({ModuleId.LOCATIONS, ModuleId.TARIFFS, ModuleId.TOKENS})


def candidate(
    party: PartyKey,
    connection_id: str,
    status: ConnectionStatus = ConnectionStatus.CONNECTED,
    modules: frozenset[ModuleId] = ALL_MODULES,
) -> BroadcastCandidate:
    return BroadcastCandidate(party, connection_id, status, modules)


EMSP_A = candidate(key("DE", "MSP", Role.EMSP), "c-emsp")
EMSP_B = candidate(key("FR", "MSB", Role.EMSP), "c-emsp-b")
NSP = candidate(key("NL", "NSP", Role.NSP), "c-nsp")
OTHER = candidate(key("BE", "OTH", Role.OTHER), "c-other")
CPO_A = candidate(key("NL", "CPO", Role.CPO), "c-cpo")
CPO_B = candidate(key("BE", "CPB", Role.CPO), "c-cpo-b")
NAP = candidate(key("NL", "NAP", Role.NAP), "c-nap")
SCSP = candidate(key("NL", "SCS", Role.SCSP), "c-scsp")
HUB_PEER = candidate(key("FR", "HUB", Role.HUB), "c-hub")
EVERYONE = [EMSP_A, EMSP_B, NSP, OTHER, CPO_A, CPO_B, NAP, SCSP, HUB_PEER]


def audience(
    role: Role,
    module: ModuleId,
    sender: BroadcastCandidate,
    candidates: list[BroadcastCandidate] = EVERYONE,
) -> set[PartyRef]:
    chosen = broadcast_audience(
        role,
        module,
        candidates,
        sender=sender.party.ref,
        sender_connection_id=sender.connection_id,
    )
    return {c.party.ref for c in chosen}


def refs(*candidates: BroadcastCandidate) -> set[PartyRef]:
    return {c.party.ref for c in candidates}


@pytest.mark.parametrize("module", [ModuleId.LOCATIONS, ModuleId.TARIFFS])
def test_a_cpo_broadcast_of_locations_and_tariffs_reaches_emsps_nsps_and_others(
    module: ModuleId,
) -> None:
    assert audience(Role.CPO, module, CPO_A) == refs(EMSP_A, EMSP_B, NSP, OTHER)


def test_a_cpo_broadcast_of_tokens_does_not_reach_nsps() -> None:
    assert audience(Role.CPO, ModuleId.TOKENS, CPO_A) == refs(EMSP_A, EMSP_B, OTHER)


def test_an_emsp_broadcast_reaches_only_cpos() -> None:
    assert audience(Role.EMSP, ModuleId.TOKENS, EMSP_A) == refs(CPO_A, CPO_B)


def test_an_other_broadcast_reaches_only_cpos() -> None:
    assert audience(Role.OTHER, ModuleId.TOKENS, OTHER) == refs(CPO_A, CPO_B)


@pytest.mark.parametrize("role", [Role.NSP, Role.NAP, Role.SCSP, Role.HUB])
def test_a_broadcast_from_a_role_the_spec_gives_no_audience_reaches_nobody(role: Role) -> None:
    assert audience_roles(role, ModuleId.LOCATIONS) == frozenset()
    assert audience(role, ModuleId.LOCATIONS, NSP) == set()


@pytest.mark.parametrize(
    "status", [ConnectionStatus.OFFLINE, ConnectionStatus.PLANNED, ConnectionStatus.SUSPENDED]
)
def test_candidates_that_are_not_connected_are_left_out(status: ConnectionStatus) -> None:
    offline = candidate(key("IT", "OFF", Role.EMSP), "c-off", status)

    assert audience(Role.CPO, ModuleId.LOCATIONS, CPO_A, [EMSP_A, offline]) == refs(EMSP_A)


def test_candidates_without_the_modules_receiver_interface_are_left_out() -> None:
    tokens_only = candidate(
        key("IT", "TOK", Role.EMSP), "c-tok", modules=frozenset({ModuleId.TOKENS})
    )

    assert audience(Role.CPO, ModuleId.TARIFFS, CPO_A, [EMSP_A, tokens_only]) == refs(EMSP_A)


def test_parties_on_the_senders_own_connection_are_left_out() -> None:
    sibling_emsp = candidate(key("NL", "SIB", Role.EMSP), CPO_A.connection_id)

    assert audience(Role.CPO, ModuleId.LOCATIONS, CPO_A, [EMSP_A, sibling_emsp]) == refs(EMSP_A)


def test_the_senders_own_party_is_left_out_even_under_an_audience_role() -> None:
    sender_as_emsp = candidate(key("NL", "CPO", Role.EMSP), "c-elsewhere")

    assert audience(Role.CPO, ModuleId.LOCATIONS, CPO_A, [EMSP_A, sender_as_emsp]) == refs(EMSP_A)


def test_a_party_holding_two_audience_roles_gets_one_leg() -> None:
    as_emsp = candidate(key("DE", "TWO", Role.EMSP), "c-two")
    as_nsp = candidate(key("DE", "TWO", Role.NSP), "c-two")

    chosen = broadcast_audience(
        Role.CPO, ModuleId.LOCATIONS, [as_nsp, as_emsp], sender=CPO, sender_connection_id="c-cpo"
    )

    assert chosen == [as_emsp]


def test_the_audience_is_sorted_by_party() -> None:
    chosen = broadcast_audience(
        Role.CPO, ModuleId.LOCATIONS, EVERYONE, sender=CPO, sender_connection_id="c-cpo"
    )

    assert [c.party for c in chosen] == sorted(c.party for c in chosen)


@pytest.mark.parametrize(
    "module",
    [ModuleId.SESSIONS, ModuleId.CDRS, ModuleId.COMMANDS, ModuleId.CHARGING_PROFILES],
)
def test_asking_for_the_audience_of_a_module_that_is_never_broadcast_is_an_error(
    module: ModuleId,
) -> None:
    with pytest.raises(InvalidOperationError, match="can never be broadcast"):
        broadcast_audience(Role.CPO, module, EVERYONE, sender=CPO, sender_connection_id="c-cpo")


def test_the_broadcast_sender_role_prefers_the_modules_data_owner_role() -> None:
    platform = [key("NL", "CPO", Role.EMSP), key("NL", "CPO", Role.CPO)]

    assert broadcast_sender_role(ModuleId.LOCATIONS, CPO, platform) is Role.CPO
    assert broadcast_sender_role(ModuleId.TOKENS, CPO, platform) is Role.EMSP


def test_the_broadcast_sender_role_falls_back_to_the_only_role() -> None:
    assert broadcast_sender_role(ModuleId.TOKENS, CPO, [key("NL", "CPO", Role.OTHER)]) is Role.OTHER


def test_the_broadcast_sender_role_is_unknown_when_ambiguous() -> None:
    platform = [key("NL", "CPO", Role.NSP), key("NL", "CPO", Role.NAP)]

    assert broadcast_sender_role(ModuleId.LOCATIONS, CPO, platform) is None

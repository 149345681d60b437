"""Callback link rules, the owner index and delivery targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.callbacks import (
    CALLBACK_MARGIN,
    MIN_CALLBACK_LIFETIME,
    callback_expiry,
    callback_id,
    expiry_after_answer,
)
from application.delivery import Target
from application.owner_index import (
    SESSION,
    ContractToken,
    InMemoryOwnerIndex,
    OwnerFact,
    contract_facts,
    fact_of,
)
from application.routing import ocpi_status_of
from domain.operations import CommandType, parse_operation
from domain.values import InterfaceRole, ModuleId, PartyRef

NOW = datetime(2024, 1, 1, tzinfo=UTC)
CPO_A, CPO_B = PartyRef("NL", "CPA"), PartyRef("NL", "CPB")


def test_only_paths_under_callbacks_name_a_link() -> None:
    assert callback_id("callbacks/abc") == "abc"
    assert callback_id("callbacks/") is None
    assert callback_id("callbacks/a/b") is None
    assert callback_id("other/abc") is None


def test_a_callback_lives_at_least_the_minimum_and_a_reservation_until_its_expiry() -> None:
    assert callback_expiry(NOW, CommandType.START_SESSION, b"{}") == NOW + MIN_CALLBACK_LIFETIME
    body = b'{"expiry_date": "2024-01-03T00:00:00Z"}'
    reserved = callback_expiry(NOW, CommandType.RESERVE_NOW, body)
    assert reserved == datetime(2024, 1, 3, tzinfo=UTC) + CALLBACK_MARGIN


def test_the_receivers_timeout_extends_a_callback() -> None:
    answer = b'{"data": {"result": "ACCEPTED", "timeout": 3600}, "status_code": 1000}'
    assert expiry_after_answer(NOW, answer) == NOW + timedelta(hours=1) + CALLBACK_MARGIN
    assert expiry_after_answer(NOW, b'{"data": {"timeout": true}}') is None
    assert expiry_after_answer(NOW, b"not json") is None


def test_a_push_teaches_the_index_who_owns_its_object() -> None:
    operation = parse_operation(
        ModuleId.TOKENS, InterfaceRole.RECEIVER, "PUT", "/NL/EMA/U1", "type=APP_USER"
    )
    index = InMemoryOwnerIndex()
    fact = fact_of(operation)
    assert fact is not None and index.learn(fact) and not index.learn(fact)
    assert index.token_owner("U1", "APP_USER") == PartyRef("NL", "EMA")
    assert index.token_owner("U1", "RFID") is None


def test_an_id_seen_under_two_owners_is_not_guessed() -> None:
    index = InMemoryOwnerIndex()
    index.learn(OwnerFact(SESSION, "S1", CPO_A))
    assert index.session_owner("S1") == CPO_A
    index.learn(OwnerFact(SESSION, "S1", CPO_B))
    assert index.session_owner("S1") is None


def test_a_token_push_teaches_the_index_the_token_behind_its_contract_id() -> None:
    """What a 2.1.1 session or CDR (naming its token by auth_id only) is given as CdrToken."""
    index = InMemoryOwnerIndex()
    push = parse_operation(ModuleId.TOKENS, InterfaceRole.RECEIVER, "PUT", "/NL/EMA/U1", "")
    for fact in contract_facts(push, b'{"uid": "U1", "type": "APP_USER", "auth_id": "NL-C 1"}'):
        index.learn(fact)
    warmed = InMemoryOwnerIndex()  # from the stored facts, after a restart
    for fact in contract_facts(push, b'{"uid": "U1", "type": "APP_USER", "auth_id": "NL-C 1"}'):
        warmed.learn(OwnerFact(fact.kind, fact.key, fact.owner))

    expected = ContractToken(PartyRef("NL", "EMA"), "U1", "APP_USER", "NL-C 1")
    assert index.contract_token("NL-C 1") == warmed.contract_token("NL-C 1") == expected
    assert index.contract_owner("NL-C 1") == PartyRef("NL", "EMA")
    other = parse_operation(ModuleId.TOKENS, InterfaceRole.RECEIVER, "PUT", "/NL/EMB/U2", "")
    for fact in contract_facts(other, b'{"uid": "U2", "contract_id": "NL-C 1"}'):
        index.learn(fact)
    assert index.contract_token("NL-C 1") is None  # claimed twice: never guessed


def test_an_oversized_token_push_teaches_no_contract_id() -> None:
    push = parse_operation(ModuleId.TOKENS, InterfaceRole.RECEIVER, "PUT", "/NL/EMA/U1", "")
    padded = b'{"uid": "U1", "auth_id": "NL-C 1", "pad": "' + b"x" * 70_000 + b'"}'
    assert contract_facts(push, padded) == ()
    assert contract_facts(push, b'{"uid": "U1", "auth_id": "NL-C 1"}') != ()


def test_a_target_encodes_its_token_as_its_peer_expects_and_joins_paths_once() -> None:
    target = Target(CPO_A, "c1", "direct", "https://cpo.example.com/ocpi/tokens/", "tok")
    assert target.authorization() == "Token dG9r"
    raw = Target(CPO_A, "c1", "direct", "https://cpo.example.com/x", "tok", "raw")
    assert raw.authorization() == "Token tok"
    assert target.url("/NL/EMA/U1", "type=RFID") == (
        "https://cpo.example.com/ocpi/tokens/NL/EMA/U1?type=RFID"
    )
    assert Target(CPO_A, "local", "local", "http://backend/x").authorization() is None


def test_the_ledger_reads_the_ocpi_status_of_small_and_large_bodies() -> None:
    assert ocpi_status_of(b'{"status_code": 2001}') == 2001
    large = b'{"data": "' + b"x" * 100_000 + b'", "status_code": 1000}'
    assert ocpi_status_of(large) == 1000
    assert ocpi_status_of(b"") is None and ocpi_status_of(b"<html>") is None

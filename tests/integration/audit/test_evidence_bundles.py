"""Evidence bundles prove completeness, on both stores: a bundle with a record, the last record
of a message or a whole message removed, records reordered or altered, or re-signed with
another key, does not verify, and the verdict names what is missing.

The fixture's ledger is mixed, as ledgers in the field are after issue 15: the command was
recorded one event per step (as before), its callback as two events (Admitted, Concluded)."""

import copy
from typing import Any

import pytest

from application.evidence import verify_bundle
from application.signing import Signer, load_public_key
from domain.signed import SIGNATURE
from infrastructure.checkpoints import load_signer
from infrastructure.store import Store
from tests.audit_support import Leg, evidence_bundle, record, record_before_issue_15, routed


@pytest.fixture
def command_and_callback(store: Store) -> tuple[dict[str, Any], Any]:
    """A START_SESSION command and the result the CPO sent back to its response_url."""
    command = routed(
        "cmd-1", module="commands", path="/START_SESSION", method="POST",
        body=b'{"response_url":"https://hub/cb/1","location_id":"LOC1"}', correlation_id="c-1",
        sender="DE*EMS", receiver="NL*CPO", legs=[Leg("NL*CPO", "conn-cpo")],
    )  # fmt: skip
    callback = routed(
        "cb-1", module="commands", interface="SENDER", path="/callbacks/1", method="POST",
        body=b'{"result":"ACCEPTED"}', correlation_id="c-1", sender="NL*CPO",
        receiver="DE*EMS",
    )  # fmt: skip
    record_before_issue_15(store, command)
    record(store, callback)
    bundle = evidence_bundle(store, [command.id, callback.id], {"correlation_id": "c-1"})
    return bundle, load_signer(None, store.registry_db).public_key


def kinds(result: dict[str, Any]) -> list[str]:
    return [p["kind"] for p in result["problems"]]


def test_an_untouched_bundle_verifies_with_the_published_key(command_and_callback) -> None:
    bundle, key = command_and_callback
    result = verify_bundle(bundle, key)
    assert result["ok"], result["problems"]
    assert result["messages"] == 2 and result["records"] == 5 + 2
    assert result["key"] == "the public key given"
    alone = verify_bundle(bundle)  # the key inside the bundle: intact, signer unproven
    assert alone["ok"] and "compare this key id" in alone["key"]


def test_a_removed_forwarded_record_is_named(command_and_callback) -> None:
    bundle, key = command_and_callback
    records = bundle["messages"][0]["records"]
    assert records[2]["event"] == "Forwarded"
    del records[2]
    result = verify_bundle(bundle, key)
    assert not result["ok"]
    assert kinds(result)[0] == "record_missing"
    assert "version(s) 3..3 missing" in result["problems"][0]["detail"]


def test_a_removed_last_record_is_named(command_and_callback) -> None:
    bundle, key = command_and_callback
    removed = bundle["messages"][0]["records"].pop()
    assert removed["event"] == "Responded"
    result = verify_bundle(bundle, key)
    assert kinds(result) == ["record_missing", "terminal_missing"]
    assert "4 of the 5 signed records" in result["problems"][0]["detail"]
    assert "no Responded record" in result["problems"][1]["detail"]


def test_a_removed_callback_message_is_named(command_and_callback) -> None:
    bundle, key = command_and_callback
    callback = bundle["messages"].pop()
    result = verify_bundle(bundle, key)
    assert kinds(result) == ["message_missing"]
    assert callback["id"] in result["problems"][0]["detail"]


def test_a_removed_concluded_record_is_named(command_and_callback) -> None:
    bundle, key = command_and_callback
    removed = bundle["messages"][1]["records"].pop()
    assert removed["event"] == "Concluded"
    result = verify_bundle(bundle, key)
    assert kinds(result) == ["record_missing", "terminal_missing"]
    assert "1 of the 2 signed records" in result["problems"][0]["detail"]
    assert "no Responded record" in result["problems"][1]["detail"]


@pytest.mark.parametrize("message", [0, 1])
def test_reordered_records_are_found(command_and_callback, message: int) -> None:
    bundle, key = command_and_callback
    records = bundle["messages"][message]["records"]
    records[0], records[1] = records[1], records[0]
    assert kinds(verify_bundle(bundle, key))[0] == "record_reordered"


def test_an_altered_answer_is_found(command_and_callback) -> None:
    bundle, key = command_and_callback
    responded = bundle["messages"][0]["records"][-1]
    responded["readable"]["http_status"] = 500
    assert kinds(verify_bundle(bundle, key)) == ["readable_altered"]


def test_an_altered_answer_inside_a_concluded_record_is_found(command_and_callback) -> None:
    bundle, key = command_and_callback
    concluded = bundle["messages"][1]["records"][-1]
    concluded["readable"]["responded"]["http_status"] = 500
    assert kinds(verify_bundle(bundle, key)) == ["readable_altered"]


def test_a_bundle_doctored_and_re_signed_with_another_key_fails_with_the_published_key(
    command_and_callback,
) -> None:
    bundle, key = command_and_callback
    forger = Signer.generate()
    doctored = copy.deepcopy(bundle)
    doctored["messages"][0]["records"].pop()
    proof = {k: v for k, v in doctored["proof"].items() if k != SIGNATURE}
    proof["messages"][0].update(
        records=4,
        last_hash=doctored["messages"][0]["records"][-1]["link"]["hash"],
        last_position=doctored["messages"][0]["records"][-1]["link"]["position"],
        complete=False,
    )
    doctored["proof"] = forger.sign(proof)
    doctored["node"].update(key_id=forger.key_id, public_key_pem=forger.public_pem())

    result = verify_bundle(doctored, key)
    assert kinds(result) == ["proof_signature"]
    assert "not by the expected key" in result["problems"][0]["detail"]
    # The checkpoint inside still carries the node's signature, which the forger cannot
    # make: with the key inside the bundle, the checkpoint no longer verifies.
    assert kinds(verify_bundle(doctored)) == ["checkpoint_signature"]


def test_a_bundle_without_proof_or_of_format_1_does_not_verify(command_and_callback) -> None:
    bundle, key = command_and_callback
    without = copy.deepcopy(bundle)
    del without["proof"]
    assert kinds(verify_bundle(without, key))[0] == "proof_missing"
    old = copy.deepcopy(bundle)
    old["format"] = "ocpi-ledger-evidence/1"
    assert kinds(verify_bundle(old, key)) == ["format"]


def test_a_bundle_of_format_2_made_before_two_event_records_still_verifies(store: Store) -> None:
    command = routed("cmd-2", correlation_id="c-2", legs=[Leg("NL*CPO", "conn-cpo")])
    record_before_issue_15(store, command)
    bundle = evidence_bundle(store, [command.id], {"correlation_id": "c-2"})
    assert bundle["format"] == "ocpi-ledger-evidence/3"
    bundle["format"] = "ocpi-ledger-evidence/2"  # as a node before issue 15 wrote it
    result = verify_bundle(bundle, load_signer(None, store.registry_db).public_key)
    assert result["ok"], result["problems"]
    assert result["records"] == 5


def test_a_format_2_bundle_holding_two_event_records_is_a_contradiction(
    command_and_callback,
) -> None:
    bundle, key = command_and_callback
    relabelled = copy.deepcopy(bundle)
    relabelled["format"] = "ocpi-ledger-evidence/2"
    assert kinds(verify_bundle(relabelled, key)) == ["format", "format"]  # Admitted, Concluded


def test_a_message_still_in_flight_is_signed_as_incomplete_and_verifies(store: Store) -> None:
    in_flight = routed("slow", legs=[Leg("NL*CPO", "conn-cpo")])
    events = in_flight.message.collect_events()
    assert [type(e).__name__ for e in events] == ["Admitted", "Concluded"]
    store.ledger.record(events[0], bodies=in_flight.bodies)  # Received, Routed, Forwarded
    bundle = evidence_bundle(store, [in_flight.id])
    assert bundle["proof"]["messages"][0]["complete"] is False
    result = verify_bundle(bundle, load_public_key(bundle["node"]["public_key_pem"]))
    assert result["ok"], result["problems"]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b.update(messages="all of them"),
        lambda b: b["messages"][0].update(records=[1, 2]),
        lambda b: b["messages"][0]["records"][0]["link"].update(position="first"),
        lambda b: b.update(bodies=None, redactions=[None]),
        lambda b: b["proof"].update(messages={"no": "list"}),
    ],
)
def test_a_mangled_bundle_is_reported_not_crashed_on(command_and_callback, mangle) -> None:
    bundle, key = command_and_callback
    mangle(bundle)
    result = verify_bundle(bundle, key)
    assert not result["ok"] and result["problems"]

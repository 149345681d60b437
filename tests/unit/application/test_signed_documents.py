"""Signed documents: the bytes a signature covers are canonical, a signature survives a JSON
round trip and key order, and any change or another key breaks it."""

import json
from pathlib import Path

import pytest

from application.evidence import incompleteness
from application.signing import Signer, load_public_key, signature_problem
from domain.signed import checkpoint_document, covers, signed_bytes
from infrastructure.checkpoints import load_signer


def test_signed_bytes_are_sorted_compact_utf8_json_without_the_signature() -> None:
    document = {"b": 1, "a": "Düsseldorf", "signature": "x"}
    assert signed_bytes(document) == '{"a":"Düsseldorf","b":1}'.encode()


def test_a_signature_survives_a_json_round_trip_and_breaks_on_any_change() -> None:
    signer = Signer.generate()
    signed = signer.sign(checkpoint_document("NL*HUB", {"ledger": (7, "ab" * 32)}, "t", ""))
    copy = json.loads(json.dumps(dict(reversed(list(signed.items())))))
    key = load_public_key(signer.public_pem())
    assert signature_problem(copy, key) is None
    assert covers(copy, "ledger") == (7, "ab" * 32) and covers(copy, "registry") is None
    copy["chains"]["ledger"]["position"] = 6
    assert "altered" in (signature_problem(copy, key) or "")
    assert "not by the expected key" in (
        signature_problem(signed, Signer.generate().public_key) or ""
    )


def test_a_signing_key_file_is_made_owner_only_at_first_start_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "hub-key.pem"
    first = load_signer(str(path), database=None)  # type: ignore[arg-type]
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_signer(str(path), database=None).key_id == first.key_id  # type: ignore[arg-type]
    path.write_text("not a key")
    with pytest.raises(ValueError):
        load_signer(str(path), database=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("events", "why"),
    [
        ([("Received", {}), ("Refused", {}), ("Responded", {})], None),
        ([("Received", {}), ("Forwarded", {"leg": 1}), ("Answered", {"leg": 1}),
          ("Responded", {})], None),
        ([("Received", {}), ("Forwarded", {"leg": 1}), ("Answered", {"leg": 1})],
         "no Responded record"),
        ([("Received", {}), ("Forwarded", {"leg": 1}), ("Forwarded", {"leg": 2}),
          ("Responded", {}), ("Failed", {"leg": 2})], "leg(s) [1] forwarded"),
    ],
)  # fmt: skip
def test_a_message_is_complete_with_its_answer_and_an_outcome_for_every_leg(
    events: list, why: str | None
) -> None:
    found = incompleteness(events)
    assert (found is None) if why is None else (why in (found or ""))

"""The bundle format as the README documents it is enough: a partner's own short verifier,
written from the README alone (stdlib + cryptography, nothing of ocpi-ledger), agrees with
`evidence --verify` on a genuine bundle and on doctored ones."""

import base64
import copy
import hashlib
import json
import re

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from application.evidence import verify_bundle
from infrastructure.checkpoints import load_signer
from infrastructure.store import Store
from tests.audit_support import Leg, evidence_bundle, record, record_before_issue_15, routed


def partner_verifies(bundle: dict, public_key_pem: str) -> bool:
    key = load_pem_public_key(public_key_pem.encode())

    def signed(doc: dict) -> bool:
        data = {k: v for k, v in doc.items() if k != "signature"}
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        try:
            key.verify(base64.b64decode(doc["signature"]), text.encode())  # type: ignore[union-attr]
            return True
        except Exception:
            return False

    proof = bundle["proof"]
    checkpoint = proof["checkpoint"]
    formats = ("ocpi-ledger-evidence/2", "ocpi-ledger-evidence/3")
    if bundle["format"] not in formats or not (signed(proof) and signed(checkpoint)):
        return False
    signed_messages = {m["id"]: m for m in proof["messages"]}
    if set(signed_messages) != {m["id"] for m in bundle["messages"]}:
        return False
    for message in bundle["messages"]:
        records, claim = message["records"], signed_messages[message["id"]]
        positions = [r["link"]["position"] for r in records]
        if [r["originator_version"] for r in records] != list(range(1, len(records) + 1)):
            return False
        covered = checkpoint["chains"]["ledger"]["position"]
        if positions != sorted(set(positions)) or positions[-1] > covered:
            return False
        if len(records) != claim["records"] or records[-1]["link"]["hash"] != claim["last_hash"]:
            return False
        open_legs, responded = set(), False
        for r in records:
            state = base64.b64decode(r["state_base64"])
            doc = json.loads(state)
            top = [doc.get("body_sha256")]
            top = [b for b in top if isinstance(b, str) and re.fullmatch("[0-9a-f]{64}", b)]
            material = [r["link"]["prev_hash"], r["notification_id"], r["originator_id"],
                        r["originator_version"], r["topic"], hashlib.sha256(state).hexdigest(),
                        sorted(top)]  # fmt: skip
            digest = hashlib.sha256(json.dumps(material, separators=(",", ":")).encode())
            if digest.hexdigest() != r["link"]["hash"]:
                return False
            name, legs = r["topic"].rsplit(".", 1)[-1], doc.get("legs") or []
            if name in ("Forwarded", "Admitted"):
                open_legs |= {doc.get("leg")} if name == "Forwarded" else {g["leg"] for g in legs}
            open_legs -= {doc.get("leg")} if name in ("Answered", "Failed") else set()
            open_legs -= {g["leg"] for g in legs} if name == "Concluded" else set()
            responded |= name == "Responded" or doc.get("responded") is not None
            nested = [p.get("body_sha256") for p in [doc.get("responded") or {}, *legs]]
            for sha in top + [b for b in nested if b]:
                data = bundle["bodies"][sha]["data_base64"]
                if data is not None and hashlib.sha256(base64.b64decode(data)).hexdigest() != sha:
                    return False
        if claim["complete"] and not (responded and not open_legs):
            return False
    return True


def test_a_partners_own_verifier_agrees_with_ours(store: Store) -> None:
    # A mixed ledger: p1 as recorded before issue 15 (one event per step), p2 as two events.
    sent = [routed("p1", legs=[Leg("DE*EMS", "conn-ems"), Leg("FR*EMP", "conn-fr")]), routed("p2")]
    record_before_issue_15(store, sent[0])
    record(store, sent[1])
    bundle = evidence_bundle(store, [s.id for s in sent])
    key = load_signer(None, store.registry_db)
    pem = key.public_pem()
    assert partner_verifies(bundle, pem) and verify_bundle(bundle, key.public_key)["ok"]

    doctorings = [
        lambda b: b["messages"][0]["records"].pop(2),  # a Forwarded
        lambda b: b["messages"][1]["records"].pop(),  # the last record
        lambda b: b["messages"].pop(),  # a whole message
        lambda b: b["messages"][0]["records"].reverse(),
        lambda b: b["messages"][0]["records"][0].update(state_base64="e30="),  # "{}"
        lambda b: b["proof"]["messages"][0].update(complete=False),
    ]
    for doctor in doctorings:
        doctored = copy.deepcopy(bundle)
        doctor(doctored)
        assert not partner_verifies(doctored, pem)
        assert not verify_bundle(doctored, key.public_key)["ok"]

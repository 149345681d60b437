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
from tests.audit_support import Leg, evidence_bundle, record, routed


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
    if bundle["format"] != "ocpi-ledger-evidence/2" or not (signed(proof) and signed(checkpoint)):
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
            body = json.loads(state).get("body_sha256")
            bodies = [body] if isinstance(body, str) and re.fullmatch("[0-9a-f]{64}", body) else []
            material = [r["link"]["prev_hash"], r["notification_id"], r["originator_id"],
                        r["originator_version"], r["topic"], hashlib.sha256(state).hexdigest(),
                        sorted(bodies)]  # fmt: skip
            digest = hashlib.sha256(json.dumps(material, separators=(",", ":")).encode())
            if digest.hexdigest() != r["link"]["hash"]:
                return False
            name, leg = r["topic"].rsplit(".", 1)[-1], json.loads(state).get("leg")
            open_legs = open_legs | {leg} if name == "Forwarded" else open_legs - {leg}
            responded |= name == "Responded"
            for sha in bodies:
                data = bundle["bodies"][sha]["data_base64"]
                if data is not None and hashlib.sha256(base64.b64decode(data)).hexdigest() != sha:
                    return False
        if claim["complete"] and not (responded and not open_legs):
            return False
    return True


def test_a_partners_own_verifier_agrees_with_ours(store: Store) -> None:
    sent = [routed("p1", legs=[Leg("DE*EMS", "conn-ems"), Leg("FR*EMP", "conn-fr")]), routed("p2")]
    record(store, *sent)
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

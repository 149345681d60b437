"""The node's Ed25519 signing key: signs checkpoints, evidence proofs and receipts; anyone
checks them with the published public key (`GET /admin/ledger/public-key`)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from domain.signed import KEY_ID, SIGNATURE, key_id, signed_bytes


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(_raw(self.public_key))

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> Signer:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key is not an Ed25519 private key")
        return cls(key)

    def private_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> str:
        return public_pem(self.public_key)

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document with this key's id and its signature (base64)."""
        document = {**document, KEY_ID: self.key_id}
        signature = self._key.sign(signed_bytes(document))
        return {**document, SIGNATURE: base64.b64encode(signature).decode()}


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def signature_problem(document: Any, key: Ed25519PublicKey) -> str | None:
    """None when `document` carries a valid signature by `key`, else what is wrong."""
    if not isinstance(document, dict):
        return "not a signed document"
    if document.get(KEY_ID) != key_id(_raw(key)):
        return (
            f"signed by key {document.get(KEY_ID)!r}, not by the expected key {key_id(_raw(key))}"
        )
    try:
        signature = base64.b64decode(str(document.get(SIGNATURE, "")), validate=True)
        key.verify(signature, signed_bytes(document))
    except (InvalidSignature, binascii.Error, ValueError):
        return "the signature does not match the document: it was altered or signed by another key"
    return None


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

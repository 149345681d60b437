"""Routing between parties of different OCPI versions: which object a leg carries, its translation
toward the receiver's version (domain/translation), the answer's translation back, the loss report
the ledger keeps, and the per-connection policy that refuses a translation losing a listed field.

Decisions (docs/ocpi-versions-digest.md, "Routing between versions"):
* The version a request speaks is its path prefix, which must be its connection's version.
* A translation refusal (an `UntranslatableError`, a policy match, a module the receiver's version
  lacks) is answered 2001 with HTTP 400: 2001 exists in every version, 4xxx not in 2.1.1.
* The leg's body hash is the translated body's; the answer's hash stays the receiver's body (the
  evidence), the requester's translated answer is the Responded body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain import headers as h
from domain.errors import UntranslatableError
from domain.operations import CommandType, Operation, OperationKind
from domain.translation import Loss, ObjectKind, Translation, TranslationContext, translate
from domain.values import OCPI_VERSION, ModuleId
from domain.versions import PAYMENTS, V2_1_1, V2_2_1, V2_3_0

_MODULES_211 = frozenset(
    {
        ModuleId.CDRS,
        ModuleId.COMMANDS,
        ModuleId.LOCATIONS,
        ModuleId.SESSIONS,
        ModuleId.TARIFFS,
        ModuleId.TOKENS,
    }
)
_MODULES_221 = _MODULES_211 | {ModuleId.CHARGING_PROFILES, ModuleId.HUB_CLIENT_INFO}
MODULES_OF: dict[str, frozenset[str]] = {
    V2_1_1: frozenset(str(m) for m in _MODULES_211),
    V2_2_1: frozenset(str(m) for m in _MODULES_221),
    V2_3_0: frozenset(str(m) for m in _MODULES_221) | {PAYMENTS},
}

_COMMAND_KINDS = {
    CommandType.START_SESSION: ObjectKind.START_SESSION,
    CommandType.STOP_SESSION: ObjectKind.STOP_SESSION,
    CommandType.RESERVE_NOW: ObjectKind.RESERVE_NOW,
    CommandType.UNLOCK_CONNECTOR: ObjectKind.UNLOCK_CONNECTOR,
    CommandType.CANCEL_RESERVATION: ObjectKind.CANCEL_RESERVATION,
}


CANCEL_RESERVATION = CommandType.CANCEL_RESERVATION
NOT_SUPPORTED = "NOT_SUPPORTED"
"""CommandResponseType and ChargingProfileResponseType (2.2.1 = 2.3.0): the receiver cannot do
what was asked."""


class TranslationRefused(Exception):
    """A leg that cannot go to its receiver's version: answered 2001 and recorded."""


def version_of(version: str | None) -> str:
    """A connection's negotiated version; a connection registered before versions existed
    speaks 2.2.1."""
    return version or OCPI_VERSION


def _object_kind(operation: Operation) -> ObjectKind | None:
    """The object a locations, tariffs, tokens, sessions or cdrs URL names."""
    module = operation.module
    if module is ModuleId.LOCATIONS:
        if operation.connector_id:
            return ObjectKind.CONNECTOR
        return ObjectKind.EVSE if operation.evse_uid else ObjectKind.LOCATION
    simple = {
        ModuleId.TARIFFS: ObjectKind.TARIFF,
        ModuleId.TOKENS: ObjectKind.TOKEN,
        ModuleId.SESSIONS: ObjectKind.SESSION,
        ModuleId.CDRS: ObjectKind.CDR,
    }
    return simple.get(module) if isinstance(module, ModuleId) else None


def request_kind(operation: Operation) -> ObjectKind | None:
    """The object a request body carries (None: no body to translate)."""
    kind = operation.kind
    if kind in (OperationKind.PUSH, OperationKind.CDR_POST):
        return _object_kind(operation)
    if kind is OperationKind.COMMAND and operation.command is not None:
        return _COMMAND_KINDS.get(operation.command)
    if kind is OperationKind.AUTHORIZE:
        return ObjectKind.LOCATION_REFERENCES
    if kind is OperationKind.CALLBACK_RESULT and operation.module is ModuleId.COMMANDS:
        return ObjectKind.COMMAND_RESULT
    return None


def answer_kind(operation: Operation) -> ObjectKind | None:
    """The object (or list of objects) in the `data` of a receiver's answer."""
    kind = operation.kind
    if kind in (OperationKind.PULL_OBJECT, OperationKind.PULL_LIST):
        return _object_kind(operation)
    if kind is OperationKind.COMMAND:
        return ObjectKind.COMMAND_RESPONSE
    if kind is OperationKind.AUTHORIZE:
        return ObjectKind.AUTHORIZATION_INFO
    return None


def not_supported_answer(operation: Operation, requester: str, receivers: set[str]) -> Any:
    """The `data` the hub answers itself for a command or charging-profile request that has no
    form in any version the receiver is reached through (every one 2.1.1: CancelReservation,
    the chargingprofiles module), as 2.2.1 defines it: NOT_SUPPORTED, no result will follow.
    None when the request goes on (a 2.1.1 requester's own commands are its receiver's to judge)."""
    if requester == V2_1_1 or not receivers or receivers != {V2_1_1}:
        return None
    if operation.kind is OperationKind.COMMAND and operation.command is CANCEL_RESERVATION:
        text = "the CPO speaks OCPI 2.1.1, which has no CANCEL_RESERVATION command"
        return {
            "result": NOT_SUPPORTED,
            "timeout": 0,
            "message": [{"language": "en", "text": text}],
        }
    if operation.kind is OperationKind.CHARGING_PROFILE:
        return {"result": NOT_SUPPORTED, "timeout": 0}  # ChargingProfileResponse has no message
    return None


@dataclass(frozen=True)
class TranslatedBody:
    body: bytes
    record: dict[str, Any]
    """What the ledger keeps on the leg or answer: source and target version, the losses."""


def loss_record(
    source: str, target: str, losses: Iterable[Loss], prefix: str = ""
) -> dict[str, Any]:
    return {
        "source_version": source,
        "target_version": target,
        "losses": [
            {
                "path": prefix + loss.path,
                "kind": str(loss.kind),
                "source_value": loss.source_value,
                "target_value": loss.target_value,
            }
            for loss in losses
        ],
    }


def dump_json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _translate(
    kind: ObjectKind,
    document: Any,
    source: str,
    target: str,
    context: TranslationContext,
    partial: bool = False,
) -> Translation:
    """`translate`, refusing what is not a JSON object at all (a peer's list or scalar)."""
    if not isinstance(document, dict):
        raise UntranslatableError(
            "not_an_object", f"a {kind} must be a JSON object, got {type(document).__name__}"
        )
    return translate(kind, document, source, target, context, partial=partial)


def translate_request(
    kind: ObjectKind,
    body: bytes,
    source: str,
    target: str,
    context: TranslationContext,
    *,
    partial: bool,
) -> TranslatedBody:
    """A leg's body in the receiver's version. Raises `UntranslatableError`."""
    document = json.loads(body)
    translation = _translate(kind, document, source, target, context, partial)
    return TranslatedBody(
        dump_json(translation.body), loss_record(source, target, translation.losses)
    )


def translate_answer(
    kind: ObjectKind, body: bytes, source: str, target: str, context: TranslationContext
) -> TranslatedBody | None:
    """The receiver's OCPI envelope with its `data` (an object or a page of objects) in the
    requester's version; None when there is nothing to translate. Raises `UntranslatableError`."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if isinstance(data, dict):
        translation = _translate(kind, data, source, target, context)
        envelope["data"] = translation.body
        return TranslatedBody(dump_json(envelope), loss_record(source, target, translation.losses))
    if isinstance(data, list):
        record = loss_record(source, target, ())
        items = []
        for index, item in enumerate(data):
            one = _translate(kind, item, source, target, context)
            items.append(one.body)
            record["losses"] += loss_record(source, target, one.losses, f"[{index}].")["losses"]
        envelope["data"] = items
        return TranslatedBody(dump_json(envelope), record)
    return None


_INDEX = re.compile(r"\[\d+\]")


def policy_matches(module: str, record: dict[str, Any], refuse_losing: Sequence[str]) -> list[str]:
    """The policy entries (`module.field.path`, list indices left out) a translation's losses
    hit: an entry names a field and everything inside it."""
    hit: list[str] = []
    for loss in record["losses"]:
        field = f"{module}.{_INDEX.sub('', loss['path']).lstrip('.')}"
        for entry in refuse_losing:
            if (field == entry or field.startswith(entry + ".")) and entry not in hit:
                hit.append(entry)
    return hit


def headers_toward(version: str, headers: dict[str, str]) -> dict[str, str]:
    """2.1.1 has no routing headers: a leg toward it carries none (X-Request-ID and
    X-Correlation-ID stay: unknown headers harm nobody and the ledger names the leg by them)."""
    if version != V2_1_1:
        return headers
    return {name: value for name, value in headers.items() if name not in h.ROUTING_HEADERS}

"""Who owns a token, location or session: learned from routed pushes, used for open routing.

An `OwnerIndex` (domain.routing) in memory, so open routing needs no I/O. Every new fact is also
written through a `OwnerFactStore`, and the index is warmed from it at start, so a restart does
not forget who owns what. Location and session ids are only unique per CPO: a key seen under two
owners answers None (digest §2.12: the index must not guess).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from application.bodies import json_object
from domain.operations import Operation, OperationKind
from domain.values import ModuleId, PartyRef

TOKEN = "token"
LOCATION = "location"
SESSION = "session"
CONTRACT = "contract"
"""A token's contract id (2.1.1 `auth_id`): what a 2.1.1 session or CDR names its token by."""
CONTRACT_TOKEN = "contract_token"
"""`{contract id}\n{type}/{uid}` (`contract_token_key`) -> the eMSP: the token behind a contract id,
which a 2.1.1 session or CDR must be given as its CdrToken toward 2.2.1/2.3.0 (it names its token
only by `auth_id`, and the eMSP knows its tokens by uid and type)."""
SESSION_RECEIVER = "session_receiver"
"""`{cpo}/{session_id}` -> the eMSP a 2.1.1 session went to: its PATCHes carry no `auth_id`."""


def session_receiver_key(cpo: PartyRef, session_id: str) -> str:
    return f"{cpo}/{session_id}"


@dataclass(frozen=True, slots=True)
class OwnerFact:
    kind: str
    key: str
    owner: PartyRef


class OwnerFactStore(Protocol):
    def add(self, fact: OwnerFact) -> None: ...

    def all(self) -> Iterable[OwnerFact]: ...


def token_key(uid: str, token_type: str) -> str:
    return f"{token_type}/{uid}"


@dataclass(frozen=True, slots=True)
class ContractToken:
    """The token a contract id names: its eMSP, uid and type."""

    owner: PartyRef
    uid: str
    token_type: str
    contract_id: str


def contract_token_key(contract_id: str, uid: str, token_type: str) -> str:
    # ids are CiStrings (printable ASCII): a line break never occurs in one
    return f"{contract_id}\n{token_key(uid, token_type)}"


def fact_of(operation: Operation) -> OwnerFact | None:
    """The ownership a push reveals: its URL owner segments own the object it names.

    Only pushes whose owner classify has already checked against FROM count.
    """
    owner = operation.owner
    if operation.kind is not OperationKind.PUSH or owner is None:
        return None
    if operation.module is ModuleId.TOKENS and operation.token_uid:
        key = token_key(operation.token_uid, str(operation.token_type or "RFID"))
        return OwnerFact(TOKEN, key, owner)
    if operation.module is ModuleId.LOCATIONS and operation.location_id:
        return OwnerFact(LOCATION, operation.location_id, owner)
    if operation.module is ModuleId.SESSIONS and operation.session_id:
        return OwnerFact(SESSION, operation.session_id, owner)
    return None


TOKEN_BODY_LIMIT = 64 * 1024
"""A Token object is well under 1 KiB; a larger body is relayed as it is, but not parsed on the
event loop to learn a contract id (a hostile eMSP could otherwise stall every request with one
20 MB token push)."""


def contract_facts(operation: Operation, body: bytes) -> tuple[OwnerFact, ...]:
    """The eMSP owning a pushed token's contract id (`contract_id`, 2.1.1 `auth_id`): 2.1.1
    sessions and CDRs carry no owner, only that id, and are routed by it; and the token behind
    that id (uid and type), which their translation up names in its CdrToken."""
    owner = operation.owner
    if (
        operation.kind is not OperationKind.PUSH
        or operation.module is not ModuleId.TOKENS
        or owner is None
    ):
        return ()
    if len(body) > TOKEN_BODY_LIMIT:
        return ()
    document = json_object(body) or {}
    contract = document.get("contract_id") or document.get("auth_id")
    if not isinstance(contract, str) or not contract:
        return ()
    facts = [OwnerFact(CONTRACT, contract, owner)]
    uid = operation.token_uid or document.get("uid")
    # the body's type: a 2.1.1 token URL has none (the operation then reads RFID, the default)
    token_type = document.get("type") or operation.token_type or "RFID"
    if isinstance(uid, str) and uid and isinstance(token_type, str):
        key = contract_token_key(contract, uid, token_type)
        facts.append(OwnerFact(CONTRACT_TOKEN, key, owner))
    return tuple(facts)


class InMemoryOwnerIndex:
    def __init__(self) -> None:
        self._owners: dict[tuple[str, str], frozenset[PartyRef]] = {}
        self._contract_tokens: dict[str, frozenset[ContractToken]] = {}
        self._lock = threading.Lock()

    def knows(self, fact: OwnerFact) -> bool:
        return fact.owner in self._owners.get((fact.kind, fact.key), frozenset())

    def learn(self, fact: OwnerFact) -> bool:
        """Add a fact; True if it was new."""
        with self._lock:
            owners = self._owners.get((fact.kind, fact.key), frozenset())
            if fact.owner in owners:
                return False
            self._owners[(fact.kind, fact.key)] = owners | {fact.owner}
            if fact.kind == CONTRACT_TOKEN:
                contract_id, _, key = fact.key.partition("\n")
                token_type, _, uid = key.partition("/")
                token = ContractToken(fact.owner, uid, token_type, contract_id)
                known = self._contract_tokens.get(contract_id, frozenset())
                self._contract_tokens[contract_id] = known | {token}
            return True

    def _only(self, kind: str, key: str) -> PartyRef | None:
        owners = self._owners.get((kind, key), frozenset())
        if len(owners) != 1:
            return None
        (owner,) = owners
        return owner

    def token_owner(self, uid: str, token_type: str) -> PartyRef | None:
        return self._only(TOKEN, token_key(uid, token_type))

    def location_owner(self, location_id: str) -> PartyRef | None:
        return self._only(LOCATION, location_id)

    def session_owner(self, session_id: str) -> PartyRef | None:
        return self._only(SESSION, session_id)

    def contract_owner(self, contract_id: str) -> PartyRef | None:
        return self._only(CONTRACT, contract_id)

    def contract_token(self, contract_id: str) -> ContractToken | None:
        """The one token pushed with this contract id; None if none or several (no guessing)."""
        tokens = self._contract_tokens.get(contract_id, frozenset())
        if len(tokens) != 1:
            return None
        (token,) = tokens
        return token

    def session_receiver(self, cpo: PartyRef, session_id: str) -> PartyRef | None:
        return self._only(SESSION_RECEIVER, session_receiver_key(cpo, session_id))

"""Who a functional-module request is for: classification, open routing, broadcast audience.

Digest §2.3 (classification), §2.5 (broadcast), §2.6 and §2.12 (open routing). Pure functions: the
caller supplies the connection's parties, the hub's ids, an `OwnerIndex` and the candidates.

Decisions on the ambiguous points (digest §9):
* Missing FROM (AMBIG 6): inferred when the calling connection carries exactly one party
  (country_code, party_id), or, on a connection with several, from the URL owner segments of a
  push when that party is one of them; otherwise refused with 2001 naming the missing headers.
* FROM not a party of the calling connection (AMBIG 7): refused with 2001, not HTTP 404, so the
  requester gets an OCPI envelope saying why.
* URL owner segments (AMBIG 7): must equal FROM for every request that has them (pushes and the
  owner's validation GETs on a Receiver interface) - otherwise one party could overwrite or read
  another's objects. Exception: a FROM holding the HUB role (a peer hub relaying a broadcast keeps
  the original owner in the URL, digest §1.10).
* List GET without TO: refused with 2001, not 4001 - the receiver is not unknown, the requester
  left out a required parameter (TO = hub for GET All, or TO = the data owner).
* Single-object GET on a Sender interface with TO = hub (AMBIG 10): refused with 2001; the hub is
  not the owner of any object, and open routing (TO omitted) exists for exactly this.
* GET on a Receiver interface with TO = hub (AMBIG 10, §2.3 5c): HUB_RECEIVER_GET - the hub answers
  from the copy it stored when the object was broadcast to it; no copy means "unknown object"
  (HTTP 404 + 2001), as any Receiver would answer.
* Broadcast DELETE (tariffs, AMBIG 8): allowed, like PUT - removing a broadcast tariff must reach
  everyone who got it.
* A push without TO of a broadcastable module (locations, tariffs, tokens) at a hub: real platform
  software often sends no routing headers at all, and the spec lets a hub broadcast it. From a
  LENIENT connection (the default) it is a broadcast, with a note saying why; from a STRICT one
  it is refused with 2001 naming the headers. Sessions, CDRs and everything else without TO are
  open routing by content; when no target can be determined the caller answers 4001.
* TO == FROM is refused with 2001: nothing to route. TO being another party on the requester's own
  connection is DIRECT (digest §2.3 step 8: allowed when explicit).
* Whether TO is a party the hub knows (else 4001) is for the caller, which owns the directory.
* A custom module (two platforms' own) is DIRECT only: no TO is refused (no open routing, the
  node cannot read its content), TO = hub is refused (never broadcast).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.connections import Leniency
from domain.errors import InvalidOperationError, InvalidPartyError
from domain.operations import CommandType, Operation, OperationKind
from domain.status_codes import ClientError
from domain.values import (
    FUNCTIONAL_MODULES,
    ConnectionStatus,
    InterfaceRole,
    ModuleId,
    PartyKey,
    PartyRef,
    Role,
)

NEVER_BROADCAST: frozenset[ModuleId] = frozenset({ModuleId.SESSIONS, ModuleId.CDRS})
"""Party-specific data (GDPR, digest §2.5): addressed to one party, never to everyone."""

BROADCASTABLE: frozenset[ModuleId] = frozenset(
    {ModuleId.LOCATIONS, ModuleId.TARIFFS, ModuleId.TOKENS}
)
"""Modules with client-owned objects meant for everyone: the only ones a push may fan out in."""


class RouteClassKind(StrEnum):
    """How the hub handles a request (`RouteClass.kind`), recorded as the message's
    classification; not to be confused with `Way`, how a message leaves the node."""

    DIRECT = "DIRECT"
    BROADCAST = "BROADCAST"
    OPEN_ROUTING = "OPEN_ROUTING"
    GET_ALL = "GET_ALL"
    HUB_RECEIVER_GET = "HUB_RECEIVER_GET"
    REFUSED = "REFUSED"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the hub answers the request itself instead of routing it."""

    status_code: ClientError
    message: str


@dataclass(frozen=True, slots=True)
class RouteClass:
    """The outcome of `classify`.

    `from_party` is the effective FROM (inferred when the headers lacked it; the forwarder must
    then add it). `to_party` is set for DIRECT only. `refusal` is set for REFUSED only.
    """

    kind: RouteClassKind
    from_party: PartyRef | None = None
    to_party: PartyRef | None = None
    refusal: Refusal | None = None
    note: str = ""
    """What classification read into a request that did not say it (recorded with the route)."""

    @property
    def refused(self) -> bool:
        return self.kind is RouteClassKind.REFUSED


def _refuse(message: str, from_party: PartyRef | None = None) -> RouteClass:
    refusal = Refusal(ClientError.INVALID_OR_MISSING_PARAMETERS, message)
    return RouteClass(RouteClassKind.REFUSED, from_party=from_party, refusal=refusal)


def classify(
    operation: Operation,
    from_party: PartyRef | None,
    to_party: PartyRef | None,
    hub: PartyRef | None,
    sender_parties: Collection[PartyKey],
    leniency: Leniency = Leniency.LENIENT,
) -> RouteClass:
    """Decide how the hub handles a functional-module request (digest §2.3).

    `sender_parties` are the parties registered on the calling connection, `leniency` that
    connection's choice. Raises `InvalidOperationError` for configuration modules: the hub
    answers those itself, they are never routed, so calling this for them is a wiring mistake.
    """
    custom = operation.kind is OperationKind.CUSTOM
    if operation.module not in FUNCTIONAL_MODULES and not custom:
        raise InvalidOperationError(f"{operation.module} is a configuration module; never routed")

    refs = {party.ref for party in sender_parties}
    if from_party is None:
        if len(refs) == 1:
            (from_party,) = refs
        elif operation.owner is not None and operation.owner in refs:
            from_party = operation.owner
        else:
            return _refuse(
                "OCPI-from-country-code and OCPI-from-party-id are required: the calling"
                f" connection carries {len(refs)} parties and the URL names none of them"
            )
    elif from_party not in refs:
        return _refuse(
            f"OCPI-from {from_party} is not a party of the calling connection (spoofed FROM)"
        )

    hub_roles = {party.ref for party in sender_parties if party.role is Role.HUB}
    owner = operation.owner
    if owner is not None and owner != from_party and from_party not in hub_roles:
        return _refuse(
            f"URL owner {owner} does not match OCPI-from {from_party}:"
            " a party may only push or read its own objects",
            from_party,
        )

    if to_party is None:
        if custom:
            return _refuse(
                f"custom module {operation.module} needs OCPI-to-country-code and"
                " OCPI-to-party-id: custom modules are never open-routed",
                from_party,
            )
        if (
            hub is not None
            and operation.kind is OperationKind.PUSH
            and operation.module in BROADCASTABLE
        ):
            return _headerless_push(operation, from_party, leniency)
        return _classify_open_routing(operation, from_party)
    if to_party == hub:
        if custom:
            return _refuse(
                f"custom module {operation.module} cannot be addressed to the hub: custom"
                " modules are never broadcast",
                from_party,
            )
        return _classify_addressed_to_hub(operation, from_party)
    if to_party == from_party:
        return _refuse(f"OCPI-to {to_party} equals OCPI-from: nothing to route", from_party)
    return RouteClass(RouteClassKind.DIRECT, from_party=from_party, to_party=to_party)


def _headerless_push(operation: Operation, from_party: PartyRef, leniency: Leniency) -> RouteClass:
    if leniency is Leniency.STRICT:
        return _refuse(
            f"OCPI-to-country-code and OCPI-to-party-id are required: this connection is strict,"
            f" so a {operation.module} push without them is not broadcast; address the receiver,"
            " or the hub to broadcast",
            from_party,
        )
    return RouteClass(
        RouteClassKind.BROADCAST,
        from_party=from_party,
        note=f"no OCPI-to on a {operation.module} push: broadcast (lenient connection)",
    )


def _classify_open_routing(operation: Operation, from_party: PartyRef) -> RouteClass:
    if operation.kind is OperationKind.PULL_LIST:
        return _refuse(
            "a list GET needs OCPI-to headers: the hub for GET All or the data owner;"
            " open routing is not allowed for list GETs",
            from_party,
        )
    return RouteClass(RouteClassKind.OPEN_ROUTING, from_party=from_party)


def _classify_addressed_to_hub(operation: Operation, from_party: PartyRef) -> RouteClass:
    kind = operation.kind
    module = operation.module
    if kind is OperationKind.PULL_LIST:
        return RouteClass(RouteClassKind.GET_ALL, from_party=from_party)
    if kind in (OperationKind.PUSH, OperationKind.CDR_POST):
        if module in NEVER_BROADCAST:
            return _refuse(
                f"{module} are party-specific and can never be broadcast:"
                " address OCPI-to to the receiving party",
                from_party,
            )
        return RouteClass(RouteClassKind.BROADCAST, from_party=from_party)
    if kind is OperationKind.PULL_OBJECT and operation.interface is InterfaceRole.RECEIVER:
        return RouteClass(RouteClassKind.HUB_RECEIVER_GET, from_party=from_party)
    if kind is OperationKind.PULL_OBJECT:
        return _refuse(
            "a single-object GET cannot be addressed to the hub: address the owner,"
            " or omit OCPI-to for open routing",
            from_party,
        )
    return _refuse(
        f"{module} {operation.method} ({kind}) cannot be addressed to the hub:"
        " address the receiving party, or omit OCPI-to for open routing",
        from_party,
    )


class OwnerIndex(Protocol):
    """Look-ups the caller keeps from traffic it has seen; each answers None when it does not know.

    Location and session ids are only unique per CPO; an index that has seen one id under two
    owners should answer None rather than guess.
    """

    def token_owner(self, uid: str, token_type: str) -> PartyRef | None: ...

    def location_owner(self, location_id: str) -> PartyRef | None: ...

    def session_owner(self, session_id: str) -> PartyRef | None: ...


def resolve_open_routing(operation: Operation, body: bytes, index: OwnerIndex) -> PartyRef | None:
    """Pick the receiver of an open-routed request from its content (digest §2.6, §2.12).

    Keys: sessions PUT/PATCH and CDR POST -> body `cdr_token.country_code/party_id`; authorize ->
    token (uid, type); GET one location -> location id; commands -> body `location_id`
    (START_SESSION, RESERVE_NOW, UNLOCK_CONNECTOR) or `session_id` (STOP_SESSION); charging
    preferences and charging profiles -> session id. Everything else (pushes of locations, tariffs
    and tokens, Receiver GETs, CANCEL_RESERVATION, callback results, ActiveChargingProfile updates)
    returns None: their target comes from a mapping the caller keeps (callbacks) or cannot be
    known, and the caller answers 4001.
    """
    kind = operation.kind
    if kind is OperationKind.CDR_POST or (
        kind is OperationKind.PUSH and operation.module is ModuleId.SESSIONS
    ):
        return _cdr_token_owner(body)
    if kind is OperationKind.AUTHORIZE and operation.token_uid is not None:
        return index.token_owner(operation.token_uid, str(operation.token_type or "RFID"))
    if (
        kind is OperationKind.PULL_OBJECT
        and operation.module is ModuleId.LOCATIONS
        and operation.interface is InterfaceRole.SENDER
        and operation.location_id is not None
    ):
        return index.location_owner(operation.location_id)
    if kind is OperationKind.COMMAND:
        return _command_target(operation.command, body, index)
    if (
        kind in (OperationKind.CHARGING_PREFERENCES, OperationKind.CHARGING_PROFILE)
        and operation.session_id is not None
    ):
        return index.session_owner(operation.session_id)
    return None


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _cdr_token_owner(body: bytes) -> PartyRef | None:
    document = _json_object(body)
    token = document.get("cdr_token") if document else None
    if not isinstance(token, dict):
        return None
    country_code, party_id = token.get("country_code"), token.get("party_id")
    if not isinstance(country_code, str) or not isinstance(party_id, str):
        return None
    try:
        return PartyRef(country_code, party_id)
    except InvalidPartyError:
        return None


def _command_target(command: CommandType | None, body: bytes, index: OwnerIndex) -> PartyRef | None:
    document = _json_object(body)
    if document is None:
        return None
    if command in (
        CommandType.START_SESSION,
        CommandType.RESERVE_NOW,
        CommandType.UNLOCK_CONNECTOR,
    ):
        location_id = document.get("location_id")
        return index.location_owner(location_id) if isinstance(location_id, str) else None
    if command is CommandType.STOP_SESSION:
        session_id = document.get("session_id")
        return index.session_owner(session_id) if isinstance(session_id, str) else None
    return None


@dataclass(frozen=True, slots=True)
class BroadcastCandidate:
    """A party the hub could fan a broadcast out to, as the caller's directory knows it."""

    party: PartyKey
    connection_id: str
    status: ConnectionStatus
    receiver_modules: frozenset[ModuleId]
    """Modules whose RECEIVER interface the party's platform announced in its version details."""


_AUDIENCE_ROLES: dict[Role, frozenset[Role]] = {
    Role.CPO: frozenset({Role.EMSP, Role.OTHER}),
    Role.EMSP: frozenset({Role.CPO}),
    Role.OTHER: frozenset({Role.CPO}),
}
_NSP_MODULES = frozenset({ModuleId.LOCATIONS, ModuleId.TARIFFS})


def audience_roles(sender_role: Role, module: ModuleId) -> frozenset[Role]:
    """The roles a broadcast from `sender_role` in `module` reaches (digest §2.5).

    Undefined senders (NSP, NAP, SCSP, HUB; AMBIG 8) reach nobody: the hub acks and fans out to no
    one rather than guess an audience.
    """
    roles = _AUDIENCE_ROLES.get(sender_role, frozenset())
    if sender_role is Role.CPO and module in _NSP_MODULES:
        roles = roles | {Role.NSP}
    return roles


def broadcast_audience(
    sender_role: Role,
    module: ModuleId,
    candidates: Iterable[BroadcastCandidate],
    *,
    sender: PartyRef,
    sender_connection_id: str,
) -> list[BroadcastCandidate]:
    """The parties a broadcast push is fanned out to, sorted by party, each party once.

    Chosen: CONNECTED candidates with an audience role (`audience_roles`) whose platform
    implements the module's RECEIVER interface. Never the sender's own party, and never a party on
    the sender's own connection (IMPL: the sender's platform already has the data). A party listed
    under two audience roles gets one leg only. Raises `InvalidOperationError` for modules that
    are never broadcast.
    """
    if module not in BROADCASTABLE:
        raise InvalidOperationError(f"{module} can never be broadcast")
    roles = audience_roles(sender_role, module)
    chosen: dict[PartyRef, BroadcastCandidate] = {}
    for candidate in sorted(candidates, key=lambda c: (c.party, c.connection_id)):
        if (
            candidate.status is ConnectionStatus.CONNECTED
            and candidate.party.role in roles
            and module in candidate.receiver_modules
            and candidate.party.ref != sender
            and candidate.connection_id != sender_connection_id
        ):
            chosen.setdefault(candidate.party.ref, candidate)
    return list(chosen.values())


_DATA_OWNER_ROLE: dict[ModuleId, Role] = {
    ModuleId.LOCATIONS: Role.CPO,
    ModuleId.TARIFFS: Role.CPO,
    ModuleId.TOKENS: Role.EMSP,
}


def broadcast_sender_role(
    module: ModuleId, from_party: PartyRef, sender_parties: Collection[PartyKey]
) -> Role | None:
    """The role FROM broadcasts in: the module's data-owner role if FROM holds it, else FROM's
    only role; None when FROM holds several roles and none of them owns the module's data."""
    roles = {party.role for party in sender_parties if party.ref == from_party}
    owner_role = _DATA_OWNER_ROLE.get(module)
    if owner_role in roles:
        return owner_role
    if len(roles) == 1:
        (role,) = roles
        return role
    return None

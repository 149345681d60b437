"""The routing service's side of version bridging: the version each target speaks, the hub's
knowledge a translation needs (`TranslationContext`), a leg's translation with the connections'
policies applied, and the answer's translation back to the requester's version."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from application.bodies import json_object
from application.delivery import Delivered, Target
from application.hub_store import HubObjectStore, ObjectKey, Page
from application.owner_index import (
    SESSION_RECEIVER,
    InMemoryOwnerIndex,
    OwnerFact,
    session_receiver_key,
)
from application.routing.exchange import Exchange, Leg
from application.routing.versions import (
    MODULES_OF,
    TranslationRefused,
    answer_kind,
    dump_json,
    headers_toward,
    loss_record,
    not_supported_answer,
    policy_matches,
    request_kind,
    translate_answer,
    translate_request,
    version_of,
)
from application.routing_table import InMemoryRoutingTable
from domain.errors import UntranslatableError
from domain.operations import Operation, OperationKind
from domain.translation import ObjectKind, TranslationContext, translate
from domain.values import ModuleId, PartyRef
from domain.versions import V2_1_1, V2_2_1

Store = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class TranslatedLeg:
    body: bytes
    record: dict[str, Any] | None
    """None: the leg goes as received (same version, or nothing to translate)."""

    def onto(self, leg: Leg) -> Leg:
        """`leg` (built with this body) with its loss report and its receiver's headers."""
        if self.record is None:
            return leg
        headers = headers_toward(self.record["target_version"], leg.headers)
        return replace(leg, headers=headers, translation=self.record)


class VersionBridge:
    def __init__(
        self,
        table: InMemoryRoutingTable,
        objects: HubObjectStore,
        owners: InMemoryOwnerIndex,
        store: Store,
    ) -> None:
        self.table = table
        self.objects = objects
        self.owners = owners
        self._store = store

    def version_of_target(self, target: Target) -> str:
        """Hosted parties speak 2.2.1; a connection its negotiated version."""
        connection_id = target.connection_id
        connection = self.table.connection(connection_id) if connection_id else None
        return version_of(connection.version if connection is not None else None)

    def _policy(self, *connection_ids: str | None) -> list[str]:
        entries: list[str] = []
        for connection_id in connection_ids:
            connection = self.table.connection(connection_id) if connection_id else None
            if connection is not None:
                entries.extend(connection.refuse_losing)
        return entries

    def versions_of(self, party: PartyRef) -> set[str]:
        """The versions of the connections `party` is reached through (hosted: 2.2.1)."""
        versions = set()
        for route in self.table.routes_to(party):
            connection = self.table.connection(route.route_key)
            versions.add(version_of(connection.version if connection is not None else None))
        return versions

    def not_supported(self, exchange: Exchange, operation: Operation, party: PartyRef) -> Any:
        """What the hub answers itself for a request `party`'s versions have no form of
        (`not_supported_answer`), or None."""
        if operation.kind not in (OperationKind.COMMAND, OperationKind.CHARGING_PROFILE):
            return None
        return not_supported_answer(operation, exchange.request.version, self.versions_of(party))

    def module_missing(self, party: PartyRef, module: str) -> str | None:
        """Why `party` cannot be sent `module`: every connection it is reached through speaks a
        version without it (payments is 2.3.0 only); None if one can take it."""
        if module in MODULES_OF[V2_1_1] or not _versioned(module):
            return None  # in every version, or a custom module: whoever publishes it takes it
        versions = self.versions_of(party)
        if not versions or any(module in MODULES_OF[v] for v in versions if v in MODULES_OF):
            return None
        spoken = ", ".join(sorted(versions))
        return f"{party} speaks OCPI {spoken}, which has no {module} module: not routed"

    def contract_owner(
        self, operation: Operation, body: bytes
    ) -> tuple[PartyRef | None, str, OwnerFact | None]:
        """A 2.1.1 session or CDR names its token only by `auth_id`: the eMSP that pushed a
        token with that contract id owns it (and nobody else claimed it). A session PATCH
        without `auth_id` goes where its session went. Also returns what to remember: which
        eMSP this session goes to."""
        auth_id = (json_object(body) or {}).get("auth_id")
        cpo, session_id = operation.owner, operation.session_id
        if (not isinstance(auth_id, str) or not auth_id) and cpo and session_id:
            owner = self.owners.session_receiver(cpo, session_id)
            if owner is None:
                return None, f"session {session_id!r} of {cpo} went to no eMSP yet", None
            return owner, f"session {session_id!r} of {cpo} goes to {owner}", None
        if not isinstance(auth_id, str) or not auth_id:
            return None, "the body has no auth_id", None
        owner = self.owners.contract_owner(auth_id)
        if owner is None:
            return None, f"no single eMSP is known to own auth_id {auth_id!r}", None
        fact = None
        if cpo is not None and session_id:
            fact = OwnerFact(SESSION_RECEIVER, session_receiver_key(cpo, session_id), owner)
        return owner, f"auth_id {auth_id!r} is a token of {owner}", fact

    async def leg(
        self, exchange: Exchange, operation: Operation, target: Target, body: bytes
    ) -> TranslatedLeg:
        """`body` as the target's version says it. Raises `TranslationRefused`."""
        source, destination = exchange.request.version, self.version_of_target(target)
        if source == destination:
            return TranslatedLeg(body, None)
        module = str(operation.module)
        if module not in MODULES_OF[destination] and _versioned(module):
            raise TranslationRefused(
                f"{target.party} speaks OCPI {destination}, which has no {module} module"
            )
        kind = request_kind(operation)
        if kind is None or not body:
            return TranslatedLeg(body, loss_record(source, destination, ()))
        context = await self._context(exchange, operation, kind, target, body)
        try:
            translated = translate_request(
                kind,
                body,
                source,
                destination,
                context,
                partial=exchange.request.method == "PATCH",
            )
        except UntranslatableError as error:
            raise TranslationRefused(
                f"{kind} cannot be translated from OCPI {source} to {destination}"
                f" ({error.reason}): {error}"
            ) from error
        hit = policy_matches(
            module,
            translated.record,
            self._policy(exchange.request.connection.id, target.connection_id),
        )
        if hit:
            raise TranslationRefused(
                f"the translation to OCPI {destination} for {target.party} would lose "
                f"{', '.join(hit)}, which a connection's translation policy refuses to lose"
            )
        return TranslatedLeg(translated.body, translated.record)

    async def answer(
        self, exchange: Exchange, operation: Operation, target: Target, outcome: Delivered
    ) -> tuple[Delivered, dict[str, Any] | None]:
        """The receiver's answer in the requester's version, and what that changed. An answer
        that cannot be translated keeps its body and says so in the record (the receiver has
        acted: the requester must still hear of it)."""
        source, destination = self.version_of_target(target), exchange.request.version
        if source == destination:
            return outcome, None
        kind = answer_kind(operation)
        if kind is None or not outcome.body:
            return outcome, loss_record(source, destination, ())
        context = TranslationContext(
            owner=target.party if source == V2_1_1 else None,
            token=await self._authorised_token(operation, target, source),
        )
        try:
            translated = translate_answer(kind, outcome.body, source, destination, context)
        except UntranslatableError as error:
            record = loss_record(source, destination, ())
            record["refused"] = f"{error.reason}: {error}"
            return outcome, record
        if translated is None:
            return outcome, loss_record(source, destination, ())
        return replace(outcome, body=translated.body), translated.record

    def stored(
        self, exchange: Exchange, operation: Operation, page: Page
    ) -> tuple[list[bytes], str | None]:
        """The hub store's documents (each as its owner pushed it, in the owner's version) in
        the requester's version; a document that cannot be translated is left out. The note
        says what that changed, for the Responded record (no leg carries these bodies)."""
        wanted = exchange.request.version
        kind = answer_kind(operation)
        documents: list[bytes] = []
        translated = losses = left_out = 0
        owners: list[PartyRef | None] = list(page.owners) or [None] * len(page.documents)
        # each document in the version its owner pushed it in (a store that does not say: the
        # version of the owner's connection)
        versions = page.versions or [self._version_of_party(owner) for owner in owners]
        for document, owner, source in zip(page.documents, owners, versions, strict=True):
            if kind is None or source == wanted or owner is None:
                documents.append(document)
                continue
            try:
                one = translate(
                    kind,
                    json_object(document) or {},
                    source,
                    wanted,
                    TranslationContext(owner=owner),
                )
            except UntranslatableError:
                left_out += 1
                continue
            translated += 1
            losses += len(one.losses)
            documents.append(dump_json(one.body))
        if not translated and not left_out:
            return documents, None
        note = f"{translated} stored object(s) translated to OCPI {wanted} ({losses} loss(es))"
        if left_out:
            note += f"; {left_out} left out: OCPI {wanted} cannot express them"
        return documents, note

    def stored_one(
        self,
        exchange: Exchange,
        operation: Operation,
        owner: PartyRef,
        document: bytes,
        source: str,
    ) -> tuple[bytes, dict[str, Any] | None]:
        """One object of the hub's store (as its owner pushed it, in OCPI `source`) in the
        requester's version, and the loss record (None: same version, sent as stored). Raises
        `TranslationRefused` when the requester's version cannot express it."""
        wanted = exchange.request.version
        kind = answer_kind(operation)
        if kind is None or source == wanted:
            return document, None
        try:
            one = translate(
                kind, json_object(document) or {}, source, wanted, TranslationContext(owner=owner)
            )
        except UntranslatableError as error:
            raise TranslationRefused(
                f"the hub's copy (OCPI {source}) cannot be expressed in OCPI {wanted}"
                f" ({error.reason}): {error}"
            ) from error
        return dump_json(one.body), loss_record(source, wanted, one.losses)

    def _version_of_party(self, party: PartyRef | None) -> str:
        """The version of the connection a party pushes through (hosted parties: 2.2.1)."""
        for route in self.table.routes_to(party) if party is not None else ():
            connection = self.table.connection(route.route_key)
            if connection is not None:
                return version_of(connection.version)
        return version_of(None)

    async def _authorised_token(
        self, operation: Operation, target: Target, source: str
    ) -> dict[str, Any] | None:
        """2.2.1 AuthorizationInfo requires the Token a 2.1.1 eMSP's answer lacks: the one the
        hub holds for the URL's uid and type, pushed by that eMSP (in 2.2.1 form)."""
        if operation.kind is not OperationKind.AUTHORIZE or not operation.token_uid:
            return None
        token_type = str(operation.token_type or "RFID")
        key = ObjectKey(str(ModuleId.TOKENS), target.party, operation.token_uid, token_type)
        stored = json_object(await self._store(self.objects.get, key))
        if stored is None or source != V2_1_1 or "country_code" in stored:
            return stored
        try:  # kept as its 2.1.1 owner pushed it
            return dict(
                translate(
                    ObjectKind.TOKEN, stored, V2_1_1, V2_2_1, TranslationContext(owner=target.party)
                ).body
            )
        except UntranslatableError:
            return None

    async def _context(
        self,
        exchange: Exchange,
        operation: Operation,
        kind: ObjectKind,
        target: Target,
        body: bytes,
    ) -> TranslationContext:
        source = exchange.request.version
        owner = exchange.from_party if source == V2_1_1 else None
        token_owner = target.party if source == V2_1_1 else None
        time_zone: str | None = None
        location: dict[str, Any] | None = None
        if source == V2_1_1 and kind is ObjectKind.LOCATION:
            stored = await self._stored_location(operation.owner, operation.location_id)
            zone = stored.get("time_zone") if stored else None
            time_zone = zone if isinstance(zone, str) else None
        if kind in (ObjectKind.SESSION, ObjectKind.CDR) and source != V2_1_1:
            # a CDR is POSTed with no owner in its URL: the CPO is the one sending it
            cpo = operation.owner or exchange.from_party
            location = await self._stored_location(cpo, _location_id(body))
        return TranslationContext(
            owner=owner,
            token_owner=token_owner,
            time_zone=time_zone,
            location=location,
            cdr_token=self._cdr_token(kind, source, target, body),
        )

    def _cdr_token(
        self, kind: ObjectKind, source: str, target: Target, body: bytes
    ) -> dict[str, str] | None:
        """A 2.1.1 session or CDR names its token by `auth_id` only; the receiving eMSP knows its
        tokens by uid and type: the token it pushed with that contract id, if it pushed one."""
        if source != V2_1_1 or kind not in (ObjectKind.SESSION, ObjectKind.CDR):
            return None
        auth_id = (json_object(body) or {}).get("auth_id")
        token = self.owners.contract_token(auth_id) if isinstance(auth_id, str) else None
        if token is None or token.owner != target.party:
            return None
        return {
            "country_code": token.owner.country_code,
            "party_id": token.owner.party_id,
            "uid": token.uid,
            "type": token.token_type,
            "contract_id": token.contract_id,
        }

    async def _stored_location(
        self, owner: PartyRef | None, location_id: str | None
    ) -> dict[str, Any] | None:
        if owner is None or not location_id:
            return None
        key = ObjectKey(str(ModuleId.LOCATIONS), owner, location_id)
        return json_object(await self._store(self.objects.get, key))


def _versioned(module: str) -> bool:
    """An OCPI module of some version (a custom module is opaque: sent as it is)."""
    return any(module in modules for modules in MODULES_OF.values())


def _location_id(body: bytes) -> str | None:
    document = json_object(body) or {}
    location_id = document.get("location_id")
    if location_id is None and isinstance(document.get("cdr_location"), dict):
        location_id = document["cdr_location"].get("id")
    return location_id if isinstance(location_id, str) else None

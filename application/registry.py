"""The Registry bounded context: connections to other platforms and the parties behind them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.base import NotifyingApplication, last_position
from application.errors import ConnectionNotFoundError, PartyNotFoundError
from application.tokens import hash_token, new_token
from domain.connections import INITIATED_BY_PEER, INITIATED_BY_US, Connection, Leniency
from domain.errors import PartyAlreadyRegisteredError
from domain.parties import Party, party_aggregate_id
from domain.values import ConnectionStatus, PartyKey, Way
from domain.versions import check_proposal


class Registry(NotifyingApplication):
    """Use cases of connecting platforms and registering parties. Each returns the ledger position
    of what it saved, so a caller can wait for projections to catch up (read-your-writes)."""

    name = "registry"

    # ---- connections -------------------------------------------------------------------------

    def invite(
        self,
        label: str,
        leniency: Leniency = Leniency.LENIENT,
        version: str | None = None,
        role: str | None = None,
    ) -> tuple[UUID, str, int]:
        """Open a connection a peer registers on with Token A. Returns (id, token A, position).

        `version` proposes the OCPI version the peer must register in (any by default); a 2.1.1
        peer needs `role`, which its credentials do not carry. Raises VersionProposalError.
        """
        version, party_role = check_proposal(version, role)
        token_a = new_token()
        connection = Connection(
            label=label,
            initiated_by=INITIATED_BY_PEER,
            token_a_hash=hash_token(token_a),
            versions_url=None,
        )
        connection.set_leniency(leniency, "chosen at invitation")
        if version is not None:
            connection.propose_version(version, None if party_role is None else str(party_role))
        return connection.id, token_a, last_position(self.save(connection))

    def set_leniency(self, connection_id: UUID, leniency: Leniency, reason: str) -> int:
        """How the hub treats this peer's requests where they are sloppy (see `Leniency`)."""
        connection = self.get_connection(connection_id)
        connection.set_leniency(leniency, reason or f"set to {leniency} by the operator")
        return last_position(self.save(connection))

    def set_translation_policy(
        self, connection_id: UUID, refuse_losing: list[str], reason: str
    ) -> int:
        """Fields whose loss in a version translation makes the hub refuse the message."""
        connection = self.get_connection(connection_id)
        connection.set_translation_policy(
            refuse_losing, reason or "translation policy set by the operator"
        )
        return last_position(self.save(connection))

    def open_outbound(
        self, label: str, versions_url: str, version: str | None = None, role: str | None = None
    ) -> tuple[UUID, int]:
        """Open a connection we will register on the peer's side (proposal as in `invite`)."""
        version, party_role = check_proposal(version, role)
        connection = Connection(
            label=label, initiated_by=INITIATED_BY_US, token_a_hash=None, versions_url=versions_url
        )
        if version is not None:
            connection.propose_version(version, None if party_role is None else str(party_role))
        return connection.id, last_position(self.save(connection))

    def get_connection(self, connection_id: UUID) -> Connection:
        try:
            return self.repository.get(connection_id)
        except AggregateNotFoundError:
            raise ConnectionNotFoundError(f"no connection {connection_id}") from None

    def register_connection(
        self,
        connection_id: UUID,
        version: str,
        versions_url: str,
        endpoints: list[dict[str, str]],
        roles: list[dict[str, Any]],
        inbound_token_hash: str,
        outbound_token: str,
        outbound_token_encoding: str = "base64",
    ) -> tuple[list[dict[str, Any]], int]:
        """Complete a handshake: the connection and each role it carries, in one transaction.

        A role already owned by another connection (or hosted here) is refused and the refusal
        is recorded on this connection. Returns the refused roles with reasons, and the position.
        """
        connection = self.get_connection(connection_id)
        connection.register(
            version=version,
            versions_url=versions_url,
            endpoints=endpoints,
            roles=roles,
            inbound_token_hash=inbound_token_hash,
            outbound_token=outbound_token,
            outbound_token_encoding=outbound_token_encoding,
        )
        parties, refused = self._attach_roles(connection, roles)
        return refused, last_position(self.save(connection, *parties))

    def update_credentials(
        self,
        connection_id: UUID,
        version: str,
        endpoints: list[dict[str, str]],
        roles: list[dict[str, Any]],
        inbound_token_hash: str,
        outbound_token: str,
        initiated_by: str,
        versions_url: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        connection = self.get_connection(connection_id)
        connection.update_credentials(
            version=version,
            endpoints=endpoints,
            roles=roles,
            inbound_token_hash=inbound_token_hash,
            outbound_token=outbound_token,
            initiated_by=initiated_by,
            versions_url=versions_url,
        )
        parties, refused = self._attach_roles(connection, roles)
        dropped = self._detach_missing_roles(connection, roles, "role no longer in credentials")
        return refused, last_position(self.save(connection, *parties, *dropped))

    def start_handshake(
        self,
        connection_id: UUID,
        purpose: str,
        versions_url: str,
        pending_inbound_token_hash: str,
    ) -> int:
        """Record that we are sending our credentials; the pending token is accepted from now."""
        connection = self.get_connection(connection_id)
        connection.start_handshake(purpose, versions_url, pending_inbound_token_hash)
        return last_position(self.save(connection))

    def conflicting_roles(
        self, connection_id: UUID, roles: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The roles that another connection (or this node) already owns, each with a reason."""
        conflicts = []
        for role in roles:
            key = PartyKey(role["country_code"], role["party_id"], role["role"])
            try:
                party = self.get_party(key)
            except PartyNotFoundError:
                continue
            owner = party.owning_route
            if owner is not None and owner != str(connection_id):
                where = "hosted on this node" if owner == Way.LOCAL else f"registered on {owner}"
                conflicts.append({**role, "reason": f"party {key} is already {where}"})
        return conflicts

    def refuse_registration(
        self, connection_id: UUID, refused: list[dict[str, Any]], reason: str, status_code: int
    ) -> int:
        """A handshake refused because of its roles: each refusal and the failure, atomically."""
        connection = self.get_connection(connection_id)
        for role in refused:
            key = PartyKey(role["country_code"], role["party_id"], role["role"])
            connection.refuse_party(
                key.country_code, key.party_id, str(key.role), str(role.get("reason", reason))
            )
        connection.fail_handshake(reason=reason, status_code=status_code)
        return last_position(self.save(connection))

    def fail_handshake(self, connection_id: UUID, reason: str, status_code: int) -> int:
        connection = self.get_connection(connection_id)
        connection.fail_handshake(reason=reason, status_code=status_code)
        return last_position(self.save(connection))

    def suspend_connection(self, connection_id: UUID, reason: str) -> int:
        connection = self.get_connection(connection_id)
        connection.suspend(reason)
        parties = self._set_route_status(connection, ConnectionStatus.SUSPENDED, reason)
        return last_position(self.save(connection, *parties))

    def reactivate_connection(self, connection_id: UUID, reason: str) -> int:
        connection = self.get_connection(connection_id)
        connection.reactivate(reason)
        parties = self._set_route_status(connection, ConnectionStatus.CONNECTED, reason)
        return last_position(self.save(connection, *parties))

    def mark_connection_offline(self, connection_id: UUID, reason: str) -> int:
        connection = self.get_connection(connection_id)
        connection.mark_offline(reason)
        if connection.status is not ConnectionStatus.OFFLINE:
            return 0
        parties = self._set_route_status(connection, ConnectionStatus.OFFLINE, reason)
        return last_position(self.save(connection, *parties))

    def mark_connection_online(self, connection_id: UUID, reason: str) -> int:
        connection = self.get_connection(connection_id)
        was_offline = connection.status is ConnectionStatus.OFFLINE
        connection.mark_online(reason)
        if not was_offline:
            return 0
        parties = self._set_route_status(connection, ConnectionStatus.CONNECTED, reason)
        return last_position(self.save(connection, *parties))

    def unregister_connection(self, connection_id: UUID, initiated_by: str, reason: str) -> int:
        connection = self.get_connection(connection_id)
        parties = self._set_route_status(connection, ConnectionStatus.SUSPENDED, reason)
        connection.unregister(initiated_by=initiated_by, reason=reason)
        for party in parties:
            party.remove_route(str(connection.id), reason)
        return last_position(self.save(connection, *parties))

    # ---- parties -----------------------------------------------------------------------------

    def get_party(self, key: PartyKey) -> Party:
        try:
            return self.repository.get(party_aggregate_id(key))
        except AggregateNotFoundError:
            raise PartyNotFoundError(f"no party {key}") from None

    def register_local_party(
        self, key: PartyKey, business_details: dict[str, Any], backend_url: str | None
    ) -> int:
        """Host a party on this node; its backend (if any) receives the traffic addressed to it."""
        party = self._load_or_create_party(key, business_details)
        party.update_details(business_details)
        party.add_route(Way.LOCAL, Way.LOCAL, ConnectionStatus.CONNECTED, backend_url=backend_url)
        return last_position(self.save(party))

    def learn_party_via_hub(
        self,
        hub_connection_id: UUID,
        key: PartyKey,
        status: ConnectionStatus,
        reason: str = "hub client info",
    ) -> int:
        """A hub told us (ClientInfo) that a party is reachable through it, with a status."""
        party = self._load_or_create_party(key, {"name": str(key.ref)})
        route_key = str(hub_connection_id)
        if route_key in party.routes:
            party.change_route_status(route_key, status, reason)
        else:
            party.add_route(route_key, Way.HUB, status)
        recordings = self.save(party)
        return last_position(recordings)

    # ---- helpers -----------------------------------------------------------------------------

    def _load_or_create_party(self, key: PartyKey, business_details: dict[str, Any]) -> Party:
        try:
            return self.repository.get(party_aggregate_id(key))
        except AggregateNotFoundError:
            return Party(
                country_code=key.country_code,
                party_id=key.party_id,
                role=str(key.role),
                business_details=business_details,
            )

    def _attach_roles(
        self, connection: Connection, roles: list[dict[str, Any]]
    ) -> tuple[list[Party], list[dict[str, Any]]]:
        parties: list[Party] = []
        refused: list[dict[str, Any]] = []
        for role in roles:
            key = PartyKey(role["country_code"], role["party_id"], role["role"])
            details = role.get("business_details") or {}
            party = self._load_or_create_party(key, details)
            try:
                party.add_route(str(connection.id), Way.DIRECT, connection.status)
            except PartyAlreadyRegisteredError as error:
                connection.refuse_party(key.country_code, key.party_id, str(key.role), str(error))
                refused.append({**role, "reason": str(error)})
                continue
            party.update_details(details)
            parties.append(party)
        return parties, refused

    def _parties_on(self, connection: Connection) -> list[Party]:
        parties = []
        for role in connection.roles:
            key = PartyKey(role["country_code"], role["party_id"], role["role"])
            try:
                party = self.get_party(key)
            except PartyNotFoundError:
                continue
            if str(connection.id) in party.routes:
                parties.append(party)
        return parties

    def _set_route_status(
        self, connection: Connection, status: ConnectionStatus, reason: str
    ) -> list[Party]:
        parties = self._parties_on(connection)
        for party in parties:
            party.change_route_status(str(connection.id), status, reason)
        return parties

    def _detach_missing_roles(
        self, connection: Connection, roles: list[dict[str, Any]], reason: str
    ) -> list[Party]:
        wanted = {PartyKey(r["country_code"], r["party_id"], r["role"]) for r in roles}
        dropped = []
        for party in self._all_parties_routed_via(connection):
            if party.key not in wanted:
                party.remove_route(str(connection.id), reason)
                dropped.append(party)
        return dropped

    def _all_parties_routed_via(self, connection: Connection) -> list[Party]:
        # Roles before the update are in the previous Registered/CredentialsUpdated event; the
        # aggregate keeps only the latest list, so look up through past events.
        keys: set[PartyKey] = set()
        for stored in self.repository.event_store.get(connection.id):
            for role in getattr(stored, "roles", None) or []:
                keys.add(PartyKey(role["country_code"], role["party_id"], role["role"]))
        parties = []
        for key in keys:
            try:
                party = self.get_party(key)
            except PartyNotFoundError:
                continue
            if str(connection.id) in party.routes:
                parties.append(party)
        return parties

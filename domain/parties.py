"""The Party aggregate: one OCPI role of one company, and the routes by which we reach it."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import PartyAlreadyRegisteredError
from domain.values import ConnectionStatus, PartyKey, Role, Way

_STATUS_PREFERENCE = (
    ConnectionStatus.CONNECTED,
    ConnectionStatus.OFFLINE,
    ConnectionStatus.PLANNED,
    ConnectionStatus.SUSPENDED,
)


def party_aggregate_id(key: PartyKey) -> UUID:
    name = f"/ocpi-ledger/parties/{key.country_code}/{key.party_id}/{key.role}"
    return uuid5(NAMESPACE_URL, name)


class Party(Aggregate):
    """A party (country_code, party_id, role) and every route that reaches it.

    A route is keyed by the connection it runs over (or `Way.LOCAL`); its kind is a `Way`. A
    party has at most one route that *owns* it (a direct credentials registration or local
    hosting); routes learned from a hub's client info are additional and never conflict.
    """

    class_version = 1

    @staticmethod
    def create_id(country_code: str, party_id: str, role: str, **_: Any) -> UUID:
        return party_aggregate_id(PartyKey(country_code, party_id, Role(role)))

    class Registered(Aggregate.Created):
        country_code: str
        party_id: str
        role: str
        business_details: dict[str, Any]

    @event(Registered)
    def __init__(
        self,
        country_code: str,
        party_id: str,
        role: str,
        business_details: dict[str, Any],
    ) -> None:
        self.country_code = country_code
        self.party_id = party_id
        self.role = role
        self.business_details = business_details
        self.routes: dict[str, dict[str, Any]] = {}

    @property
    def key(self) -> PartyKey:
        return PartyKey(self.country_code, self.party_id, Role(self.role))

    @property
    def owning_route(self) -> str | None:
        for route_key, route in self.routes.items():
            if route["kind"] in (Way.DIRECT, Way.LOCAL):
                return route_key
        return None

    @property
    def status(self) -> ConnectionStatus:
        """The best status over all routes: what hub client info reports for this party."""
        statuses = {ConnectionStatus(route["status"]) for route in self.routes.values()}
        for status in _STATUS_PREFERENCE:
            if status in statuses:
                return status
        return ConnectionStatus.SUSPENDED

    def add_route(
        self,
        route_key: str,
        kind: Way,
        status: ConnectionStatus,
        backend_url: str | None = None,
    ) -> None:
        owner = self.owning_route
        if kind in (Way.DIRECT, Way.LOCAL) and owner is not None and owner != route_key:
            where = (
                "hosted on this node" if owner == Way.LOCAL else f"registered on connection {owner}"
            )
            raise PartyAlreadyRegisteredError(f"party {self.key} is already {where}")
        existing = self.routes.get(route_key)
        if (
            existing is not None
            and existing["kind"] == kind
            and existing["status"] == status
            and existing.get("backend_url") == backend_url
        ):
            return
        self._route_added(
            route_key=str(route_key), kind=str(kind), status=str(status), backend_url=backend_url
        )

    class RouteAdded(Aggregate.Event):
        route_key: str
        kind: str
        status: str
        backend_url: str | None

    @event(RouteAdded)
    def _route_added(self, route_key: str, kind: str, status: str, backend_url: str | None) -> None:
        self.routes[route_key] = {"kind": kind, "status": status, "backend_url": backend_url}

    def change_route_status(self, route_key: str, status: ConnectionStatus, reason: str) -> None:
        route = self.routes.get(route_key)
        if route is None or route["status"] == status:
            return
        self._route_status_changed(route_key=route_key, status=str(status), reason=reason)

    class RouteStatusChanged(Aggregate.Event):
        route_key: str
        status: str
        reason: str

    @event(RouteStatusChanged)
    def _route_status_changed(self, route_key: str, status: str, reason: str) -> None:
        self.routes[route_key]["status"] = status

    def remove_route(self, route_key: str, reason: str) -> None:
        if route_key in self.routes:
            self._route_removed(route_key=route_key, reason=reason)

    class RouteRemoved(Aggregate.Event):
        route_key: str
        reason: str

    @event(RouteRemoved)
    def _route_removed(self, route_key: str, reason: str) -> None:
        del self.routes[route_key]

    def update_details(self, business_details: dict[str, Any]) -> None:
        if business_details != self.business_details:
            self._details_updated(business_details=business_details)

    class DetailsUpdated(Aggregate.Event):
        business_details: dict[str, Any]

    @event(DetailsUpdated)
    def _details_updated(self, business_details: dict[str, Any]) -> None:
        self.business_details = business_details

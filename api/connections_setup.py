"""Start-up hook of the connections context: handshakes, client-info pushes, still-alive checks."""

from __future__ import annotations

from typing import Any

from api.node import Node
from application.credentials import Handshakes
from application.health import HealthChecker
from application.hub_client_info import HubClientInfoNotifier
from domain.values import Role, Way
from infrastructure.followers import BackgroundLoop, SqlPositionStore
from infrastructure.ocpi_client import HttpPeerClient


def own_roles(node: Node) -> list[dict[str, Any]]:
    """Our CredentialsRoles. A hub reports only itself as HUB (digest §4.1); a platform its
    hosted parties, or (hosting none yet) its own party as OTHER, since roles may not be empty."""
    party = node.settings.party
    if not node.settings.is_hub:
        hosted = [p for p in node.routing_table.parties() if Way.LOCAL in p.routes]
        if hosted:
            return [
                {
                    "role": str(p.key.role),
                    "party_id": p.key.party_id,
                    "country_code": p.key.country_code,
                    "business_details": p.business_details or {"name": str(p.key.ref)},
                }
                for p in sorted(hosted, key=lambda p: p.key)
            ]
    role = Role.HUB if node.settings.is_hub else Role.OTHER
    return [
        {
            "role": str(role),
            "party_id": party.party_id,
            "country_code": party.country_code,
            "business_details": {"name": f"ocpi-ledger {node.settings.mode} {party}"},
        }
    ]


def reachable_roles(node: Node, exclude_connection: str | None) -> list[dict[str, Any]]:
    """The parties reachable through this hub but not over `exclude_connection`: what a hub's
    2.3.0 credentials list in `roles` (2.3.0 credentials, Roaming Hubs; versions digest §10)."""
    reachable = []
    for party in sorted(node.routing_table.parties(), key=lambda p: p.key):
        if party.key.role is Role.HUB or not party.routes:
            continue
        if exclude_connection is not None and set(party.routes) == {exclude_connection}:
            continue
        reachable.append(
            {
                "role": str(party.key.role),
                "party_id": party.key.party_id,
                "country_code": party.key.country_code,
                "business_details": party.business_details or {"name": str(party.key.ref)},
            }
        )
    return reachable


def install_connections(node: Node) -> None:
    peers = HttpPeerClient(timeout=node.settings.forward_timeout, ca_bundle=node.settings.ca_bundle)
    node.services.peer_client = peers
    node.services.handshakes = Handshakes(
        node.registry,
        peers,
        lambda: own_roles(node),
        node.versions_url,
        node.wait_for_registry,
        reachable_roles=lambda excluded: reachable_roles(node, excluded),
    )
    if node.settings.is_hub:
        positions = SqlPositionStore(node.store.registry_db)
        notifier = HubClientInfoNotifier(
            node.registry,
            node.routing_table,
            positions,
            peers,
            lambda position: node.projection_runner("routing_table_memory").wait(position, 10.0),
        )
        node.services.hubclientinfo_notifier = notifier
        loop = BackgroundLoop(
            notifier.name, notifier.step, position=lambda: positions.get(notifier.name)
        )
        node.add_runner(loop, node.registry)  # type: ignore[arg-type]
    interval = node.settings.health_check_interval
    checker = HealthChecker(node.registry, node.routing_table, peers, interval)
    node.services.health_checker = checker

    def check() -> int:
        checker.check_once()
        return 0

    # Not a save listener: registry saves are no reason to probe peers.
    node.runners["health_check"] = BackgroundLoop(
        "health_check", check, idle=max(0.05, min(interval / 4, 5.0))
    )

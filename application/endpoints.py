"""Which OCPI module interfaces a node serves, by mode and hosted roles (version details)."""

from __future__ import annotations

from collections.abc import Iterable

from domain.values import FUNCTIONAL_MODULES, InterfaceRole, ModuleId, Role

# digest §0.2: the interface each role typically implements.
ROLE_INTERFACES: dict[Role, tuple[tuple[ModuleId, InterfaceRole], ...]] = {
    Role.CPO: (
        (ModuleId.LOCATIONS, InterfaceRole.SENDER),
        (ModuleId.SESSIONS, InterfaceRole.SENDER),
        (ModuleId.CDRS, InterfaceRole.SENDER),
        (ModuleId.TARIFFS, InterfaceRole.SENDER),
        (ModuleId.TOKENS, InterfaceRole.RECEIVER),
        (ModuleId.COMMANDS, InterfaceRole.RECEIVER),
        (ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER),
    ),
    Role.EMSP: (
        (ModuleId.LOCATIONS, InterfaceRole.RECEIVER),
        (ModuleId.SESSIONS, InterfaceRole.RECEIVER),
        (ModuleId.CDRS, InterfaceRole.RECEIVER),
        (ModuleId.TARIFFS, InterfaceRole.RECEIVER),
        (ModuleId.TOKENS, InterfaceRole.SENDER),
        (ModuleId.COMMANDS, InterfaceRole.SENDER),
    ),
    Role.NSP: (
        (ModuleId.LOCATIONS, InterfaceRole.RECEIVER),
        (ModuleId.TARIFFS, InterfaceRole.RECEIVER),
    ),
    Role.SCSP: (
        (ModuleId.SESSIONS, InterfaceRole.RECEIVER),
        (ModuleId.CHARGING_PROFILES, InterfaceRole.SENDER),
    ),
    Role.OTHER: (
        (ModuleId.LOCATIONS, InterfaceRole.RECEIVER),
        (ModuleId.TARIFFS, InterfaceRole.RECEIVER),
    ),
    # 2.3.0 terminology: a PTP receives what it prices and pays for and sends commands; its
    # payments interface is no ModuleId (2.3.0 only, versions digest §6).
    Role.PTP: (
        (ModuleId.LOCATIONS, InterfaceRole.RECEIVER),
        (ModuleId.SESSIONS, InterfaceRole.RECEIVER),
        (ModuleId.CDRS, InterfaceRole.RECEIVER),
        (ModuleId.TARIFFS, InterfaceRole.RECEIVER),
        (ModuleId.COMMANDS, InterfaceRole.SENDER),
    ),
    Role.NAP: (
        (ModuleId.LOCATIONS, InterfaceRole.SENDER),
        (ModuleId.LOCATIONS, InterfaceRole.RECEIVER),
        (ModuleId.TARIFFS, InterfaceRole.SENDER),
        (ModuleId.TARIFFS, InterfaceRole.RECEIVER),
    ),
}


def hub_interfaces() -> list[tuple[ModuleId, InterfaceRole]]:
    """A hub serves both interfaces of every functional module, plus hubclientinfo as Sender."""
    served = [(ModuleId.CREDENTIALS, InterfaceRole.SENDER)]
    served.append((ModuleId.HUB_CLIENT_INFO, InterfaceRole.SENDER))
    for module in sorted(FUNCTIONAL_MODULES):
        served.append((module, InterfaceRole.SENDER))
        served.append((module, InterfaceRole.RECEIVER))
    return served


def platform_interfaces(roles: Iterable[Role]) -> list[tuple[ModuleId, InterfaceRole]]:
    """A platform serves what its hosted roles implement, once per (module, interface)."""
    served: list[tuple[ModuleId, InterfaceRole]] = [(ModuleId.CREDENTIALS, InterfaceRole.SENDER)]
    served.append((ModuleId.HUB_CLIENT_INFO, InterfaceRole.RECEIVER))
    for role in roles:
        for interface in ROLE_INTERFACES.get(Role(role), ()):
            if interface not in served:
                served.append(interface)
    return served

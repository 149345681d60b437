"""The OCPI versions the node speaks, and what a connection's version decides before any message.

Version negotiation (docs/ocpi-versions-digest.md §10): the proposed version, else 2.2.1 when
both speak it, else the highest both offer. A 2.1.1 peer is one party whose role its credentials
do not carry: the invitation states it, and it decides which interfaces the hub lists for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.errors import DomainError
from domain.translation.losses import OcpiVersion
from domain.values import InterfaceRole, ModuleId, Role

V2_1_1 = str(OcpiVersion.V2_1_1)
V2_2_1 = str(OcpiVersion.V2_2_1)
V2_3_0 = str(OcpiVersion.V2_3_0)
SUPPORTED_VERSIONS: tuple[str, ...] = (V2_1_1, V2_2_1, V2_3_0)  # oldest first
ROLES_211 = (Role.CPO, Role.EMSP)
ROLES_NEW_IN_230 = frozenset({Role.PTP})
PAYMENTS = "payments"  # 2.3.0's new module: a chapter, not a ModuleID value (digest §1)

_SENDER, _RECEIVER = InterfaceRole.SENDER, InterfaceRole.RECEIVER
# What a 2.1.1 party of each role serves, in 2.2.1 interface terms (its version details say
# only the module): a CPO is the Sender of what it owns and receives tokens and commands; an
# eMSP the opposite, and its "commands" endpoint takes the asynchronous results.
_PARTY_INTERFACES_211: dict[Role, dict[ModuleId, InterfaceRole]] = {
    Role.CPO: {
        ModuleId.LOCATIONS: _SENDER,
        ModuleId.SESSIONS: _SENDER,
        ModuleId.CDRS: _SENDER,
        ModuleId.TARIFFS: _SENDER,
        ModuleId.TOKENS: _RECEIVER,
        ModuleId.COMMANDS: _RECEIVER,
    },
    Role.EMSP: {
        ModuleId.LOCATIONS: _RECEIVER,
        ModuleId.SESSIONS: _RECEIVER,
        ModuleId.CDRS: _RECEIVER,
        ModuleId.TARIFFS: _RECEIVER,
        ModuleId.TOKENS: _SENDER,
        ModuleId.COMMANDS: _SENDER,
    },
}


def version_has_role(version: str | None, role: Role) -> bool:
    """Whether a party of `role` can be named in OCPI `version` (None: 2.2.1, the node's own).

    PTP exists from 2.3.0 on; toward older peers such a party is not representable (digest §11)."""
    return role not in ROLES_NEW_IN_230 or version == V2_3_0


class VersionProposalError(DomainError):
    """An invitation or connect request whose OCPI version and role do not go together."""


class UnsupportedVersionError(DomainError):
    """No OCPI version both sides speak, or not the one that was proposed (OCPI 3002)."""


def check_proposal(version: str | None, role: str | None) -> tuple[str | None, Role | None]:
    """The (version, role) an invitation may propose; the role only for, and always for, 2.1.1."""
    if version is None:
        if role is not None:
            raise VersionProposalError(
                "role is only stated for an OCPI 2.1.1 peer; propose ocpi_version 2.1.1 with it"
            )
        return None, None
    if version not in SUPPORTED_VERSIONS:
        spoken = ", ".join(SUPPORTED_VERSIONS)
        raise VersionProposalError(
            f"ocpi_version {version!r} is not one this node speaks ({spoken})"
        )
    if version != V2_1_1:
        if role is not None:
            raise VersionProposalError(
                f"role is only stated for OCPI 2.1.1 peers: {version} credentials carry their roles"
            )
        return version, None
    allowed = " or ".join(str(r) for r in ROLES_211)
    if role is None:
        raise VersionProposalError(
            f"an OCPI 2.1.1 peer needs its role ({allowed}): 2.1.1 credentials do not carry it"
        )
    if role not in {str(r) for r in ROLES_211}:
        raise VersionProposalError(f"role {role!r}: an OCPI 2.1.1 peer is {allowed}")
    return version, Role(role)


def choose_version(offered: Iterable[str], proposed: str | None) -> str:
    """The version to speak with a peer offering `offered`: `proposed`; else 2.2.1, the node's
    own version, which carries every message untranslated; else the highest mutual one.

    Why not simply the highest: a peer offering 2.2.1 and 2.3.0 would otherwise be moved to the
    translated path (and a peering hub to 2.3.0's reading of `roles`) without anyone asking; the
    operator asks for 2.3.0 by proposing it (versions digest §10).
    """
    offered = set(offered)
    shown = ", ".join(sorted(offered)) or "none"
    if proposed is not None:
        if proposed not in offered:
            raise UnsupportedVersionError(
                f"the connection proposes OCPI {proposed}; the peer offers {shown}"
            )
        return proposed
    if V2_2_1 in offered:
        return V2_2_1
    mutual = [v for v in SUPPORTED_VERSIONS if v in offered]
    if not mutual:
        raise UnsupportedVersionError(
            f"no mutual version: the peer offers {shown};"
            f" this node speaks {', '.join(SUPPORTED_VERSIONS)}"
        )
    return mutual[-1]


def party_interface_211(role: Role, module: str) -> InterfaceRole | None:
    """The interface a 2.1.1 party of `role` serves at the `module` endpoint it lists."""
    for known, interface in _PARTY_INTERFACES_211.get(role, {}).items():
        if str(known) == module:
            return interface
    return None


def hub_interfaces_211(peer_role: Role) -> list[tuple[ModuleId, InterfaceRole]]:
    """The ONE interface per module the hub lists for a 2.1.1 peer: the one that peer calls.

    A CPO peer gets the eMSP side (it pushes to receivers, pulls tokens from a sender; its
    command results go to the `response_url` of each command, so no commands endpoint); an eMSP
    peer gets the CPO side.
    """
    if peer_role is Role.CPO:
        served = dict(_PARTY_INTERFACES_211[Role.EMSP])
        served.pop(ModuleId.COMMANDS)
    else:
        served = dict(_PARTY_INTERFACES_211[Role.CPO])
    return [(ModuleId.CREDENTIALS, _SENDER), *sorted(served.items())]

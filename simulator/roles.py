"""Which (module, interface role) each hosted role implements, and where they live.

URL layout: `{public_url}/ocpi/{role segment}/{version}/{module}`, so a dual-role platform hands out
distinct URLs for the Sender and the Receiver interface of one module. When two hosted roles
share an interface (an eMSP and an SCSP both take sessions as Receiver) they share one URL,
and the addressed party is picked by `OCPI-to-*`, as OCPI 2.2 multi-role platforms do.
"""

from __future__ import annotations

from simulator.config import SimConfig, SimParty
from simulator.envelope import functional_modules

SENDER = "SENDER"
RECEIVER = "RECEIVER"

ROLE_INTERFACES: dict[str, dict[str, str]] = {
    "CPO": {
        "locations": SENDER,
        "sessions": SENDER,
        "cdrs": SENDER,
        "tariffs": SENDER,
        "tokens": RECEIVER,
        "commands": RECEIVER,
        "chargingprofiles": RECEIVER,
    },
    "EMSP": {
        "locations": RECEIVER,
        "sessions": RECEIVER,
        "cdrs": RECEIVER,
        "tariffs": RECEIVER,
        "tokens": SENDER,
        "commands": SENDER,
    },
    "SCSP": {"chargingprofiles": SENDER, "sessions": RECEIVER},
    "NSP": {"locations": RECEIVER, "tariffs": RECEIVER},
    "HUB": {},
    "OTHER": {},
    "NAP": {},
    "PTP": {},  # 2.3.0's payment terminal provider: payments are no simulated module
}

# Order in which roles claim a shared URL; fixed so URLs do not depend on config order.
ROLE_ORDER = ("CPO", "EMSP", "SCSP", "NSP", "NAP", "OTHER", "PTP", "HUB")
SEGMENT_ROLES = {role.lower(): role for role in ROLE_ORDER}


def interface_of(role: str, module: str) -> str | None:
    return ROLE_INTERFACES.get(role, {}).get(module)


def implements(party: SimParty, module: str, interface: str) -> bool:
    return interface_of(party.role, module) == interface


def hosted_interfaces(config: SimConfig) -> dict[tuple[str, str], str]:
    """(module, interface role) -> URL segment of the role that publishes it."""
    hosted_roles = {p.role for p in config.parties}
    found: dict[tuple[str, str], str] = {}
    for role in ROLE_ORDER:
        if role not in hosted_roles:
            continue
        for module, interface in ROLE_INTERFACES[role].items():
            found.setdefault((module, interface), role.lower())
    return found


def version_endpoints(config: SimConfig, base_url: str) -> list[dict[str, str]]:
    version = config.ocpi_version
    modules = functional_modules(version)
    endpoints = [
        {
            "identifier": module,
            "role": interface,
            "url": f"{base_url}/ocpi/{segment}/{version}/{module}",
        }
        for (module, interface), segment in hosted_interfaces(config).items()
        if module in modules
    ]
    if config.mode == "platform":
        # d2 advice: publish credentials as SENDER (the value is meaningless)
        endpoints.append(
            {
                "identifier": "credentials",
                "role": SENDER,
                "url": f"{base_url}/ocpi/{version}/credentials",
            }
        )
        if version != "2.1.1" and any(p.role != "HUB" for p in config.parties):
            endpoints.append(
                {
                    "identifier": "hubclientinfo",
                    "role": RECEIVER,
                    "url": f"{base_url}/ocpi/{version}/hubclientinfo",
                }
            )
    if version == "2.1.1":
        # 2.1.1 Endpoint: identifier and url only (one party, one interface per module)
        return [{"identifier": e["identifier"], "url": e["url"]} for e in endpoints]
    return endpoints


def peer_interface_211(own_role: str, module: str) -> str:
    """The interface a 2.1.1 peer serves at its `module` endpoint: the counterpart of ours.

    2.1.1 version details say no interface; a CPO talks to eMSP-side endpoints and vice versa.
    """
    counterpart = "EMSP" if own_role == "CPO" else "CPO"
    if module == "credentials":
        return SENDER
    return ROLE_INTERFACES[counterpart].get(module, "")

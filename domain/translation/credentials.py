"""Credentials in OCPI 2.1.1, 2.2.1 and 2.3.0 (digest §3).

2.1.1 credentials carry one party and never its role (the role is known from the invitation:
`context.role`); 2.2.1 carries a list of roles, one of which may be the HUB; 2.3.0 has no HUB
role and names the hub in `hub_party_id` instead.
"""

from __future__ import annotations

from typing import Any

from domain.translation.common import V211, V221, V230
from domain.translation.engine import (
    ObjectRule,
    PairRules,
    Unrepresentable,
    Walk,
    derive,
    schema,
    values,
)

_CREDENTIALS_221 = schema("token str(64)!, url url!, roles CredentialsRole+")
_ROLE = schema(
    "role @Role!, business_details BusinessDetails!, party_id str(3)!, country_code str(2)!"
)

OBJECTS = {
    V211: {
        "Credentials": schema(
            """token str(64)!, url url!, business_details BusinessDetails!, party_id str(3)!,
            country_code str(2)!"""
        ),
    },
    V221: {"Credentials": _CREDENTIALS_221, "CredentialsRole": _ROLE},
    V230: {
        "Credentials": derive(_CREDENTIALS_221, add="hub_party_id str(5)?"),
        "CredentialsRole": _ROLE,
    },
}
_ROLES_SHARED = values("CPO EMSP NAP NSP OTHER SCSP")
# 2.3.0 drops HUB (a hub sets hub_party_id) and adds PTP, the payment terminal provider.
ENUMS = {V221: {"Role": _ROLES_SHARED | {"HUB"}}, V230: {"Role": _ROLES_SHARED | {"PTP"}}}

_PARTY_MEMBERS = ("business_details", "party_id", "country_code")


def _party_member_up(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """Collected into the one CredentialsRole (see `_roles_up`)."""


def _roles_up(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    role = walk.context.role
    if role is None:
        raise Unrepresentable(
            "roles", "role_unknown", "2.1.1 credentials do not say the party's role"
        )
    entry: dict[str, Any] = {"role": str(role)}
    for name in _PARTY_MEMBERS:
        if name in source:
            entry[name] = source[name]
    if isinstance(entry.get("business_details"), dict):
        entry["business_details"] = walk.object(
            "BusinessDetails", entry["business_details"], "business_details"
        )
    out["roles"] = [entry]
    walk.defaulted("roles[0].role", str(role))


def _roles_down(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """A 2.1.1 connection is one party: exactly one role can be said, and not which."""
    roles = value or []
    if len(roles) != 1:
        raise Unrepresentable(
            path,
            "several_roles",
            f"2.1.1 credentials carry one party, these carry {len(roles)} roles"
            " (a 2.1.1 peer needs one connection per role)",
        )
    entry = roles[0]
    for name, member in entry.items():
        at = f"{path}[0].{name}"
        if name == "business_details" and isinstance(member, dict):
            out[name] = walk.object("BusinessDetails", member, at)
        elif name in _PARTY_MEMBERS:
            out[name] = member
        else:
            walk.dropped(at, member)


def _hub_role_to_hub_party_id(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    """2.3.0 has no HUB role: a 2.2.1 HUB entry becomes `hub_party_id` (CC + PID)."""
    roles = []
    for position, entry in enumerate(value or []):
        if isinstance(entry, dict) and entry.get("role") == "HUB":
            hub = f"{entry.get('country_code', '')}{entry.get('party_id', '')}".upper()
            out["hub_party_id"] = hub
            walk.approximated(f"{path}[{position}]", entry, {"hub_party_id": hub})
        else:
            roles.append(walk.object("CredentialsRole", entry, f"{path}[{position}]"))
    if not roles:
        raise Unrepresentable(
            path, "no_role_left", "2.3.0 credentials need a role besides the hub's"
        )
    out["roles"] = roles


RULES = {
    (V211, V221): PairRules(
        objects={
            "Credentials": ObjectRule(
                fields={name: _party_member_up for name in _PARTY_MEMBERS}, finish=_roles_up
            )
        }
    ),
    (V221, V211): PairRules(objects={"Credentials": ObjectRule(fields={"roles": _roles_down})}),
    (V221, V230): PairRules(
        objects={"Credentials": ObjectRule(fields={"roles": _hub_role_to_hub_party_id})}
    ),
    (V230, V221): PairRules(),
}

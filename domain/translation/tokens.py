"""Tokens and real-time authorisation in OCPI 2.1.1, 2.2.1 and 2.3.0 (digest §5.4)."""

from __future__ import annotations

from typing import Any

from domain.translation.common import V211, V221, V230, owner_finish
from domain.translation.engine import ObjectRule, PairRules, Walk, rename, schema, values

_TOKEN_211 = schema(
    """uid str(36)!, type @TokenType!, auth_id str(36)!, visual_number str(64)?,
    issuer str(64)!, valid bool!, whitelist @WhitelistType!, language str(2)?, last_updated dt!"""
)
_TOKEN_221 = schema(
    """country_code str(2)!, party_id str(3)!, uid str(36)!, type @TokenType!,
    contract_id str(36)!, visual_number str(64)?, issuer str(64)!, group_id str(36)?,
    valid bool!, whitelist @WhitelistType!, language str(2)?, default_profile_type @ProfileType?,
    energy_contract EnergyContract?, last_updated dt!"""
)
_LOCATION_REFERENCES_221 = schema("location_id str(36)!, evse_uids str(36)*")

OBJECTS = {
    V211: {
        "Token": _TOKEN_211,
        "AuthorizationInfo": schema(
            "allowed @AllowedType!, location LocationReferences?, info DisplayText?"
        ),
        "LocationReferences": schema(
            "location_id str(39)!, evse_uids str(39)*, connector_ids str(36)*"
        ),
    },
    V221: {
        "Token": _TOKEN_221,
        "EnergyContract": schema("supplier_name str(64)!, contract_id str(64)?"),
        "AuthorizationInfo": schema(
            """allowed @AllowedType!, token Token!, location LocationReferences?,
            authorization_reference str(36)?, info DisplayText?"""
        ),
        "LocationReferences": _LOCATION_REFERENCES_221,
    },
}
OBJECTS[V230] = dict(OBJECTS[V221])

_TOKEN_TYPES_211 = values("OTHER RFID")
_SHARED = {
    "WhitelistType": values("ALWAYS ALLOWED ALLOWED_OFFLINE NEVER"),
    # 2.1.1 calls it Allowed, 2.2.1 AllowedType: same five values
    "AllowedType": values("ALLOWED BLOCKED EXPIRED NO_CREDIT NOT_ALLOWED"),
}
ENUMS = {
    V211: {**_SHARED, "TokenType": _TOKEN_TYPES_211},
    V221: {
        **_SHARED,
        "TokenType": _TOKEN_TYPES_211 | values("AD_HOC_USER APP_USER"),
        "ProfileType": values("CHEAP FAST GREEN REGULAR"),
    },
}
ENUMS[V230] = {
    **ENUMS[V221],
    "TokenType": ENUMS[V221]["TokenType"] | values("EMAID"),
}
OPEN_ENUMS_230 = values("TokenType")


def _token_of_authorization(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    walk.dropped(path, value)  # 2.1.1 AuthorizationInfo does not repeat the token


def _authorization_up_finish(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    """2.2.1 requires the authorised Token in the answer; 2.1.1 eMSPs do not send it. The hub's
    token store provides it (`context.token`); without it the answer cannot be translated."""
    token = walk.context.token
    if "token" not in out and token is not None:
        out["token"] = dict(token)
        walk.defaulted(f"{path}.token" if path else "token", dict(token))


# A token type 2.1.1 lacks is closest to OTHER (2.1.1's "other type of token").
_TOKEN_TYPE_DOWN = {"AD_HOC_USER": "OTHER", "APP_USER": "OTHER"}

RULES = {
    (V211, V221): PairRules(
        objects={
            "Token": ObjectRule(fields={"auth_id": rename("contract_id")}, finish=owner_finish),
            "AuthorizationInfo": ObjectRule(finish=_authorization_up_finish),
        }
    ),
    (V221, V211): PairRules(
        objects={
            "Token": ObjectRule(fields={"contract_id": rename("auth_id")}),
            "AuthorizationInfo": ObjectRule(fields={"token": _token_of_authorization}),
        },
        enum_maps={"TokenType": _TOKEN_TYPE_DOWN},
    ),
    (V221, V230): PairRules(),
    (V230, V221): PairRules(enum_maps={"TokenType": {"*": "OTHER"}}),
}

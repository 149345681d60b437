"""Charging sessions in OCPI 2.1.1, 2.2.1 and 2.3.0 (digest §5.5).

2.1.1 sessions name their token by `auth_id` and embed the Location (with only the EVSE and
connector used); 2.2.1 names the token by `cdr_token` and the place by three ids. Both directions
need the hub's knowledge: the token index (`context.cdr_token` / `context.token_owner`) going up,
the stored Location (`context.location`) going down.
"""

from __future__ import annotations

from typing import Any

from domain.translation.common import (
    V211,
    V221,
    V230,
    number_to_price,
    owner_finish,
    price_to_number,
    same_id,
)
from domain.translation.engine import (
    ObjectRule,
    PairRules,
    Unrepresentable,
    Walk,
    rename,
    schema,
    values,
)

OBJECTS = {
    V211: {
        "Session": schema(
            """id str(36)!, start_datetime dt!, end_datetime dt?, kwh num!, auth_id str(36)!,
            auth_method @AuthMethod!, location Location!, meter_id str(255)?, currency str(3)!,
            charging_periods ChargingPeriod*, total_cost num?, status @SessionStatus!,
            last_updated dt!"""
        ),
    },
    V221: {
        "Session": schema(
            """country_code str(2)!, party_id str(3)!, id str(36)!, start_date_time dt!,
            end_date_time dt?, kwh num!, cdr_token CdrToken!, auth_method @AuthMethod!,
            authorization_reference str(36)?, location_id str(36)!, evse_uid str(36)!,
            connector_id str(36)!, meter_id str(255)?, currency str(3)!,
            charging_periods ChargingPeriod*, total_cost Price?, status @SessionStatus!,
            last_updated dt!"""
        ),
        "CdrToken": schema(
            """country_code str(2)!, party_id str(3)!, uid str(36)!, type @TokenType!,
            contract_id str(36)!"""
        ),
    },
}
OBJECTS[V230] = dict(OBJECTS[V221])

ENUMS = {
    V211: {"SessionStatus": values("ACTIVE COMPLETED INVALID PENDING")},
    V221: {"SessionStatus": values("ACTIVE COMPLETED INVALID PENDING RESERVATION")},
    V230: {"SessionStatus": values("ACTIVE COMPLETED INVALID PENDING RESERVATION")},
}


def auth_id_to_cdr_token(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    """The token index knows the token behind a 2.1.1 `auth_id` (`context.cdr_token`); else the
    CdrToken is built from what is known: uid = contract_id = auth_id, type OTHER, owner = the eMSP
    the hub routes to (`context.token_owner`). Either way the identity is inferred: approximated."""
    known = walk.context.cdr_token
    if known is not None:
        token = dict(known)
    elif walk.context.token_owner is not None:
        owner = walk.context.token_owner
        token = {
            "country_code": owner.country_code,
            "party_id": owner.party_id,
            "uid": value,
            "type": "OTHER",
            "contract_id": value,
        }
    else:
        raise Unrepresentable(
            path, "token_unknown", f"no token is known for auth_id {value!r} and no owner is given"
        )
    out["cdr_token"] = token
    walk.approximated(path, value, token)


def cdr_token_to_auth_id(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    """2.1.1 knows a token by its auth_id, the 2.2.1 contract_id; the rest is not carried."""
    if not isinstance(value, dict):
        raise Unrepresentable(path, "not_an_object", "cdr_token is not an object")
    for name, member in value.items():
        if name == "contract_id":
            out["auth_id"] = member
        else:
            walk.dropped(f"{path}.{name}", member)


def _location_to_ids(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """2.1.1 embeds the Location with only the EVSE and connector used; 2.2.1 keeps their ids."""
    try:
        evse = value["evses"][0]
        ids = {
            "location_id": value["id"],
            "evse_uid": evse["uid"],
            "connector_id": evse["connectors"][0]["id"],
        }
    except (KeyError, IndexError, TypeError):
        raise Unrepresentable(
            path, "location_incomplete", "the embedded location names no EVSE and connector"
        ) from None
    for name, text in ids.items():
        if not isinstance(text, str) or len(text) > 36:
            raise Unrepresentable(path, "too_long", f"{name} {text!r} is not a CiString(36)")
    out.update(ids)
    walk.approximated(path, value, ids)


def embedded_location(
    walk: Walk, location_id: Any, evse_uid: Any, connector_id: Any, path: str
) -> dict[str, Any]:
    """The hub's stored Location (`context.location`, 2.2.1 or 2.3.0 shape) cut to the EVSE and
    connector used, in 2.1.1 shape. Its own translation losses belong to the Location, not here."""
    stored = walk.context.location
    if not isinstance(stored, dict) or not same_id(stored.get("id"), location_id):
        raise Unrepresentable(
            path, "location_unknown", f"2.1.1 embeds the location; {location_id!r} is not known"
        )
    evses = [
        {
            **evse,
            "connectors": [
                connector
                for connector in evse.get("connectors") or []
                if same_id(connector.get("id"), connector_id)
            ],
        }
        for evse in stored.get("evses") or []
        if same_id(evse.get("uid"), evse_uid)
    ]
    used = {**stored, "evses": evses}
    sub = Walk(walk.source, walk.target, walk.rules, walk.context)
    location: dict[str, Any] = sub.run("Location", used)
    kept = location.get("evses") or []
    if not kept or not kept[0].get("connectors"):
        raise Unrepresentable(
            path,
            "connector_unknown",
            f"EVSE {evse_uid!r} connector {connector_id!r} is not in the stored location"
            " or has no 2.1.1 form",
        )
    return location


def _ids_to_location(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    out["location"] = embedded_location(
        walk, value, source.get("evse_uid"), source.get("connector_id"), path
    )


def _carried_with_location(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    """evse_uid and connector_id travel inside the embedded location (see location_id)."""


RULES = {
    (V211, V221): PairRules(
        objects={
            "Session": ObjectRule(
                fields={
                    "start_datetime": rename("start_date_time"),
                    "end_datetime": rename("end_date_time"),
                    "auth_id": auth_id_to_cdr_token,
                    "location": _location_to_ids,
                    "total_cost": number_to_price,
                },
                finish=owner_finish,
            )
        }
    ),
    (V221, V211): PairRules(
        objects={
            "Session": ObjectRule(
                fields={
                    "start_date_time": rename("start_datetime"),
                    "end_date_time": rename("end_datetime"),
                    "cdr_token": cdr_token_to_auth_id,
                    "location_id": _ids_to_location,
                    "evse_uid": _carried_with_location,
                    "connector_id": _carried_with_location,
                    "total_cost": price_to_number,
                }
            )
        },
        enum_maps={
            "SessionStatus": {"RESERVATION": "PENDING"},  # a reserved session has not started
            "AuthMethod": {"COMMAND": "AUTH_REQUEST"},  # a remote start was authorised online
        },
    ),
    (V221, V230): PairRules(),
    (V230, V221): PairRules(),
}

"""Commands and their results in OCPI 2.1.1, 2.2.1 and 2.3.0 (digest §5.7).

Object names: `CommandResponse` is the CPO's synchronous answer; `CommandResult` the asynchronous
result POSTed to `response_url` (2.1.1 posts a CommandResponse there: same name, our
`CommandResult` for 2.1.1 is that body). `response_url` is copied: replacing it is the router's job.
"""

from __future__ import annotations

import re
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

_START_211 = schema("response_url url!, token Token!, location_id str(39)!, evse_uid str(39)?")
_RESERVE_211 = schema(
    """response_url url!, token Token!, expiry_date dt!, reservation_id int!,
    location_id str(39)!, evse_uid str(39)?"""
)
_UNLOCK_211 = schema(
    "response_url url!, location_id str(39)!, evse_uid str(39)!, connector_id str(36)!"
)
_STOP = schema("response_url url!, session_id str(36)!")

OBJECTS = {
    V211: {
        "StartSession": _START_211,
        "StopSession": _STOP,
        "ReserveNow": _RESERVE_211,
        "UnlockConnector": _UNLOCK_211,
        "CommandResponse": schema("result @CommandResponseType!"),
        "CommandResult": schema("result @CommandResponseType!"),
    },
    V221: {
        "StartSession": derive(
            _START_211,
            add="""location_id str(36)!, evse_uid str(36)?, connector_id str(36)?,
            authorization_reference str(36)?""",
        ),
        "StopSession": _STOP,
        "ReserveNow": derive(
            _RESERVE_211,
            add="""reservation_id str(36)!, location_id str(36)!, evse_uid str(36)?,
            authorization_reference str(36)?""",
        ),
        "CancelReservation": schema("response_url url!, reservation_id str(36)!"),
        "UnlockConnector": schema(
            "response_url url!, location_id str(36)!, evse_uid str(36)!, connector_id str(36)!"
        ),
        "CommandResponse": schema(
            "result @CommandResponseType!, timeout int!, message DisplayText*"
        ),
        "CommandResult": schema("result @CommandResultType!, message DisplayText*"),
    },
}
OBJECTS[V230] = dict(OBJECTS[V221])

_RESPONSES_221 = values("NOT_SUPPORTED REJECTED ACCEPTED UNKNOWN_SESSION")
_RESULTS_221 = values(
    """ACCEPTED CANCELED_RESERVATION EVSE_OCCUPIED EVSE_INOPERATIVE FAILED NOT_SUPPORTED
    REJECTED TIMEOUT UNKNOWN_RESERVATION"""
)
ENUMS = {
    V211: {"CommandResponseType": _RESPONSES_221 | {"TIMEOUT"}},
    V221: {"CommandResponseType": _RESPONSES_221, "CommandResultType": _RESULTS_221},
    V230: {"CommandResponseType": _RESPONSES_221, "CommandResultType": _RESULTS_221},
}

_CANONICAL_INT = re.compile(r"^(0|[1-9][0-9]{0,8})$")


def _reservation_id_up(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    out["reservation_id"] = str(value) if isinstance(value, int) else value


def _reservation_id_down(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    """2.1.1 reservation ids are ints. A decimal id is carried as its number; any other id needs
    the int the hub allocated for it (`context.reservation_id`)."""
    if isinstance(value, str) and _CANONICAL_INT.match(value):
        out["reservation_id"] = int(value)
    elif walk.context.reservation_id is not None:
        out["reservation_id"] = walk.context.reservation_id
        walk.approximated(path, value, walk.context.reservation_id)
    else:
        raise Unrepresentable(
            path, "reservation_id_not_int", f"reservation id {value!r} has no 2.1.1 int"
        )


def _timeout_default(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    """2.2.1 answers say how long the CPO will wait for the charge point; 2.1.1 ones do not."""
    if "timeout" not in out:
        out["timeout"] = walk.context.command_timeout
        walk.defaulted(f"{path}.timeout" if path else "timeout", walk.context.command_timeout)


RULES = {
    (V211, V221): PairRules(
        objects={
            "ReserveNow": ObjectRule(fields={"reservation_id": _reservation_id_up}),
            "CommandResponse": ObjectRule(finish=_timeout_default),
        },
        enum_maps={
            # sync TIMEOUT moved to the async result in 2.2; the CPO did not accept the command
            # in time. An async UNKNOWN_SESSION is a failure to execute it.
            "CommandResponseType": {"TIMEOUT": "REJECTED", "UNKNOWN_SESSION": "FAILED"},
        },
    ),
    (V221, V211): PairRules(
        objects={"ReserveNow": ObjectRule(fields={"reservation_id": _reservation_id_down})},
        enum_maps={
            "CommandResultType": {
                "CANCELED_RESERVATION": "REJECTED",
                "EVSE_OCCUPIED": "REJECTED",
                "EVSE_INOPERATIVE": "REJECTED",
                "FAILED": "REJECTED",
                "UNKNOWN_RESERVATION": "REJECTED",
            }
        },
    ),
    (V221, V230): PairRules(),
    (V230, V221): PairRules(),
}

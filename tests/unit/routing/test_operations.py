"""Every URL form of digest §6, and the ones OCPI does not define."""

from __future__ import annotations

import pytest

from domain.errors import DomainError, InvalidOperationError
from domain.operations import CommandType, Operation, OperationKind, TokenType, parse_operation
from domain.values import InterfaceRole, ModuleId, PartyRef

S = InterfaceRole.SENDER
R = InterfaceRole.RECEIVER
K = OperationKind
NL_TNM = PartyRef("NL", "TNM")

# fmt: off
VALID = [
    # module, interface, method, path, query, expected fields
    (ModuleId.LOCATIONS, S, "GET", "", "limit=9", {"kind": K.PULL_LIST, "paginated": True}),
    (ModuleId.LOCATIONS, S, "GET", "/LOC1", "", {"kind": K.PULL_OBJECT, "location_id": "LOC1"}),
    (
        ModuleId.LOCATIONS, S, "GET", "/LOC1/EVSE1", "",
        {"kind": K.PULL_OBJECT, "location_id": "LOC1", "evse_uid": "EVSE1"},
    ),
    (
        ModuleId.LOCATIONS, S, "GET", "/LOC1/EVSE1/1", "",
        {"location_id": "LOC1", "evse_uid": "EVSE1", "connector_id": "1", "owner": None},
    ),
    (
        ModuleId.LOCATIONS, R, "PUT", "/NL/TNM/LOC1", "",
        {"kind": K.PUSH, "owner": NL_TNM, "location_id": "LOC1", "evse_uid": None},
    ),
    (
        ModuleId.LOCATIONS, R, "PATCH", "/nl/tnm/LOC1/EVSE1", "",
        {"kind": K.PUSH, "owner": NL_TNM, "evse_uid": "EVSE1"},
    ),
    (
        ModuleId.LOCATIONS, R, "GET", "/NL/TNM/LOC1/EVSE1/2", "",
        {"kind": K.PULL_OBJECT, "owner": NL_TNM, "connector_id": "2", "paginated": False},
    ),
    (
        ModuleId.SESSIONS, S, "GET", "", "date_from=2024-01-01T00:00:00Z",
        {"kind": K.PULL_LIST, "paginated": True},
    ),
    (
        ModuleId.SESSIONS, S, "PUT", "/SESSION1/charging_preferences", "",
        {"kind": K.CHARGING_PREFERENCES, "session_id": "SESSION1"},
    ),
    (
        ModuleId.SESSIONS, R, "PUT", "/NL/TNM/SESSION1", "",
        {"kind": K.PUSH, "owner": NL_TNM, "session_id": "SESSION1"},
    ),
    (ModuleId.SESSIONS, R, "PATCH", "/NL/TNM/SESSION1", "", {"kind": K.PUSH}),
    (ModuleId.SESSIONS, R, "GET", "/NL/TNM/SESSION1", "", {"kind": K.PULL_OBJECT}),
    (ModuleId.CDRS, S, "GET", "", "", {"kind": K.PULL_LIST, "paginated": True}),
    (ModuleId.CDRS, R, "POST", "", "", {"kind": K.CDR_POST, "owner": None}),
    (ModuleId.CDRS, R, "GET", "/c/0a1b2c", "", {"kind": K.PULL_OBJECT, "cdr_id": "c/0a1b2c"}),
    (ModuleId.TARIFFS, S, "GET", "", "", {"kind": K.PULL_LIST}),
    (
        ModuleId.TARIFFS, R, "PUT", "/NL/TNM/TARIFF1", "",
        {"kind": K.PUSH, "owner": NL_TNM, "tariff_id": "TARIFF1"},
    ),
    (ModuleId.TARIFFS, R, "DELETE", "/NL/TNM/TARIFF1", "", {"kind": K.PUSH}),
    (ModuleId.TARIFFS, R, "GET", "/NL/TNM/TARIFF1", "", {"kind": K.PULL_OBJECT}),
    (ModuleId.TOKENS, S, "GET", "", "limit=5", {"kind": K.PULL_LIST}),
    (
        ModuleId.TOKENS, S, "POST", "/012345/authorize", "",
        {"kind": K.AUTHORIZE, "token_uid": "012345", "token_type": TokenType.RFID},
    ),
    (
        ModuleId.TOKENS, S, "POST", "/012345/authorize", "type=APP_USER",
        {"token_type": TokenType.APP_USER},
    ),
    (
        ModuleId.TOKENS, R, "PUT", "/DE/ABC/012345", "type=AD_HOC_USER",
        {"kind": K.PUSH, "owner": PartyRef("DE", "ABC"), "token_uid": "012345",
         "token_type": TokenType.AD_HOC_USER},
    ),
    (ModuleId.TOKENS, R, "PATCH", "/DE/ABC/012345", "", {"token_type": TokenType.RFID}),
    (ModuleId.TOKENS, R, "GET", "/DE/ABC/012345", "", {"kind": K.PULL_OBJECT}),
    (
        ModuleId.COMMANDS, R, "POST", "/START_SESSION", "",
        {"kind": K.COMMAND, "command": CommandType.START_SESSION},
    ),
    *[
        (ModuleId.COMMANDS, R, "POST", f"/{command}", "", {"command": command})
        for command in CommandType
    ],
    (
        ModuleId.COMMANDS, S, "POST", "/cb/7f3a", "",
        {"kind": K.CALLBACK_RESULT, "callback_path": "cb/7f3a"},
    ),
    (
        ModuleId.CHARGING_PROFILES, R, "GET", "/SESSION1",
        "duration=900&response_url=https%3A%2F%2Fscsp.example%2Fcb%2F1",
        {"kind": K.CHARGING_PROFILE, "session_id": "SESSION1"},
    ),
    (ModuleId.CHARGING_PROFILES, R, "PUT", "/SESSION1", "", {"kind": K.CHARGING_PROFILE}),
    (
        ModuleId.CHARGING_PROFILES, R, "DELETE", "/SESSION1", "response_url=https://x.example/1",
        {"kind": K.CHARGING_PROFILE},
    ),
    (
        ModuleId.CHARGING_PROFILES, S, "POST", "/cb/1", "",
        {"kind": K.CALLBACK_RESULT, "callback_path": "cb/1"},
    ),
    (
        ModuleId.CHARGING_PROFILES, S, "PUT", "/SESSION1", "",
        {"kind": K.ACTIVE_PROFILE_UPDATE, "session_id": "SESSION1"},
    ),
    (ModuleId.HUB_CLIENT_INFO, S, "GET", "", "", {"kind": K.CLIENT_INFO, "paginated": True}),
    (ModuleId.HUB_CLIENT_INFO, R, "PUT", "/NL/TNM", "", {"kind": K.CLIENT_INFO, "owner": NL_TNM}),
]
# fmt: on


@pytest.mark.parametrize(("module", "interface", "method", "path", "query", "expected"), VALID)
def test_every_url_form_of_the_spec_parses_to_its_operation(
    module: ModuleId,
    interface: InterfaceRole,
    method: str,
    path: str,
    query: str,
    expected: dict[str, object],
) -> None:
    operation = parse_operation(module, interface, method, path, query)

    assert (operation.module, operation.interface, operation.method) == (module, interface, method)
    for field, value in expected.items():
        assert getattr(operation, field) == value, field


# fmt: off
INVALID = [
    (ModuleId.LOCATIONS, R, "POST", "/NL/TNM/LOC1", "", "locations RECEIVER does not support POST"),
    (
        ModuleId.LOCATIONS, R, "DELETE", "/NL/TNM/LOC1", "",
        "locations RECEIVER does not support DELETE",
    ),
    (ModuleId.LOCATIONS, S, "PUT", "/LOC1", "", "locations SENDER does not support PUT"),
    (
        ModuleId.LOCATIONS, R, "PUT", "/NL/TNM", "",
        "locations RECEIVER PUT path must be "
        "/{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]",
    ),
    (
        ModuleId.LOCATIONS, R, "PUT", "/NL/TNM/L/E/C/X", "",
        "locations RECEIVER PUT path must be",
    ),
    (
        ModuleId.LOCATIONS, S, "GET", "/L/E/C/X", "",
        "locations SENDER GET path must be /{location_id}[/{evse_uid}[/{connector_id}]]",
    ),
    (ModuleId.LOCATIONS, R, "PUT", "/NLD/TNM/LOC1", "", "URL owner segments are not a party"),
    (ModuleId.LOCATIONS, R, "PUT", "/NL/T-M/LOC1", "", "URL owner segments are not a party"),
    (ModuleId.LOCATIONS, R, "PUT", "/NL/TNM//EVSE1", "", "contains an empty segment"),
    (ModuleId.LOCATIONS, R, "PUT", "NL/TNM/LOC1", "", "path must start with '/'"),
    (ModuleId.LOCATIONS, R, "PUT", "/NL/TNM/" + "L" * 37, "", "at most 36 characters"),
    (ModuleId.LOCATIONS, R, "PUT", "/NL/TNM/LOC%201", "", "printable ASCII without spaces"),
    (ModuleId.LOCATIONS, S, "GET", "", "offset=-1", "offset must be a non-negative integer"),
    (ModuleId.LOCATIONS, S, "GET", "", "limit=ten", "limit must be a non-negative integer"),
    (ModuleId.LOCATIONS, S, "GET", "", "limit=1&limit=2", "'limit' is given more than once"),
    (ModuleId.SESSIONS, R, "POST", "/NL/TNM/S1", "", "sessions RECEIVER does not support POST"),
    (ModuleId.SESSIONS, R, "DELETE", "/NL/TNM/S1", "", "sessions RECEIVER does not support DELETE"),
    (ModuleId.SESSIONS, R, "PUT", "/NL/TNM/S1/X", "", "sessions RECEIVER PUT path must be"),
    (ModuleId.SESSIONS, S, "PATCH", "/S1", "", "sessions SENDER does not support PATCH"),
    (
        ModuleId.SESSIONS, S, "PUT", "/S1", "",
        "sessions SENDER PUT path must be /{session_id}/charging_preferences",
    ),
    (ModuleId.SESSIONS, S, "GET", "/S1", "", "sessions SENDER GET takes no path"),
    (ModuleId.CDRS, R, "PUT", "/NL/TNM/C1", "", "cdrs RECEIVER does not support PUT"),
    (ModuleId.CDRS, R, "POST", "/NL/TNM/C1", "", "cdrs RECEIVER POST takes no path"),
    (ModuleId.CDRS, R, "GET", "", "", "cdrs RECEIVER GET needs the path of the CDR"),
    (ModuleId.CDRS, S, "POST", "", "", "cdrs SENDER does not support POST"),
    (ModuleId.TARIFFS, R, "PATCH", "/NL/TNM/T1", "", "tariffs RECEIVER does not support PATCH"),
    (ModuleId.TARIFFS, R, "POST", "/NL/TNM/T1", "", "tariffs RECEIVER does not support POST"),
    (ModuleId.TARIFFS, S, "DELETE", "", "", "tariffs SENDER does not support DELETE"),
    (ModuleId.TOKENS, R, "DELETE", "/DE/ABC/1", "", "tokens RECEIVER does not support DELETE"),
    (ModuleId.TOKENS, R, "POST", "/DE/ABC/1", "", "tokens RECEIVER does not support POST"),
    (ModuleId.TOKENS, R, "PUT", "/DE/ABC/1", "type=BADGE", "type must be one of AD_HOC_USER"),
    (ModuleId.TOKENS, S, "POST", "/1/authorise", "", "path must be /{token_uid}/authorize"),
    (ModuleId.TOKENS, S, "PUT", "/1", "", "tokens SENDER does not support PUT"),
    (
        ModuleId.COMMANDS, R, "POST", "/START_CHARGING", "",
        "command must be one of CANCEL_RESERVATION, RESERVE_NOW, START_SESSION, STOP_SESSION,"
        " UNLOCK_CONNECTOR, got 'START_CHARGING'",
    ),
    (ModuleId.COMMANDS, R, "POST", "", "", "commands RECEIVER POST path must be /{command}"),
    (ModuleId.COMMANDS, R, "GET", "/START_SESSION", "", "commands RECEIVER does not support GET"),
    (ModuleId.COMMANDS, S, "POST", "", "", "needs the callback path"),
    (ModuleId.COMMANDS, S, "GET", "/cb/1", "", "commands SENDER does not support GET"),
    (
        ModuleId.CHARGING_PROFILES, R, "POST", "/S1", "",
        "chargingprofiles RECEIVER does not support POST",
    ),
    (
        ModuleId.CHARGING_PROFILES, R, "PATCH", "/S1", "",
        "chargingprofiles RECEIVER does not support PATCH",
    ),
    (ModuleId.CHARGING_PROFILES, R, "PUT", "", "", "path must be /{session_id}"),
    (
        ModuleId.CHARGING_PROFILES, R, "DELETE", "/S1", "",
        "chargingprofiles RECEIVER DELETE requires the response_url query parameter",
    ),
    (
        ModuleId.CHARGING_PROFILES, R, "GET", "/S1", "response_url=https://x/1",
        "requires duration as a whole number of seconds",
    ),
    (
        ModuleId.CHARGING_PROFILES, S, "DELETE", "/S1", "",
        "chargingprofiles SENDER does not support DELETE",
    ),
    (ModuleId.HUB_CLIENT_INFO, R, "DELETE", "/NL/TNM", "", "hubclientinfo RECEIVER does not"),
    (ModuleId.HUB_CLIENT_INFO, S, "GET", "/NL/TNM", "", "hubclientinfo SENDER GET takes no path"),
    (ModuleId.CREDENTIALS, S, "GET", "", "", "credentials is a configuration module"),
    (ModuleId.LOCATIONS, S, "HEAD", "", "", "HTTP method HEAD is not used by OCPI"),
]
# fmt: on


@pytest.mark.parametrize(("module", "interface", "method", "path", "query", "message"), INVALID)
def test_an_operation_ocpi_does_not_define_is_refused_with_the_reason(
    module: ModuleId, interface: InterfaceRole, method: str, path: str, query: str, message: str
) -> None:
    with pytest.raises(InvalidOperationError) as raised:
        parse_operation(module, interface, method, path, query)

    assert message in str(raised.value)


def test_the_invalid_operation_error_is_a_domain_error() -> None:
    assert issubclass(InvalidOperationError, DomainError)


def test_the_method_is_case_insensitive_and_reported_upper_case() -> None:
    operation = parse_operation(ModuleId.LOCATIONS, R, "put", "/NL/TNM/LOC1", "")

    assert operation.method == "PUT"


def test_one_trailing_slash_is_tolerated() -> None:
    operation = parse_operation(ModuleId.LOCATIONS, S, "GET", "/LOC1/", "")

    assert operation.location_id == "LOC1"
    assert operation.evse_uid is None


def test_a_list_get_may_be_called_with_a_bare_slash() -> None:
    operation = parse_operation(ModuleId.CDRS, S, "GET", "/", "")

    assert operation.kind is OperationKind.PULL_LIST


def test_path_segments_are_percent_decoded() -> None:
    operation = parse_operation(ModuleId.TOKENS, S, "POST", "/04%2A8C/authorize", "")

    assert operation.token_uid == "04*8C"


def test_a_leading_question_mark_on_the_query_is_tolerated() -> None:
    operation = parse_operation(ModuleId.TOKENS, S, "POST", "/1/authorize", "?type=OTHER")

    assert operation.token_type is TokenType.OTHER


def test_the_owner_segments_are_normalised_to_upper_case() -> None:
    operation = parse_operation(ModuleId.TARIFFS, R, "PUT", "/nl/tnm/T1", "")

    assert operation.owner == PartyRef("NL", "TNM")
    assert str(operation.owner) == "NL*TNM"


def test_operations_are_immutable_values() -> None:
    operation = parse_operation(ModuleId.CDRS, R, "POST", "", "")

    assert operation == Operation(ModuleId.CDRS, R, "POST", OperationKind.CDR_POST)
    with pytest.raises(AttributeError):
        operation.kind = OperationKind.PUSH  # type: ignore[misc]


def test_only_functional_modules_report_as_functional() -> None:
    client_info = parse_operation(ModuleId.HUB_CLIENT_INFO, S, "GET", "", "")
    cdr = parse_operation(ModuleId.CDRS, R, "POST", "", "")

    assert not client_info.is_functional
    assert cdr.is_functional


@pytest.mark.parametrize("query", ['a="x"', "a=<b>", "a={1}", "a=|", "a=^", "a=`", "a=\\"])
def test_a_query_an_http_client_would_re_encode_is_refused(query: str) -> None:
    with pytest.raises(InvalidOperationError, match="percent-encode it"):
        parse_operation(ModuleId.LOCATIONS, InterfaceRole.SENDER, "GET", "", query)


def test_a_page_offset_or_limit_beyond_what_a_store_holds_is_refused() -> None:
    with pytest.raises(InvalidOperationError, match="offset must be below"):
        parse_operation(
            ModuleId.LOCATIONS, InterfaceRole.SENDER, "GET", "", "offset=100000000000000000000"
        )

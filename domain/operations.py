"""What an incoming request to one of the hub's module endpoints asks for (digest §6, §2.12).

`parse_operation` turns (module, interface, method, path, query) into an `Operation`: which kind of
OCPI operation it is, whose object the URL names and which ids it carries. Anything OCPI does not
define for that module and interface raises `InvalidOperationError` with the exact reason.

Above 500 lines: one parser per (module, interface) of digest §6, sixteen in all, side by side so
that a rule can be checked against the spec table in one read; the path checks they share sit
above them.

Decisions:
* `path` is the raw path after the module's endpoint URL, as on the wire: each segment is
  percent-decoded here. One trailing slash is tolerated (§1.12 / AMBIG 17: peers disagree on
  trailing slashes); an empty segment anywhere else is malformed.
* Object ids in the path must be CiString(36): printable ASCII without spaces, at most 36 chars.
* Every path segment, ids and fixed words alike, is checked once decoded: `.` and `..` (in any
  encoding), empty segments, an encoded `/` or backslash, a `%` left after decoding (double
  encoding), `?`, `#` and anything outside printable ASCII are refused. The path forwarded to a
  receiver (`Operation.path`) is rebuilt from those checked segments, each percent-encoded
  again: it can only name something below the receiver's endpoint, whatever the caller sent.
* The callback URLs the hub mints for `response_url` (§2.9) live under the hub's commands and
  chargingprofiles SENDER endpoints; the path after the endpoint is kept as `callback_path`.
* A CDR GET on the cdrs RECEIVER interface follows a `Location` URL whose structure is free; the
  path after the endpoint is kept as `cdr_id`.
* A custom module (`CustomModuleId`) is opaque: any OCPI method, the path and query relayed; no
  ids, no owner. Its segments may be empty or hold any text once decoded, but never what could
  leave the endpoint (dot segments, encoded separators, control characters).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import parse_qsl, quote, unquote

from domain.errors import InvalidOperationError, InvalidPartyError
from domain.values import (
    FUNCTIONAL_MODULES,
    AnyModuleId,
    CustomModuleId,
    InterfaceRole,
    ModuleId,
    PartyRef,
    parse_module_id,
)

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_MAX_ID_LENGTH = 36
_MAX_SEGMENT_LENGTH = 255
_MAX_PAGE_DIGITS = 9  # offset and limit: a store's integers hold them whatever they are
_DOT_SEGMENTS = frozenset({".", ".."})
# Characters that may not stand in a decoded segment: they would change where the rebuilt URL
# points (a path or query boundary, Windows-style separators, another round of decoding).
_SEPARATORS = frozenset("/\\?#%")
# RFC 3986 pchar without ';' (some servers read ';' as path parameters, e.g. `..;/`).
_SEGMENT_SAFE = "-._~!$&'()*+,=:@"


class OperationKind(StrEnum):
    PUSH = "PUSH"
    """PUT/PATCH/DELETE of a client-owned object on a Receiver interface."""
    PULL_LIST = "PULL_LIST"
    PULL_OBJECT = "PULL_OBJECT"
    AUTHORIZE = "AUTHORIZE"
    COMMAND = "COMMAND"
    CHARGING_PROFILE = "CHARGING_PROFILE"
    CHARGING_PREFERENCES = "CHARGING_PREFERENCES"
    CDR_POST = "CDR_POST"
    CALLBACK_RESULT = "CALLBACK_RESULT"
    ACTIVE_PROFILE_UPDATE = "ACTIVE_PROFILE_UPDATE"
    CLIENT_INFO = "CLIENT_INFO"
    CUSTOM = "CUSTOM"
    """Any request of a custom module: the node does not know what it means."""


class CommandType(StrEnum):
    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


@dataclass(frozen=True, slots=True)
class Operation:
    """One parsed request. Ids the URL does not carry are None."""

    module: AnyModuleId
    interface: InterfaceRole
    method: str
    kind: OperationKind
    owner: PartyRef | None = None
    """The `{country_code}/{party_id}` URL segments: the object's owner, never the addressee."""
    location_id: str | None = None
    evse_uid: str | None = None
    connector_id: str | None = None
    session_id: str | None = None
    tariff_id: str | None = None
    token_uid: str | None = None
    token_type: TokenType | None = None
    command: CommandType | None = None
    cdr_id: str | None = None
    callback_path: str | None = None
    paginated: bool = False
    path: str = field(default="", compare=False)
    """The path to forward after the receiver's endpoint: '' or '/' + the checked segments,
    percent-encoded again (a trailing slash the caller sent is kept)."""

    @property
    def is_functional(self) -> bool:
        return self.module in FUNCTIONAL_MODULES

    @property
    def is_custom(self) -> bool:
        return self.kind is OperationKind.CUSTOM

    @property
    def is_get(self) -> bool:
        return self.method == "GET"


def parse_operation(
    module: AnyModuleId | str, interface: InterfaceRole, method: str, path: str, query: str
) -> Operation:
    """Parse a request to a hub module endpoint; raise `InvalidOperationError` if OCPI lacks it."""
    module = parse_module_id(module)
    interface = InterfaceRole(interface)
    method = method.upper()
    if method not in _METHODS:
        raise InvalidOperationError(f"HTTP method {method} is not used by OCPI")
    _check_query(query)
    custom = isinstance(module, CustomModuleId)
    segments, trailing_slash = _split_path(path, opaque=custom)
    forwarded = forward_path(segments, trailing_slash)
    if isinstance(module, CustomModuleId):
        return Operation(module, interface, method, OperationKind.CUSTOM, path=forwarded)
    if module is ModuleId.CREDENTIALS:
        raise InvalidOperationError("credentials is a configuration module and is never routed")
    params = _parse_query(query)
    parser = _PARSERS[module, interface]
    return replace(parser(_Request(module, interface, method, segments, params)), path=forwarded)


def forward_path(segments: tuple[str, ...], trailing_slash: bool = False) -> str:
    """The path to send after a receiver's endpoint, built from checked, decoded segments."""
    if not segments:
        return "/" if trailing_slash else ""
    encoded = "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in segments)
    return "/" + encoded + ("/" if trailing_slash else "")


@dataclass(frozen=True, slots=True)
class _Request:
    module: ModuleId
    interface: InterfaceRole
    method: str
    segments: tuple[str, ...]
    params: dict[str, str]

    @property
    def name(self) -> str:
        return f"{self.module} {self.interface}"

    def refuse_method(self) -> InvalidOperationError:
        return InvalidOperationError(f"{self.name} does not support {self.method}")

    def operation(self, kind: OperationKind, **ids: object) -> Operation:
        return Operation(self.module, self.interface, self.method, kind, **ids)  # type: ignore[arg-type]


def _split_path(path: str, *, opaque: bool = False) -> tuple[tuple[str, ...], bool]:
    """The decoded, checked segments of `path` and whether it ended in one slash. An `opaque`
    (custom module) path may hold empty segments and any text but what could leave the
    endpoint: dot segments, encoded separators, control characters."""
    if path and not path.startswith("/"):
        raise InvalidOperationError(f"path must start with '/', got {path!r}")
    trimmed = path[1:]
    trailing_slash = trimmed.endswith("/")
    if trailing_slash:
        trimmed = trimmed[:-1]
    if not trimmed:
        return (), path == "/"
    raw_segments = trimmed.split("/")
    if not opaque and any(not segment for segment in raw_segments):
        raise InvalidOperationError(f"path {path!r} contains an empty segment")
    return tuple(_segment(raw, opaque) for raw in raw_segments), trailing_slash


def _segment(raw: str, opaque: bool) -> str:
    """One path segment, percent-decoded once and checked (see the module's decisions)."""
    if not _printable_ascii(raw):
        raise InvalidOperationError(
            f"path segment {raw!r} must be printable ASCII without spaces (percent-encode it)"
        )
    try:
        value = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise InvalidOperationError(f"path segment {raw!r} is not UTF-8 once decoded") from None
    if value in _DOT_SEGMENTS:
        raise InvalidOperationError(
            f"path segment {raw!r} is a dot segment: a path may not climb out of the endpoint"
        )
    if len(value) > _MAX_SEGMENT_LENGTH:
        raise InvalidOperationError(
            f"path segment {raw[:40]!r}... is longer than {_MAX_SEGMENT_LENGTH} characters"
        )
    if not (_opaque_text(value) if opaque else _printable_ascii(value)):
        rule = "free of control characters" if opaque else "printable ASCII without spaces"
        raise InvalidOperationError(f"path segment {raw!r} must be {rule} once decoded")
    misplaced = sorted(_SEPARATORS.intersection(value))
    if misplaced:
        raise InvalidOperationError(
            f"path segment {raw!r} decodes to {' '.join(misplaced)}, which may not stand"
            " inside an id (an encoded separator or a second round of encoding)"
        )
    return value


def _printable_ascii(text: str) -> bool:
    """Every character in '!'..'~' (printable ASCII, no space). The string methods run in C:
    a generator over the characters was 4 % of a saturated node's event loop (py-spy)."""
    return text.isascii() and text.isprintable() and " " not in text


def _opaque_text(text: str) -> bool:
    """No control character (C0 or DEL); any other character, also beyond ASCII."""
    if text.isascii():
        return text.isprintable()  # in ASCII exactly ' '..'~'
    return all(char >= " " and char != "\x7f" for char in text)


def _check_query(query: str) -> None:
    """The query is forwarded as received: it may hold only what RFC 3986 allows in a query
    (an HTTP client would re-encode anything else, and the URL sent would not be the one
    recorded)."""
    bad = sorted({char for char in query if not _query_char(char)})
    if bad:
        raise InvalidOperationError(
            f"the query string may not contain {' '.join(repr(c) for c in bad[:5])}:"
            " percent-encode it (RFC 3986)"
        )


_QUERY_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"
)


def _query_char(char: str) -> bool:
    return char in _QUERY_CHARS


def _parse_query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query.removeprefix("?"), keep_blank_values=True):
        if name in params:
            # Two values for one parameter cannot be forwarded without picking one behind
            # someone's back (e.g. two response_urls); refuse instead.
            raise InvalidOperationError(f"query parameter {name!r} is given more than once")
        params[name] = value
    return params


def _object_id(value: str, what: str) -> str:
    if len(value) > _MAX_ID_LENGTH:
        raise InvalidOperationError(f"{what} must be at most {_MAX_ID_LENGTH} characters")
    if not all("!" <= char <= "~" for char in value):
        raise InvalidOperationError(f"{what} must be printable ASCII without spaces: {value!r}")
    return value


def _owner(country_code: str, party_id: str) -> PartyRef:
    try:
        return PartyRef(country_code, party_id)
    except InvalidPartyError as error:
        raise InvalidOperationError(f"URL owner segments are not a party: {error}") from error


def _token_type(request: _Request) -> TokenType:
    # OCPI: `type` defaults to RFID when absent.
    value = request.params.get("type", TokenType.RFID)
    try:
        return TokenType(value)
    except ValueError:
        allowed = ", ".join(TokenType)
        raise InvalidOperationError(f"type must be one of {allowed}, got {value!r}") from None


def _expect_no_path(request: _Request) -> None:
    if request.segments:
        raise InvalidOperationError(f"{request.name} {request.method} takes no path")


def _list(request: _Request) -> Operation:
    _expect_no_path(request)
    for name in ("offset", "limit"):
        value = request.params.get(name)
        if value is not None and not (value.isascii() and value.isdecimal()):
            raise InvalidOperationError(f"{name} must be a non-negative integer, got {value!r}")
        if value is not None and len(value) > _MAX_PAGE_DIGITS:
            raise InvalidOperationError(f"{name} must be below 10^{_MAX_PAGE_DIGITS}")
    return request.operation(OperationKind.PULL_LIST, paginated=True)


def _owned_path(request: _Request, id_names: tuple[str, ...], required: int) -> dict[str, object]:
    """Parse `/{country_code}/{party_id}/{id}[/{id}...]`: the client-owned object URL (§1.10)."""
    segments = request.segments
    if not 2 + required <= len(segments) <= 2 + len(id_names):
        shape = _path_shape(("country_code", "party_id", *id_names), 2 + required)
        raise InvalidOperationError(f"{request.name} {request.method} path must be {shape}")
    ids: dict[str, object] = {"owner": _owner(segments[0], segments[1])}
    for name, value in zip(id_names, segments[2:], strict=False):
        ids[name] = _object_id(value, name)
    return ids


def _path_shape(names: tuple[str, ...], required: int) -> str:
    """Render e.g. `/{location_id}[/{evse_uid}[/{connector_id}]]` for error messages."""
    head = "".join(f"/{{{name}}}" for name in names[:required])
    optional = names[required:]
    tail = "".join(f"[/{{{name}}}" for name in optional) + "]" * len(optional)
    return head + tail


def _receiver_object(
    request: _Request, id_names: tuple[str, ...], required: int, push_methods: frozenset[str]
) -> Operation:
    if request.method == "GET":
        kind = OperationKind.PULL_OBJECT
    elif request.method in push_methods:
        kind = OperationKind.PUSH
    else:
        raise request.refuse_method()
    return request.operation(kind, **_owned_path(request, id_names, required))


def _locations_sender(request: _Request) -> Operation:
    if request.method != "GET":
        raise request.refuse_method()
    if not request.segments:
        return _list(request)
    names = ("location_id", "evse_uid", "connector_id")
    if len(request.segments) > len(names):
        shape = _path_shape(names, 1)
        raise InvalidOperationError(f"locations SENDER GET path must be {shape}")
    ids = {
        name: _object_id(value, name) for name, value in zip(names, request.segments, strict=False)
    }
    return request.operation(OperationKind.PULL_OBJECT, **ids)


def _locations_receiver(request: _Request) -> Operation:
    names = ("location_id", "evse_uid", "connector_id")
    return _receiver_object(request, names, 1, frozenset({"PUT", "PATCH"}))


def _sessions_sender(request: _Request) -> Operation:
    if request.method == "GET":
        return _list(request)
    if request.method != "PUT":
        raise request.refuse_method()
    segments = request.segments
    if len(segments) != 2 or segments[1] != "charging_preferences":
        raise InvalidOperationError(
            "sessions SENDER PUT path must be /{session_id}/charging_preferences"
        )
    session_id = _object_id(segments[0], "session_id")
    return request.operation(OperationKind.CHARGING_PREFERENCES, session_id=session_id)


def _sessions_receiver(request: _Request) -> Operation:
    return _receiver_object(request, ("session_id",), 1, frozenset({"PUT", "PATCH"}))


def _cdrs_sender(request: _Request) -> Operation:
    if request.method != "GET":
        raise request.refuse_method()
    return _list(request)


def _cdrs_receiver(request: _Request) -> Operation:
    if request.method == "POST":
        _expect_no_path(request)
        return request.operation(OperationKind.CDR_POST)
    if request.method != "GET":
        raise request.refuse_method()
    if not request.segments:
        raise InvalidOperationError(
            "cdrs RECEIVER GET needs the path of the CDR from the Location header"
        )
    return request.operation(OperationKind.PULL_OBJECT, cdr_id="/".join(request.segments))


def _tariffs_sender(request: _Request) -> Operation:
    if request.method != "GET":
        raise request.refuse_method()
    return _list(request)


def _tariffs_receiver(request: _Request) -> Operation:
    return _receiver_object(request, ("tariff_id",), 1, frozenset({"PUT", "DELETE"}))


def _tokens_sender(request: _Request) -> Operation:
    if request.method == "GET":
        return _list(request)
    if request.method != "POST":
        raise request.refuse_method()
    segments = request.segments
    if len(segments) != 2 or segments[1] != "authorize":
        raise InvalidOperationError("tokens SENDER POST path must be /{token_uid}/authorize")
    return request.operation(
        OperationKind.AUTHORIZE,
        token_uid=_object_id(segments[0], "token_uid"),
        token_type=_token_type(request),
    )


def _tokens_receiver(request: _Request) -> Operation:
    operation = _receiver_object(request, ("token_uid",), 1, frozenset({"PUT", "PATCH"}))
    return replace(operation, token_type=_token_type(request))


def _commands_sender(request: _Request) -> Operation:
    if request.method != "POST":
        raise request.refuse_method()
    if not request.segments:
        raise InvalidOperationError("commands SENDER POST needs the callback path of response_url")
    callback_path = "/".join(request.segments)
    return request.operation(OperationKind.CALLBACK_RESULT, callback_path=callback_path)


def _commands_receiver(request: _Request) -> Operation:
    if request.method != "POST":
        raise request.refuse_method()
    allowed = ", ".join(CommandType)
    if len(request.segments) != 1:
        raise InvalidOperationError(
            f"commands RECEIVER POST path must be /{{command}}, command one of {allowed}"
        )
    try:
        command = CommandType(request.segments[0])
    except ValueError:
        raise InvalidOperationError(
            f"command must be one of {allowed}, got {request.segments[0]!r}"
        ) from None
    return request.operation(OperationKind.COMMAND, command=command)


def _chargingprofiles_sender(request: _Request) -> Operation:
    if request.method == "POST":
        if not request.segments:
            raise InvalidOperationError(
                "chargingprofiles SENDER POST needs the callback path of response_url"
            )
        return request.operation(
            OperationKind.CALLBACK_RESULT, callback_path="/".join(request.segments)
        )
    if request.method != "PUT":
        raise request.refuse_method()
    session_id = _single_session_id(request)
    return request.operation(OperationKind.ACTIVE_PROFILE_UPDATE, session_id=session_id)


def _chargingprofiles_receiver(request: _Request) -> Operation:
    if request.method not in {"GET", "PUT", "DELETE"}:
        raise request.refuse_method()
    session_id = _single_session_id(request)
    # The hub must rewrite response_url (§2.9); without one there is nothing to call back.
    if request.method in {"GET", "DELETE"} and not request.params.get("response_url"):
        raise InvalidOperationError(
            f"chargingprofiles RECEIVER {request.method} requires the response_url query parameter"
        )
    if request.method == "GET":
        duration = request.params.get("duration", "")
        if not duration.isdecimal():
            raise InvalidOperationError(
                "chargingprofiles RECEIVER GET requires duration as a whole number of seconds"
            )
    return request.operation(OperationKind.CHARGING_PROFILE, session_id=session_id)


def _single_session_id(request: _Request) -> str:
    if len(request.segments) != 1:
        raise InvalidOperationError(f"{request.name} {request.method} path must be /{{session_id}}")
    return _object_id(request.segments[0], "session_id")


def _hubclientinfo_sender(request: _Request) -> Operation:
    if request.method != "GET":
        raise request.refuse_method()
    _expect_no_path(request)
    return request.operation(OperationKind.CLIENT_INFO, paginated=True)


def _hubclientinfo_receiver(request: _Request) -> Operation:
    if request.method not in {"GET", "PUT"}:
        raise request.refuse_method()
    if len(request.segments) != 2:
        raise InvalidOperationError(
            f"hubclientinfo RECEIVER {request.method} path must be /{{country_code}}/{{party_id}}"
        )
    # Here the URL ids are the subject of the ClientInfo, which is what `owner` means for it.
    return request.operation(
        OperationKind.CLIENT_INFO, owner=_owner(request.segments[0], request.segments[1])
    )


_PARSERS = {
    (ModuleId.LOCATIONS, InterfaceRole.SENDER): _locations_sender,
    (ModuleId.LOCATIONS, InterfaceRole.RECEIVER): _locations_receiver,
    (ModuleId.SESSIONS, InterfaceRole.SENDER): _sessions_sender,
    (ModuleId.SESSIONS, InterfaceRole.RECEIVER): _sessions_receiver,
    (ModuleId.CDRS, InterfaceRole.SENDER): _cdrs_sender,
    (ModuleId.CDRS, InterfaceRole.RECEIVER): _cdrs_receiver,
    (ModuleId.TARIFFS, InterfaceRole.SENDER): _tariffs_sender,
    (ModuleId.TARIFFS, InterfaceRole.RECEIVER): _tariffs_receiver,
    (ModuleId.TOKENS, InterfaceRole.SENDER): _tokens_sender,
    (ModuleId.TOKENS, InterfaceRole.RECEIVER): _tokens_receiver,
    (ModuleId.COMMANDS, InterfaceRole.SENDER): _commands_sender,
    (ModuleId.COMMANDS, InterfaceRole.RECEIVER): _commands_receiver,
    (ModuleId.CHARGING_PROFILES, InterfaceRole.SENDER): _chargingprofiles_sender,
    (ModuleId.CHARGING_PROFILES, InterfaceRole.RECEIVER): _chargingprofiles_receiver,
    (ModuleId.HUB_CLIENT_INFO, InterfaceRole.SENDER): _hubclientinfo_sender,
    (ModuleId.HUB_CLIENT_INFO, InterfaceRole.RECEIVER): _hubclientinfo_receiver,
}

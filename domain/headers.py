"""Header rules for each hop through the hub (digest §1.2, §1.6, §1.7, §2.2, §2.4).

All functions take any `Mapping[str, str]`, treat names case-insensitively and return plain dicts
with lower-case names. They never mutate their input.

Decisions:
* Forwarded requests keep unknown end-to-end headers (receivers may rely on them) and drop
  hop-by-hop ones; relayed responses keep only what the requester needs (pagination, Location,
  Content-Type): everything else describes the receiver's server, not the answer.
* `content-length` is always dropped: the hub may rewrite the body (§2.9), the HTTP client
  recomputes it.
* An empty routing header counts as absent (some clients send empty headers for open routing).
* Two input names that differ only in case with different values are refused: which one a
  receiver would honour is unknowable, and routing headers must not be ambiguous.
* A request may repeat a header (`collect_headers`): the routing headers, the request and
  correlation ids, Authorization and Content-Type must then repeat the same value (else 2001);
  other repeated headers are combined with ", " as RFC 9110 §5.3 allows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping

from domain.errors import InvalidHeaderError, InvalidPartyError
from domain.values import PartyRef

AUTHORIZATION = "authorization"
CONTENT_TYPE = "content-type"
X_REQUEST_ID = "x-request-id"
X_CORRELATION_ID = "x-correlation-id"
TO_COUNTRY_CODE = "ocpi-to-country-code"
TO_PARTY_ID = "ocpi-to-party-id"
FROM_COUNTRY_CODE = "ocpi-from-country-code"
FROM_PARTY_ID = "ocpi-from-party-id"
X_TOTAL_COUNT = "x-total-count"
X_LIMIT = "x-limit"
LINK = "link"
LOCATION = "location"

JSON = "application/json"

ROUTING_HEADERS = frozenset({TO_COUNTRY_CODE, TO_PARTY_ID, FROM_COUNTRY_CODE, FROM_PARTY_ID})

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)

SINGLE_VALUED = ROUTING_HEADERS | {X_REQUEST_ID, X_CORRELATION_ID, AUTHORIZATION, CONTENT_TYPE}
"""Headers whose meaning is one value: a second, different value makes the request ambiguous."""

_RELAYED_RESPONSE_HEADERS = (CONTENT_TYPE, X_TOTAL_COUNT, X_LIMIT, LINK, LOCATION)

_SECRET_NAME_PARTS = ("auth", "token", "secret", "password", "api-key", "apikey", "cookie")
_SECRET_VALUE_SCHEMES = ("token ", "bearer ", "basic ")


def lower_names(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy `headers` with lower-case names; refuse case-variants that disagree."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key in lowered and lowered[key] != value:
            raise InvalidHeaderError(f"header {key} is given twice with different values")
        lowered[key] = value
    return lowered


def collect_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Every header of a request, as sent (repeats included), as one dict with lower-case
    names; raises `InvalidHeaderError` naming a `SINGLE_VALUED` header given two values."""
    collected: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        known = collected.get(key)
        if known is None:
            collected[key] = value
        elif key in SINGLE_VALUED:
            if known.strip() != value.strip():
                raise InvalidHeaderError(
                    f"header {name} is given more than once with different values"
                    f" ({known!r} and {value!r}): which one counts would be a guess"
                    if key != AUTHORIZATION
                    else "header Authorization is given more than once with different values"
                )
        else:
            collected[key] = f"{known}, {value}"
    return collected


def _set_pair(headers: dict[str, str], direction: str, party: PartyRef) -> None:
    headers[f"ocpi-{direction}-country-code"] = party.country_code
    headers[f"ocpi-{direction}-party-id"] = party.party_id


def _connection_tokens(headers: Mapping[str, str]) -> set[str]:
    # RFC 9110 §7.6.1: headers named in Connection are hop-by-hop too.
    return {token.strip().lower() for token in headers.get("connection", "").split(",")}


def forward_request_headers(
    incoming: Mapping[str, str],
    new_request_id: str,
    correlation_id: str,
    token_header_value: str,
    content_type: str | None,
    *,
    from_party: PartyRef | None = None,
    to_party: PartyRef | None = None,
) -> dict[str, str]:
    """Headers for forwarding a request to its receiver (digest §2.4 step 5).

    New `x-request-id`, the given `x-correlation-id`, `authorization` = `token_header_value`
    (the hub's token for the target, already encoded), routing headers unchanged. Pass
    `from_party` when FROM was inferred and `to_party` for open routing: they overwrite the pair.
    `content_type` None means the request has no body, so no `content-type` is sent.
    """
    source = lower_names(incoming)
    dropped = HOP_BY_HOP | _connection_tokens(source) | {AUTHORIZATION, CONTENT_TYPE}
    headers = {name: value for name, value in source.items() if name not in dropped}
    headers[AUTHORIZATION] = token_header_value
    headers[X_REQUEST_ID] = new_request_id
    headers[X_CORRELATION_ID] = correlation_id
    if content_type is not None:
        headers[CONTENT_TYPE] = content_type
    if from_party is not None:
        _set_pair(headers, "from", from_party)
    if to_party is not None:
        _set_pair(headers, "to", to_party)
    return headers


def broadcast_leg_headers(
    incoming: Mapping[str, str],
    new_request_id: str,
    correlation_id: str,
    token_header_value: str,
    content_type: str | None,
    *,
    hub: PartyRef,
    target: PartyRef,
) -> dict[str, str]:
    """Headers for one fan-out request of a broadcast: FROM = hub, TO = target (digest §2.5)."""
    return forward_request_headers(
        incoming,
        new_request_id,
        correlation_id,
        token_header_value,
        content_type,
        from_party=hub,
        to_party=target,
    )


def relay_response_headers(
    upstream_response_headers: Mapping[str, str],
    original_request_id: str,
    correlation_id: str,
    requester: PartyRef,
    responder: PartyRef,
) -> dict[str, str]:
    """Headers for relaying a receiver's response to the requester (digest §2.4 step 8).

    `x-request-id` is the requester's original id, TO = requester, FROM = responder (for open
    routing: the party that actually answered). `x-total-count`, `x-limit`, `link`, `location`
    and `content-type` are kept as received; the caller rewrites `link` and `location`.
    """
    source = lower_names(upstream_response_headers)
    headers = {name: source[name] for name in _RELAYED_RESPONSE_HEADERS if name in source}
    headers[X_REQUEST_ID] = original_request_id
    headers[X_CORRELATION_ID] = correlation_id
    _set_pair(headers, "to", requester)
    _set_pair(headers, "from", responder)
    return headers


def hub_answer_headers(
    request_id: str,
    correlation_id: str,
    *,
    requester: PartyRef | None,
    hub: PartyRef | None,
) -> dict[str, str]:
    """Headers for a response the hub generates itself (refusals, 4xxx, broadcast ack, GET All).

    Pass `requester` and `hub` None for configuration modules, which carry no routing headers.
    """
    headers = {
        CONTENT_TYPE: JSON,
        X_REQUEST_ID: request_id,
        X_CORRELATION_ID: correlation_id,
    }
    if requester is not None:
        _set_pair(headers, "to", requester)
    if hub is not None:
        _set_pair(headers, "from", hub)
    return headers


def sanitize_for_ledger(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers safe to store: without Authorization or anything else that may carry a secret.

    A header goes if its name mentions auth, token, secret, password, api-key or cookie, or if
    its value starts with an authorization scheme (`Token `, `Bearer `, `Basic `).
    """
    kept: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if any(part in key for part in _SECRET_NAME_PARTS):
            continue
        if value.lstrip().lower().startswith(_SECRET_VALUE_SCHEMES):
            continue
        kept[key] = value
    return kept


def routing_headers(headers: Mapping[str, str]) -> tuple[PartyRef | None, PartyRef | None]:
    """Parse (FROM, TO) from the OCPI routing headers; each is None when its pair is absent.

    Values are CiStrings: compared case-insensitively, returned upper-case. Raises
    `InvalidHeaderError` when only one header of a pair is present or a value is malformed.
    """
    source = lower_names(headers)
    return _pair(source, "from"), _pair(source, "to")


def _pair(source: Mapping[str, str], direction: str) -> PartyRef | None:
    country_name = f"ocpi-{direction}-country-code"
    party_name = f"ocpi-{direction}-party-id"
    country_code = source.get(country_name, "").strip()
    party_id = source.get(party_name, "").strip()
    if not country_code and not party_id:
        return None
    if not country_code or not party_id:
        present, missing = (
            (country_name, party_name) if country_code else (party_name, country_name)
        )
        raise InvalidHeaderError(f"{present} is present but {missing} is missing")
    try:
        return PartyRef(country_code, party_id)
    except InvalidPartyError as error:
        raise InvalidHeaderError(f"OCPI-{direction} headers are malformed: {error}") from error


def parse_token_header(value: str) -> list[str]:
    """Candidate credentials tokens in an Authorization header value, best first (digest §1.2).

    `Token <x>`: the strict Base64 decoding of x if that is printable ASCII (U+0021..U+007E), then
    x itself (peers that do not encode). Nothing is stripped: a decoded trailing newline (the
    spec's own examples) makes the decoding no candidate. The scheme is matched
    case-insensitively (RFC 9110 §11.1); anything else yields no candidates.
    """
    scheme, separator, credential = value.partition(" ")
    if not separator or scheme.lower() != "token" or not _is_token_text(credential):
        return []
    candidates: list[str] = []
    decoded = _strict_base64(credential)
    if decoded is not None and _is_token_text(decoded):
        candidates.append(decoded)
    if credential not in candidates:
        candidates.append(credential)
    return candidates


def _is_token_text(text: str) -> bool:
    return bool(text) and all("!" <= char <= "~" for char in text)


def _strict_base64(text: str) -> str | None:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Only the canonical encoding counts, so one token has exactly one Base64 form.
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return None

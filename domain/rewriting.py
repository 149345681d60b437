"""Byte-lossless rewriting of the few things a hub must change in relayed messages (§2.9-2.11).

`response_url` in command and charging-profile bodies, `response_url` in charging-profile query
strings, the `Link` pagination header and the CDR `Location` header. Everything else in a body is
relayed byte for byte: the JSON is never re-serialised, so unknown fields, number precision,
whitespace and key order survive (digest §2.4 step 9).

Decisions:
* Only a top-level member is replaced; a `response_url` nested deeper belongs to another object.
* A field given twice, or with a non-string value, raises `RewriteError`: JSON parsers disagree on
  which duplicate wins, and forwarding a `response_url` the hub did not replace would hand the
  receiver a URL it cannot call.
* Query values are decoded like form data (`+` is a space), as the web framework decodes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import quote, unquote_plus

from domain.errors import RewriteError

_WHITESPACE = frozenset(b" \t\n\r")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")
_OPENERS = frozenset(b"{[")
_CLOSERS = frozenset(b"}]")
_SCALAR_END = frozenset(b",}]") | _WHITESPACE


def replace_json_string_field(body: bytes, field: str, new_value: str) -> tuple[bytes, str | None]:
    """Replace the string value of the top-level member `field` of a JSON object body.

    Returns (new body, old value decoded), or (body unchanged, None) when the member is absent.
    Only the bytes of the old string literal change. Raises `RewriteError` when the body is not a
    UTF-8 JSON object or the member is duplicated or not a string.
    """
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise RewriteError(f"body is not UTF-8 JSON: {error}") from error
    if not isinstance(document, dict):
        raise RewriteError("body is not a JSON object")

    spans = [(start, end) for key, start, end in _top_level_members(body) if key == field]
    if not spans:
        return body, None
    if len(spans) > 1:
        raise RewriteError(f"{field} is given {len(spans)} times")
    start, end = spans[0]
    if body[start] != _QUOTE:
        raise RewriteError(f"{field} is not a string")
    old_value = json.loads(body[start:end].decode("utf-8"))
    replacement = json.dumps(new_value).encode("ascii")
    return body[:start] + replacement + body[end:], old_value


def _top_level_members(body: bytes) -> list[tuple[str, int, int]]:
    """(decoded key, value start, value end) of each member of the top-level object.

    Assumes `body` is valid JSON (checked by the caller). Structural characters are ASCII and
    UTF-8 continuation bytes are >= 0x80, so scanning bytes is safe.
    """
    members: list[tuple[str, int, int]] = []
    index = _skip_whitespace(body, 0) + 1  # past "{"
    index = _skip_whitespace(body, index)
    if body[index] == ord("}"):
        return members
    while True:
        key_end = _string_end(body, index)
        key = json.loads(body[index:key_end].decode("utf-8"))
        index = _skip_whitespace(body, key_end) + 1  # past ":"
        value_start = _skip_whitespace(body, index)
        value_end = _value_end(body, value_start)
        members.append((key, value_start, value_end))
        index = _skip_whitespace(body, value_end)
        if body[index] == ord("}"):
            return members
        index = _skip_whitespace(body, index + 1)  # past ","


def _skip_whitespace(body: bytes, index: int) -> int:
    while body[index] in _WHITESPACE:
        index += 1
    return index


def _string_end(body: bytes, index: int) -> int:
    """Index just past the string literal that starts at `index`."""
    index += 1
    while True:
        byte = body[index]
        if byte == _BACKSLASH:
            index += 2
        elif byte == _QUOTE:
            return index + 1
        else:
            index += 1


def _value_end(body: bytes, index: int) -> int:
    byte = body[index]
    if byte == _QUOTE:
        return _string_end(body, index)
    if byte in _OPENERS:
        depth = 0
        while True:
            byte = body[index]
            if byte == _QUOTE:
                index = _string_end(body, index)
                continue
            if byte in _OPENERS:
                depth += 1
            elif byte in _CLOSERS:
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
    while index < len(body) and body[index] not in _SCALAR_END:
        index += 1
    return index


def replace_query_param(query: str, name: str, new_value: str) -> tuple[str, str | None]:
    """Replace the value of query parameter `name`; other parameters stay byte for byte.

    Returns (new query, old value decoded), or (query unchanged, None) when absent. The new value
    is percent-encoded. A leading `?` is kept. Raises `RewriteError` if `name` occurs twice.
    """
    prefix = "?" if query.startswith("?") else ""
    parts = query.removeprefix("?").split("&")
    matches = [i for i, part in enumerate(parts) if unquote_plus(part.partition("=")[0]) == name]
    if not matches:
        return query, None
    if len(matches) > 1:
        raise RewriteError(f"query parameter {name} is given {len(matches)} times")
    (position,) = matches
    raw_name, _, raw_value = parts[position].partition("=")
    parts[position] = f"{raw_name}={quote(new_value, safe='')}"
    return prefix + "&".join(parts), unquote_plus(raw_value)


_LINK_VALUE = re.compile(r"<(?P<url>[^>]*)>(?P<params>[^<]*)")
_REL_PARAM = re.compile(r';\s*rel\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<token>[^\s;,]+))', re.I)


def rewrite_link_header(value: str, make_url: Callable[[str], str]) -> str:
    """Replace the URL of each `rel="next"` link with `make_url(url)`; nothing else changes.

    Handles several comma-separated links, unquoted `rel=next` and multi-valued rels
    (`rel="prev next"`), case-insensitively (RFC 8288).
    """
    pieces: list[str] = []
    position = 0
    for match in _LINK_VALUE.finditer(value):
        if _is_next(match.group("params")):
            pieces.append(value[position : match.start("url")])
            pieces.append(make_url(match.group("url")))
            position = match.end("url")
    pieces.append(value[position:])
    return "".join(pieces)


def _is_next(params: str) -> bool:
    for rel in _REL_PARAM.finditer(params):
        relations = (rel.group("quoted") or rel.group("token") or "").lower().split()
        if "next" in relations:
            return True
    return False


def rewrite_location_header(value: str, make_url: Callable[[str], str]) -> str:
    """The CDR `Location` header with its URL replaced by `make_url(url)` (digest §2.11).

    Raises `RewriteError` when the header is empty: OCPI requires it, and the hub cannot map
    nothing.
    """
    url = value.strip()
    if not url:
        raise RewriteError("Location header is empty")
    return make_url(url)

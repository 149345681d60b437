"""The hub's own copy of broadcast objects: how a push changes it (digest §2.5, §2.7, §6).

Pushes addressed TO the hub (broadcasts) of locations, tariffs and tokens are stored so the hub
can answer GET All and the owner's validation GETs. `apply_push` computes the stored object after
one push, exactly as a Receiver interface would:

* PUT of a whole object replaces it; the stored bytes are the pushed bytes (never re-serialised,
  so `last_updated` and every unknown field survive).
* PUT or PATCH of an EVSE or Connector (locations) changes that part of the stored Location and
  bumps the parents' `last_updated` to the part's (digest §6.1: a receiver bumps parent
  `last_updated`, needed for date filters).
* PATCH merges top-level members into the stored object (digest §1.9).
* DELETE (tariffs) removes it.

A PATCH or sub-object PUT for an object the hub never received cannot be applied: the result is
`Unchanged`, and the push is still relayed (the hub's copy is not a receiver of record).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidOperationError


@dataclass(frozen=True, slots=True)
class Unchanged:
    reason: str


@dataclass(frozen=True, slots=True)
class Deleted:
    pass


@dataclass(frozen=True, slots=True)
class Stored:
    document: bytes
    last_updated: str
    """Normalised (see `normalise_datetime`), for ordering and date filters."""


PushResult = Stored | Deleted | Unchanged


def normalise_datetime(value: str) -> str:
    """OCPI DateTime (UTC, `Z` optional, fractions optional) as fixed-width text that sorts.

    Raises `InvalidOperationError` for anything else, e.g. an offset like `+02:00`.
    """
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidOperationError(f"not an OCPI DateTime: {value!r}") from None
    if moment.tzinfo is not None and moment.utcoffset() != UTC.utcoffset(None):
        raise InvalidOperationError(f"OCPI DateTime must be UTC: {value!r}")
    return moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def apply_push(
    method: str, current: bytes | None, sub_ids: tuple[str, ...], body: bytes
) -> PushResult:
    """The stored object after `method` with `body` at `sub_ids` below the object.

    `sub_ids` is () for the object itself, (evse_uid,) or (evse_uid, connector_id) for locations.
    """
    if method == "DELETE":
        return Deleted()
    pushed = _object(body, "pushed body")
    if method == "PUT" and not sub_ids:
        return Stored(body, _last_updated(pushed))
    if current is None:
        return Unchanged("the hub holds no copy of the object to change")
    document = _object(current, "stored object")
    if method == "PATCH" and not sub_ids:
        document.update(pushed)
        return _stored(document)
    if method not in ("PUT", "PATCH"):
        raise InvalidOperationError(f"{method} does not change a stored object")
    parents = [document]
    node = document
    levels = zip(("evses", "connectors"), ("uid", "id"), sub_ids, strict=False)
    for depth, (list_name, key, uid) in enumerate(levels, start=1):
        child = _find(node, list_name, key, uid)
        if child is None:
            if method == "PATCH" or depth < len(sub_ids):
                return Unchanged(f"the stored object has no {list_name[:-1]} {uid}")
            child = {}
            node.setdefault(list_name, []).append(child)
        parents.append(child)
        node = child
    if method == "PUT":
        node.clear()
    node.update(pushed)
    stamp = pushed.get("last_updated")
    if isinstance(stamp, str):
        for parent in parents[:-1]:
            if _later(stamp, parent.get("last_updated")):
                parent["last_updated"] = stamp
    return _stored(document)


def _object(data: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidOperationError(f"{what} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidOperationError(f"{what} is not a JSON object")
    return document


def _last_updated(document: dict[str, Any]) -> str:
    value = document.get("last_updated")
    if not isinstance(value, str):
        raise InvalidOperationError("the object has no last_updated")
    return normalise_datetime(value)


def _stored(document: dict[str, Any]) -> Stored:
    data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Stored(data, _last_updated(document))


def _find(node: dict[str, Any], list_name: str, key: str, uid: str) -> dict[str, Any] | None:
    children = node.get(list_name)
    if not isinstance(children, list):
        node[list_name] = children = []
    for child in children:
        if isinstance(child, dict) and child.get(key) == uid:
            return child
    return None


def _later(candidate: str, current: object) -> bool:
    if not isinstance(current, str):
        return True
    try:
        return normalise_datetime(candidate) > normalise_datetime(current)
    except InvalidOperationError:
        return False

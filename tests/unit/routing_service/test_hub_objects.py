"""How a push changes the hub's copy of a broadcast object (domain.hub_objects)."""

from __future__ import annotations

import json

import pytest

from domain.errors import InvalidOperationError
from domain.hub_objects import Deleted, Stored, Unchanged, apply_push, normalise_datetime

LOCATION = (
    b'{"id": "L1", "price": 1.10, "evses": [{"uid": "E1", "status": "AVAILABLE",'
    b' "connectors": [{"id": "1", "last_updated": "2024-01-01T00:00:00Z"}],'
    b' "last_updated": "2024-01-01T00:00:00Z"}], "last_updated": "2024-01-01T00:00:00Z"}'
)


def stored(result: object) -> dict[str, object]:
    assert isinstance(result, Stored)
    return json.loads(result.document)


def test_a_whole_object_put_is_kept_byte_for_byte() -> None:
    result = apply_push("PUT", None, (), LOCATION)
    assert result == Stored(LOCATION, "2024-01-01T00:00:00.000000Z")


def test_an_evse_patch_changes_the_evse_and_bumps_the_location() -> None:
    patch = b'{"status": "CHARGING", "last_updated": "2024-02-01T00:00:00Z"}'
    document = stored(apply_push("PATCH", LOCATION, ("E1",), patch))
    assert document["evses"][0]["status"] == "CHARGING"  # type: ignore[index]
    assert document["last_updated"] == "2024-02-01T00:00:00Z"
    assert document["price"] == 1.10


def test_a_connector_put_adds_a_new_connector_and_bumps_both_parents() -> None:
    connector = b'{"id": "2", "standard": "IEC_62196_T2", "last_updated": "2024-03-01T00:00:00"}'
    document = stored(apply_push("PUT", LOCATION, ("E1", "2"), connector))
    evse = document["evses"][0]  # type: ignore[index]
    assert [c["id"] for c in evse["connectors"]] == ["1", "2"]
    assert evse["last_updated"] == document["last_updated"] == "2024-03-01T00:00:00"


def test_a_put_of_a_new_evse_is_added_but_a_patch_of_an_unknown_one_is_not() -> None:
    evse = b'{"uid": "E2", "status": "AVAILABLE", "last_updated": "2024-01-02T00:00:00Z"}'
    document = stored(apply_push("PUT", LOCATION, ("E2",), evse))
    assert [e["uid"] for e in document["evses"]] == ["E1", "E2"]  # type: ignore[union-attr]
    assert isinstance(apply_push("PATCH", LOCATION, ("E9",), evse), Unchanged)
    assert isinstance(apply_push("PUT", LOCATION, ("E9", "1"), evse), Unchanged)


def test_a_patch_without_a_stored_object_changes_nothing_and_a_delete_removes_it() -> None:
    assert isinstance(apply_push("PATCH", None, (), b'{"valid": false}'), Unchanged)
    assert apply_push("DELETE", LOCATION, (), b"") == Deleted()


def test_datetimes_normalise_to_sortable_utc_text_and_offsets_are_refused() -> None:
    assert normalise_datetime("2016-12-29T17:45:09.2Z") == "2016-12-29T17:45:09.200000Z"
    assert normalise_datetime("2015-06-29T20:39:09") == "2015-06-29T20:39:09.000000Z"
    with pytest.raises(InvalidOperationError):
        normalise_datetime("2015-06-29T20:39:09+02:00")
    with pytest.raises(InvalidOperationError):
        apply_push("PUT", None, (), b'{"id": "no date"}')

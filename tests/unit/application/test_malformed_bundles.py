"""A partner checks bundles it received from anyone: a malformed one is reported, never a crash
of the verifier."""

from __future__ import annotations

from typing import Any

import pytest

from application.evidence import verify_bundle


@pytest.mark.parametrize(
    "messages",
    [["x"], [{"id": "m1", "records": 5}], [{"id": "m1"}], [{"id": "m1", "records": ["r"]}]],
)
def test_a_bundle_whose_messages_are_malformed_is_reported_not_crashed_on(
    messages: list[Any],
) -> None:
    result = verify_bundle({"format": "ocpi-ledger-evidence/2", "messages": messages})
    assert result["ok"] is False
    assert any(p["kind"] == "malformed" for p in result["problems"])

"""The OCPI status-code vocabulary (domain/status_codes.py); layer purity is in test_layers.py."""

from __future__ import annotations

import pytest

from domain.status_codes import ClientError, HubError, ServerError, Success


def test_hub_errors_are_the_4xxx_codes_of_the_spec() -> None:
    assert [int(code) for code in HubError] == [4000, 4001, 4002, 4003]
    assert HubError.UNKNOWN_RECEIVER == 4001


def test_success_is_the_one_1xxx_code_of_the_spec() -> None:
    assert [int(code) for code in Success] == [1000]


def test_client_errors_are_the_2xxx_codes_of_the_spec() -> None:
    assert [int(code) for code in ClientError] == [2000, 2001, 2002, 2003, 2004]


def test_server_errors_are_the_3xxx_codes_of_the_spec() -> None:
    assert [int(code) for code in ServerError] == [3000, 3001, 3002, 3003]


@pytest.mark.parametrize("code", [*Success, *ClientError, *ServerError, *HubError])
def test_every_status_code_has_a_default_message(code: ClientError) -> None:
    assert code.default_message.strip()


def test_the_unknown_receiver_message_says_what_is_unknown() -> None:
    assert "Unknown receiver" in HubError.UNKNOWN_RECEIVER.default_message

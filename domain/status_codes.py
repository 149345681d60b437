"""The OCPI status codes the node speaks, each with the message it uses when it has nothing better.

The only place they are spelled: the API layer puts them in the response envelope, the routing
rules and the credentials handshake pick one. IntEnums, so they serialise as plain numbers.
"""

from __future__ import annotations

from enum import IntEnum


class Success(IntEnum):
    """1xxx: the request was handled."""

    GENERIC = 1000

    @property
    def default_message(self) -> str:
        return _DEFAULT_MESSAGES[self]


class ClientError(IntEnum):
    """2xxx: the requester sent something the hub (or the receiver) cannot act on."""

    GENERIC = 2000
    INVALID_OR_MISSING_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004

    @property
    def default_message(self) -> str:
        return _DEFAULT_MESSAGES[self]


class ServerError(IntEnum):
    """3xxx: a platform failed; mostly used during registration."""

    GENERIC = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003

    @property
    def default_message(self) -> str:
        return _DEFAULT_MESSAGES[self]


class HubError(IntEnum):
    """4xxx: routing failed inside the hub; only the hub itself ever sends these."""

    GENERIC = 4000
    UNKNOWN_RECEIVER = 4001
    TIMEOUT = 4002
    CONNECTION_PROBLEM = 4003

    @property
    def default_message(self) -> str:
        return _DEFAULT_MESSAGES[self]


_DEFAULT_MESSAGES: dict[IntEnum, str] = {
    Success.GENERIC: "Success",
    ClientError.GENERIC: "Generic client error",
    ClientError.INVALID_OR_MISSING_PARAMETERS: "Invalid or missing parameters",
    ClientError.NOT_ENOUGH_INFORMATION: "Not enough information",
    ClientError.UNKNOWN_LOCATION: "Unknown location",
    ClientError.UNKNOWN_TOKEN: "Unknown token",
    ServerError.GENERIC: "Generic server error",
    ServerError.UNABLE_TO_USE_CLIENT_API: "Unable to use the client's API",
    ServerError.UNSUPPORTED_VERSION: "Unsupported version",
    ServerError.NO_MATCHING_ENDPOINTS: "No matching endpoints or expected endpoints missing",
    HubError.GENERIC: "Hub error",
    HubError.UNKNOWN_RECEIVER: "Unknown receiver: the hub knows no party with these OCPI-to ids",
    HubError.TIMEOUT: "Timeout on forwarded request: the receiver did not answer in time",
    HubError.CONNECTION_PROBLEM: "Connection problem: the receiving party is not connected",
}

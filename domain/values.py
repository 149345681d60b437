"""Value objects of OCPI 2.2.1 that every part of the domain speaks in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidOperationError, InvalidPartyError

OCPI_VERSION = "2.2.1"

_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
_PARTY_ID = re.compile(r"^[A-Za-z0-9]{3}$")


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    PTP = "PTP"  # payment terminal provider, new in OCPI 2.3.0 (versions digest §6, §11)
    SCSP = "SCSP"


class ModuleId(StrEnum):
    CDRS = "cdrs"
    CHARGING_PROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUB_CLIENT_INFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


_OCPI_MODULES: dict[str, ModuleId] = {str(m): m for m in ModuleId}
# "versions" is OCPI's own module too (not a ModuleID): a custom module may not take its name.
RESERVED_MODULE_IDS = frozenset(_OCPI_MODULES) | {"versions"}
CUSTOM_MODULE_PATTERN = "[a-z0-9_-]{1,64}"
_CUSTOM_MODULE = re.compile(CUSTOM_MODULE_PATTERN)


class CustomModuleId(str):
    """A module outside OCPI that two platforms agreed on (e.g. `x-evroaming-reservations`),
    as their version details publish it: lower-case letters, digits, `-` or `_`, at most 64.

    The node routes it as an opaque module: it knows nothing of its paths or objects, so it goes
    only where OCPI-to points, and only over a direct connection (see domain/route_choice.py).
    """

    __slots__ = ()

    def __new__(cls, value: str) -> CustomModuleId:
        if not _CUSTOM_MODULE.fullmatch(value):
            raise InvalidOperationError(
                f"module {value!r} is neither an OCPI module nor a valid custom module id"
                " (lower-case letters, digits, '-' or '_', at most 64 characters)"
            )
        if value in RESERVED_MODULE_IDS:
            raise InvalidOperationError(f"{value!r} is an OCPI module, not a custom one")
        return super().__new__(cls, value)


AnyModuleId = ModuleId | CustomModuleId


def parse_module_id(text: str) -> AnyModuleId:
    """An OCPI module id, else a custom one; raises `InvalidOperationError` for neither.
    OCPI modules cost one dict look-up: the hot path stays as it was."""
    known = _OCPI_MODULES.get(text)
    if known is not None:
        return known
    return CustomModuleId(text)


FUNCTIONAL_MODULES: frozenset[ModuleId] = frozenset(
    {
        ModuleId.CDRS,
        ModuleId.CHARGING_PROFILES,
        ModuleId.COMMANDS,
        ModuleId.LOCATIONS,
        ModuleId.SESSIONS,
        ModuleId.TARIFFS,
        ModuleId.TOKENS,
    }
)


class InterfaceRole(StrEnum):
    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class ConnectionStatus(StrEnum):
    """The ClientInfo ConnectionStatus of OCPI, used for parties and connections alike."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class Way(StrEnum):
    """How this node reaches a party, and so which way a message to it leaves: to the party's
    backend when it is hosted here, over a direct connection, or via a hub.

    `Way.LOCAL` is also the key of a hosted party's route (other routes are keyed by their
    connection id) and the pseudo connection id of a hosted backend calling the node.
    """

    LOCAL = "local"
    DIRECT = "direct"
    HUB = "hub"


@dataclass(frozen=True, slots=True, order=True)
class PartyRef:
    """A party as routing headers address it: country code and party id, upper-cased (CiString)."""

    country_code: str
    party_id: str

    def __post_init__(self) -> None:
        if not _COUNTRY_CODE.match(self.country_code or ""):
            raise InvalidPartyError(f"country_code must be 2 letters, got {self.country_code!r}")
        if not _PARTY_ID.match(self.party_id or ""):
            raise InvalidPartyError(f"party_id must be 3 letters or digits, got {self.party_id!r}")
        object.__setattr__(self, "country_code", self.country_code.upper())
        object.__setattr__(self, "party_id", self.party_id.upper())

    @classmethod
    def parse(cls, text: str) -> PartyRef:
        """Parse the `CC*PID` form used in configuration and the CLI."""
        country_code, sep, party_id = text.partition("*")
        if not sep:
            raise InvalidPartyError(f"expected CC*PID, got {text!r}")
        return cls(country_code, party_id)

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}"


@dataclass(frozen=True, slots=True, order=True)
class PartyKey:
    """A party with its role: the unit a credentials exchange registers."""

    country_code: str
    party_id: str
    role: Role

    def __post_init__(self) -> None:
        ref = PartyRef(self.country_code, self.party_id)
        object.__setattr__(self, "country_code", ref.country_code)
        object.__setattr__(self, "party_id", ref.party_id)
        object.__setattr__(self, "role", Role(self.role))

    @property
    def ref(self) -> PartyRef:
        return PartyRef(self.country_code, self.party_id)

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}/{self.role}"

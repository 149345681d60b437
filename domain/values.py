"""Value objects of OCPI 2.2.1 that every part of the domain speaks in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidPartyError

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

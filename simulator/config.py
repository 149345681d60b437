"""Configuration of one simulated OCPI platform (or party backend behind the node)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from simulator.envelope import VERSIONS

ROLES = frozenset({"CPO", "EMSP", "HUB", "NSP", "SCSP", "OTHER", "NAP", "PTP"})
Mode = Literal["platform", "backend"]


@dataclass(frozen=True)
class SimParty:
    country_code: str
    party_id: str
    role: str
    name: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {sorted(ROLES)}")
        # CiStrings: normalising once here keeps every later comparison a plain equality.
        object.__setattr__(self, "country_code", self.country_code.upper())
        object.__setattr__(self, "party_id", self.party_id.upper())
        if not self.name:
            object.__setattr__(self, "name", f"Simulated {self.role} {self.key_str}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.country_code, self.party_id)

    @property
    def key_str(self) -> str:
        return f"{self.country_code}*{self.party_id}"


@dataclass
class SimConfig:
    parties: list[SimParty]
    mode: Mode = "platform"
    # platform mode: the token A we accept once from a peer registering with us
    token_a: str | None = None
    # backend mode: the node calls us with it and we call the node's egress with it
    backend_token: str | None = None
    # backend mode: base URL of the ocpi-ledger node
    node_url: str | None = None
    # set when the server starts (start_in_thread / __main__) unless given
    public_url: str | None = None
    # the server's maximum page size, reported as X-Limit
    page_limit: int = 50
    # how long the simulated CPO waits before POSTing an async command/profile result
    callback_delay_ms: int = 50
    # the `timeout` (seconds) announced in CommandResponse / ChargingProfileResponse
    command_timeout_s: int = 30
    # the OCPI version this platform speaks: "2.1.1", "2.2.1" or "2.3.0" (one per platform, as
    # real ones do). A 2.1.1 platform is one CPO or eMSP party: no routing headers, no roles.
    ocpi_version: str = "2.2.1"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in ("platform", "backend"):
            raise ValueError(f"mode must be 'platform' or 'backend', not {self.mode!r}")
        if self.mode == "backend" and not self.backend_token:
            raise ValueError("backend mode needs backend_token")
        if not self.parties:
            raise ValueError("a simulated platform hosts at least one party")
        if self.ocpi_version not in VERSIONS:
            raise ValueError(f"ocpi_version must be one of {VERSIONS}, not {self.ocpi_version!r}")
        if self.ocpi_version == "2.1.1":
            if self.mode != "platform":
                raise ValueError("an OCPI 2.1.1 simulator is a platform (no backend mode)")
            if len(self.parties) != 1 or self.parties[0].role not in ("CPO", "EMSP"):
                raise ValueError("an OCPI 2.1.1 platform is exactly one CPO or EMSP party")

    @property
    def is_211(self) -> bool:
        return self.ocpi_version == "2.1.1"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SimConfig:
        values = dict(raw)
        values["parties"] = [SimParty(**p) for p in raw.get("parties", [])]
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> SimConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

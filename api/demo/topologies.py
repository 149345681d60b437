"""The eight topologies of OCPI 2.2.1 chapter 3 (figures 2-9) as data.

A topology is platforms (each hosting parties), the direct connections between platforms, and
which platforms connect to a hub. Parties trade eMSP <-> CPO; a pair trades when its platforms
are directly connected or both are on the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

COUNTRY = "NL"
HUB_PARTY = ("NL", "HUB")


@dataclass(frozen=True)
class PartySpec:
    name: str  # as in the figure: eMSP1, CPO5
    role: str  # EMSP | CPO

    @property
    def country_code(self) -> str:
        return COUNTRY

    @property
    def party_id(self) -> str:
        # eMSP3 -> EM3, CPO5 -> CP5: three characters, as OCPI party ids are
        return ("EM" if self.role == "EMSP" else "CP") + self.name[-1]

    @property
    def ref(self) -> tuple[str, str]:
        return (self.country_code, self.party_id)


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    parties: tuple[PartySpec, ...]
    ocpi_version: str = "2.2.1"
    """The OCPI version the platform speaks (the mixed-version hub's simulated platforms)."""


@dataclass(frozen=True)
class Topology:
    name: str
    title: str
    platforms: tuple[PlatformSpec, ...]
    links: tuple[tuple[str, str], ...]  # direct connections, by platform name
    hub_members: tuple[str, ...] = ()  # platforms connected to the hub

    @property
    def has_hub(self) -> bool:
        return bool(self.hub_members)

    def platform(self, name: str) -> PlatformSpec:
        return next(p for p in self.platforms if p.name == name)

    def platform_of(self, party: PartySpec) -> PlatformSpec:
        return next(p for p in self.platforms if party in p.parties)

    def directly_linked(self, a: str, b: str) -> bool:
        return (a, b) in self.links or (b, a) in self.links

    def reachable(self, a: str, b: str) -> bool:
        return self.directly_linked(a, b) or (a in self.hub_members and b in self.hub_members)

    def trading_pairs(self) -> list[tuple[PartySpec, PartySpec]]:
        """Every (eMSP, CPO) on two different platforms that can reach each other."""
        pairs = []
        for one, other in combinations(self.platforms, 2):
            if not self.reachable(one.name, other.name):
                continue
            for a in one.parties:
                for b in other.parties:
                    if {a.role, b.role} == {"EMSP", "CPO"}:
                        pairs.append((a, b) if a.role == "EMSP" else (b, a))
        return pairs

    def expected_route(self, emsp: PartySpec, cpo: PartySpec) -> str:
        """`direct` where a direct connection exists, else `hub` (auto policy, all healthy)."""
        one, other = self.platform_of(emsp).name, self.platform_of(cpo).name
        return "direct" if self.directly_linked(one, other) else "hub"


def _parties(*names: str) -> tuple[PartySpec, ...]:
    return tuple(PartySpec(n, "EMSP" if n.startswith("eMSP") else "CPO") for n in names)


def _platform(*names: str) -> PlatformSpec:
    return PlatformSpec("+".join(names), _parties(*names))


def _single(*names: str) -> tuple[PlatformSpec, ...]:
    return tuple(_platform(n) for n in names)


_MESH = (
    _platform("eMSP1", "eMSP2"),
    _platform("eMSP3", "CPO3"),
    _platform("CPO1", "CPO2"),
    _platform("eMSP4", "CPO4"),
)
_HUB_PLATFORMS = (
    _platform("eMSP5"),
    _platform("eMSP3", "eMSP4"),
    _platform("eMSP1", "eMSP2"),
    _platform("CPO5"),
    _platform("CPO3", "CPO4"),
    _platform("CPO1", "CPO2"),
)

TOPOLOGIES: dict[str, Topology] = {
    t.name: t
    for t in (
        Topology(
            "p2p",
            "3.1 Peer-to-peer: {eMSP} <-> {CPO}",
            _single("eMSP1", "CPO1"),
            (("eMSP1", "CPO1"),),
        ),
        Topology(
            "multi-p2p",
            "3.2 Multiple peer-to-peer: single-role platforms, linked where they do business",
            _single("eMSP1", "eMSP2", "eMSP3", "eMSP4", "CPO1", "CPO2", "CPO3"),
            (
                ("eMSP1", "CPO1"),
                ("eMSP1", "CPO2"),
                ("eMSP3", "CPO1"),
                ("eMSP3", "CPO2"),
                ("eMSP2", "CPO1"),
                ("eMSP2", "CPO3"),
                ("eMSP4", "CPO1"),
                ("eMSP4", "CPO3"),
            ),
        ),
        Topology(
            "same-roles",
            "3.3 Peer-to-peer, several parties of the same role per platform",
            (_platform("eMSP1", "eMSP2", "eMSP3"), _platform("CPO1", "CPO2")),
            (("eMSP1+eMSP2+eMSP3", "CPO1+CPO2"),),
        ),
        Topology(
            "dual-roles",
            "3.4 Peer-to-peer, both platforms CPO and eMSP",
            (_platform("CPO1", "eMSP1"), _platform("CPO2", "eMSP2")),
            (("CPO1+eMSP1", "CPO2+eMSP2"),),
        ),
        Topology(
            "mixed",
            "3.5 Peer-to-peer, mixed roles",
            (
                _platform("eMSP1", "CPO1", "eMSP2", "CPO2"),
                _platform("eMSP4", "CPO5", "CPO6", "CPO7"),
            ),
            (("eMSP1+CPO1+eMSP2+CPO2", "eMSP4+CPO5+CPO6+CPO7"),),
        ),
        Topology(
            "mesh",
            "3.6 Multiple peer-to-peer between multi-role platforms",
            _MESH,
            tuple((a.name, b.name) for a, b in combinations(_MESH, 2)),
        ),
        Topology(
            "hub",
            "3.7 Platforms via a hub",
            _HUB_PLATFORMS,
            (),
            tuple(p.name for p in _HUB_PLATFORMS),
        ),
        Topology(
            "hybrid",
            "3.8 Platforms via a hub and direct",
            _HUB_PLATFORMS,
            (("eMSP5", "CPO5"), ("eMSP1+eMSP2", "CPO1+CPO2")),
            tuple(p.name for p in _HUB_PLATFORMS),
        ),
    )
}


MIXED_VERSIONS = Topology(
    "hub-mixed-versions",
    "A hub between platforms of OCPI 2.1.1, 2.2.1 and 2.3.0 (issue 17): every leg in its"
    " receiver's version",
    (
        PlatformSpec("CPO1", _parties("CPO1"), "2.1.1"),
        PlatformSpec("eMSP2", _parties("eMSP2"), "2.2.1"),
        PlatformSpec("eMSP3", _parties("eMSP3"), "2.3.0"),
        PlatformSpec("CPO4", _parties("CPO4"), "2.3.0"),
        PlatformSpec("eMSP5", _parties("eMSP5"), "2.1.1"),
    ),
    (),
    ("CPO1", "eMSP2", "eMSP3", "CPO4", "eMSP5"),
)
"""Simulated platforms (one party each, each its own process) connected straight to the hub;
not in TOPOLOGIES, whose platforms are ocpi-ledger nodes with party backends."""

"""`Simulator`: one simulated platform, its state and its hosted parties calling out.

The calls out (`client`, `register`) live here rather than on the state: the party client and the
credentials handshake read and change that state, so they depend on it, never the other way.
"""

from __future__ import annotations

from simulator import credentials
from simulator.client import PartyClient
from simulator.state import Peer, PlatformState


class Simulator(PlatformState):
    def client(
        self,
        country_code: str,
        party_id: str,
        role: str | None = None,
        *,
        peer: str | None = None,
        timeout: float = 10.0,
    ) -> PartyClient:
        return PartyClient(
            self, self.party(country_code, party_id, role), peer=peer, timeout=timeout
        )

    async def register(self, versions_url: str, token_a: str) -> Peer:
        return await credentials.register(self, versions_url, token_a)

"""In-memory state of one simulated platform: parties, peers, objects, log, faults, results.

The server runs in its own thread (see server.py) while tests drive it from theirs, so every
mutation goes through one lock and readers get copies.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.auth import new_token
from simulator.config import SimConfig, SimParty
from simulator.envelope import ocpi_now

PartyKey = tuple[str, str]
FAULT_MODES = frozenset({"hang", "slow", "status", "truncated", "html", "huge"})


@dataclass
class Peer:
    """A platform we completed the credentials handshake with (either direction)."""

    id: str
    versions_url: str
    token_we_accept: str
    token_we_send: str
    endpoints: dict[tuple[str, str], str] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
    version: str = "2.2.1"

    def endpoint(self, module: str, interface: str) -> str:
        try:
            return self.endpoints[(module, interface)]
        except KeyError:
            raise LookupError(
                f"peer {self.id} publishes no {module} {interface} endpoint"
            ) from None


@dataclass(frozen=True)
class Identity:
    """Who an inbound token says the caller is."""

    kind: Literal["token_a", "peer", "backend"]
    token: str
    peer: Peer | None = None


@dataclass(frozen=True)
class LogEntry:
    time: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    addressed_party: PartyKey | None

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", errors="replace"),
            "addressed_party": (
                None
                if self.addressed_party is None
                else {
                    "country_code": self.addressed_party[0],
                    "party_id": self.addressed_party[1],
                }
            ),
        }


@dataclass(frozen=True)
class Fault:
    path_prefix: str
    mode: str
    delay_ms: int = 0
    status: int = 500
    size: int = 1024

    def __post_init__(self) -> None:
        if self.mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}; one of {sorted(FAULT_MODES)}")


@dataclass(frozen=True)
class ReceivedResult:
    """An async CommandResult / charging-profile result POSTed to one of our response URLs."""

    id: str
    module: str
    party: PartyKey
    body: Any
    headers: dict[str, str]
    time: str


class PlatformState:
    """What one simulated platform holds and knows; `Simulator` adds its parties' calls out."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.token_as: set[str] = {config.token_a} if config.token_a else set()
        self.peers: dict[str, Peer] = {}
        # tokens we issued as Sender of a handshake that is still running (token B)
        self.pending_tokens: set[str] = set()
        # objects each hosted party owns and serves on its Sender interfaces
        self.owned: dict[PartyKey, dict[str, dict[Any, dict[str, Any]]]] = {}
        # objects pushed to each hosted party on its Receiver interfaces
        self.received: dict[PartyKey, dict[str, dict[Any, Any]]] = {}
        self.client_infos: dict[PartyKey, dict[str, Any]] = {}
        self.results: list[ReceivedResult] = []
        self.sent_callbacks: list[dict[str, Any]] = []
        self.log: list[LogEntry] = []
        self.faults: list[Fault] = []
        self.background: set[asyncio.Task[None]] = set()

    def reset(self) -> None:
        """Forget everything learnt since start (peers, objects, log, faults, results).

        Lets tests share one running server instead of paying a start and stop each.
        """
        with self.lock:
            self.token_as = {self.config.token_a} if self.config.token_a else set()
            self.peers.clear()
            self.pending_tokens.clear()
            self.owned.clear()
            self.received.clear()
            self.client_infos.clear()
            self.results.clear()
            self.sent_callbacks.clear()
            self.log.clear()
            self.faults.clear()

    # -- parties -------------------------------------------------------------------------------

    @property
    def parties(self) -> list[SimParty]:
        return list(self.config.parties)

    def hosted(self, country_code: str, party_id: str) -> list[SimParty]:
        key = (country_code.upper(), party_id.upper())
        return [p for p in self.config.parties if p.key == key]

    def party(self, country_code: str, party_id: str, role: str | None = None) -> SimParty:
        for p in self.hosted(country_code, party_id):
            if role is None or p.role == role:
                return p
        raise LookupError(f"this platform hosts no party {country_code}*{party_id} {role or ''}")

    def credentials_roles(self) -> list[dict[str, Any]]:
        return [
            {
                "role": p.role,
                "business_details": {"name": p.name},
                "party_id": p.party_id,
                "country_code": p.country_code,
            }
            for p in self.config.parties
        ]

    @property
    def base_url(self) -> str:
        if not self.config.public_url:
            raise RuntimeError("public_url is not set; start the server first")
        return self.config.public_url.rstrip("/")

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    # -- tokens and peers ------------------------------------------------------------------------

    def add_token_a(self, token: str | None = None) -> str:
        token = token or new_token()
        with self.lock:
            self.token_as.add(token)
        return token

    def authenticate(self, candidates: list[str]) -> Identity | None:
        with self.lock:
            for token in candidates:
                if self.config.mode == "backend":
                    if token == self.config.backend_token:
                        return Identity("backend", token)
                    continue
                for peer in self.peers.values():
                    if token == peer.token_we_accept:
                        return Identity("peer", token, peer)
                if token in self.pending_tokens:
                    return Identity("peer", token, None)
                if token in self.token_as:
                    return Identity("token_a", token)
        return None

    def add_peer(self, peer: Peer) -> None:
        with self.lock:
            self.peers[peer.id] = peer

    def remove_peer(self, peer_id: str) -> None:
        with self.lock:
            self.peers.pop(peer_id, None)

    def peer(self, peer_id: str | None = None) -> Peer:
        with self.lock:
            if peer_id is not None:
                return self.peers[peer_id]
            if len(self.peers) != 1:
                raise LookupError(f"{len(self.peers)} peers registered; name the one to use")
            return next(iter(self.peers.values()))

    def outbound_token(self, identity: Identity | None) -> str:
        """The token for calling back whoever sent us a request."""
        if self.config.mode == "backend":
            assert self.config.backend_token
            return self.config.backend_token
        if identity is None or identity.peer is None:
            raise LookupError("no registered peer to call back")
        return identity.peer.token_we_send

    # -- objects ---------------------------------------------------------------------------------

    def seed(self, country_code: str, party_id: str, module: str, obj: dict[str, Any]) -> None:
        """Give a hosted party an object it owns (served on its Sender interface)."""
        if not self.hosted(country_code, party_id):
            raise LookupError(f"this platform hosts no party {country_code}*{party_id}")
        owner = (country_code.upper(), party_id.upper())
        stored = copy.deepcopy(obj)
        if not self.config.is_211:  # 2.1.1 objects carry no owner ids
            stored.setdefault("country_code", owner[0])
            stored.setdefault("party_id", owner[1])
        stored.setdefault("last_updated", ocpi_now())
        with self.lock:
            self.owned.setdefault(owner, {}).setdefault(module, {})[object_key(module, stored)] = (
                stored
            )

    def owned_objects(self, owner: PartyKey, module: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.owned.get(owner, {}).get(module, {}).values()))

    def owned_object(self, owner: PartyKey, module: str, key: Any) -> dict[str, Any] | None:
        with self.lock:
            found = self.owned.get(owner, {}).get(module, {}).get(key)
            return copy.deepcopy(found)

    def has_owned(self, owner: PartyKey, module: str) -> bool:
        with self.lock:
            return bool(self.owned.get(owner, {}).get(module))

    def received_store(self, party: PartyKey, module: str) -> dict[Any, Any]:
        """The live dict of objects pushed to `party`; callers hold `self.lock` while mutating."""
        return self.received.setdefault(party, {}).setdefault(module, {})

    def received_objects(self, party: PartyKey, module: str) -> dict[Any, Any]:
        with self.lock:
            return copy.deepcopy(self.received.get(party, {}).get(module, {}))

    # -- request log, faults, results ------------------------------------------------------------

    def record(self, entry: LogEntry) -> None:
        with self.lock:
            self.log.append(entry)

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def requests(self) -> list[LogEntry]:
        with self.lock:
            return list(self.log)

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            return next((f for f in self.faults if path.startswith(f.path_prefix)), None)

    def fault_active(self, fault: Fault) -> bool:
        with self.lock:
            return any(f is fault for f in self.faults)

    def add_result(self, result: ReceivedResult) -> None:
        with self.lock:
            self.results.append(result)

    def result(self, result_id: str) -> ReceivedResult | None:
        with self.lock:
            return next((r for r in self.results if r.id == result_id), None)

    async def wait_for_result(self, result_id: str, timeout: float = 5.0) -> ReceivedResult:
        """Wait for a result; polls because it arrives on the server thread's event loop."""
        deadline = time.monotonic() + timeout
        while (found := self.result(result_id)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no result arrived for {result_id} within {timeout}s")
            await asyncio.sleep(0.01)
        return found

    def spawn(self, coro: Any) -> None:
        """Run a coroutine in the background on the current (server) loop, keeping a reference."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)


def object_key(module: str, obj: dict[str, Any]) -> Any:
    """Identity of an owned object within its owner: (uid, type) for tokens, else id."""
    if module == "tokens":
        return (str(obj["uid"]).upper(), str(obj.get("type", "RFID")))
    return str(obj["id"]).upper()

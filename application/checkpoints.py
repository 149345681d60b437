"""Signed checkpoints: each chain's head (position, hash) at a moment, signed by the node.

A checkpoint kept outside the database (an operator's sink, a partner's copy, an evidence
bundle) is what makes truncation visible: records removed from the end together with their
links leave a chain that verifies on its own, but is shorter than a checkpoint says it was.
Taken periodically when a chain moved, and on demand.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from application.signing import Signer, signature_problem
from domain.chain import ChainLink
from domain.signed import checkpoint_document, covers

log = logging.getLogger(__name__)


class CheckpointStore(Protocol):
    def add(self, document: dict[str, Any]) -> None: ...
    def latest(self) -> dict[str, Any] | None: ...
    def recent(self, limit: int) -> list[dict[str, Any]]: ...


class CheckpointSink(Protocol):
    """Somewhere outside the database an operator chose (a file, an HTTP endpoint)."""

    def send(self, document: dict[str, Any]) -> None: ...


class ChainHeads(Protocol):
    """Reads one chain: `head()` and the link at a position (LedgerArchive does both)."""

    chain: str

    def head(self) -> ChainLink | None: ...
    def link_at(self, position: int) -> ChainLink | None: ...


class Checkpoints:
    def __init__(
        self,
        signer: Signer,
        node: str,
        chains: list[ChainHeads],
        store: CheckpointStore,
        sink: CheckpointSink | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.signer = signer
        self.node = node
        self.chains = chains
        self.store = store
        self.sink = sink
        self._now = now
        self._unsent: list[dict[str, Any]] = []
        self.sink_error: str | None = None
        # The periodic loop and the admin API (on demand, evidence, receipts) take checkpoints
        # from different threads; one at a time keeps them in order, in the store and the sink.
        self._lock = threading.Lock()

    def heads(self) -> dict[str, tuple[int, str]]:
        heads = {}
        for chain in self.chains:
            head = chain.head()
            heads[chain.chain] = (head.position, head.hash) if head else (0, "0" * 64)
        return heads

    def take(self, *, only_if_moved: bool = False, send: bool = True) -> dict[str, Any] | None:
        """Sign and keep a checkpoint of every chain's head now (and send it to the sink).
        With `only_if_moved`, None when no chain moved since the latest checkpoint. `send`
        False leaves the sending to the next periodic round: a partner asking for receipts
        must never wait on, or be slowed by, an operator's sink."""
        with self._lock:
            return self._take(only_if_moved, send)

    def _take(self, only_if_moved: bool, send: bool = True) -> dict[str, Any] | None:
        heads = self.heads()
        latest = self.store.latest()
        moved = latest is None or any(covers(latest, n) != h for n, h in heads.items())
        if only_if_moved and not moved:
            self._send_unsent()
            return None
        taken_at = self._now().astimezone(UTC).isoformat().replace("+00:00", "Z")
        document = self.signer.sign(
            checkpoint_document(self.node, heads, taken_at, self.signer.key_id)
        )
        self.store.add(document)
        self._unsent.append(document)
        if send:
            self._send_unsent()
        return document

    def step(self) -> int:
        """One periodic round (a BackgroundLoop step): a checkpoint if the ledger moved."""
        self.take(only_if_moved=True)
        return 0

    def _send_unsent(self) -> None:
        if self.sink is None:
            self._unsent.clear()
            return
        while self._unsent:
            try:
                self.sink.send(self._unsent[0])
            except Exception as error:  # retried at the next round; the store keeps it anyway
                self.sink_error = f"{type(error).__name__}: {error}"
                log.warning("checkpoint sink refused: %s (retried later)", self.sink_error)
                del self._unsent[:-100]  # an unreachable sink must not grow memory for ever
                return
            self._unsent.pop(0)
            self.sink_error = None

    def latest(self) -> dict[str, Any] | None:
        return self.store.latest()

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.store.recent(limit)


def latest_checkpoint_status(checkpoints: Checkpoints) -> dict[str, Any]:
    """The latest checkpoint and whether the chains still hold what it says (a cheap check of
    the heads and the signature, not a full verify): what an operator console shows."""
    latest = checkpoints.latest()
    if latest is None:
        return {"checkpoint": None, "holds": None, "problems": [], "sink_error": None}
    problems = []
    wrong_signature = signature_problem(latest, checkpoints.signer.public_key)
    if wrong_signature:
        problems.append(wrong_signature)
    for chain in checkpoints.chains:
        expected = covers(latest, chain.chain)
        if expected is None:
            continue
        position, head_hash = expected
        if position == 0:
            continue
        link = chain.link_at(position)
        if link is None:
            head = chain.head()
            problems.append(
                f"the {chain.chain} chain ends at {head.position if head else 0}, "
                f"the checkpoint covers {position}"
            )
        elif link.hash != head_hash:
            problems.append(f"the {chain.chain} chain differs at position {position}")
    return {
        "checkpoint": latest,
        "holds": not problems,
        "problems": problems,
        "sink_error": checkpoints.sink_error,
    }

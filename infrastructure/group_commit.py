"""Group commit: concurrent requests share one ledger transaction instead of queueing for one each.

PostgreSQL serialises inserts into an events table (the library takes an EXCLUSIVE lock so that
commit order equals notification order), so one commit per message caps throughput near 800/s.
A single writer thread takes whatever is queued while the previous commit ran and saves it in
one transaction: durability stays per message (nobody is answered before their commit), and
throughput grows with load.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from eventsourcing.persistence import IntegrityError

from application.bodies import Body
from application.ledger import MessageLedger
from domain.messages import RoutedMessage

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    events: Sequence[RoutedMessage.Event]
    bodies: Sequence[Body]
    future: Future[int] = field(default_factory=Future)


class GroupCommitter:
    def __init__(self, ledger: MessageLedger, max_batch: int = 256) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="ledger-group-commit", daemon=True)
        self._thread.start()
        self.batches = 0
        self.items = 0

    def submit(self, messages: Sequence[RoutedMessage], bodies: Sequence[Body] = ()) -> Future[int]:
        # Collect now: a failed batch must be able to save the same events again one by one.
        events = [event for message in messages for event in message.collect_events()]
        pending = _Pending(events, bodies)
        self._queue.put(pending)
        return pending.future

    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        return await asyncio.wrap_future(self.submit(messages, bodies))

    def record_sync(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        return self.submit(messages, bodies).result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            position = self.ledger.record(
                *[e for p in batch for e in p.events],
                bodies=[b for p in batch for b in p.bodies],
            )
        except IntegrityError:
            # One of them collides (a retried X-Request-ID); commit each on its own so that
            # only the colliding request sees the error.
            for pending in batch:
                self._commit_one(pending)
            return
        except Exception as error:
            for pending in batch:
                pending.future.set_exception(error)
            return
        self.batches += 1
        self.items += len(batch)
        for pending in batch:
            pending.future.set_result(position)

    def _commit_one(self, pending: _Pending) -> None:
        try:
            position = self.ledger.record(*pending.events, bodies=pending.bodies)
        except Exception as error:
            pending.future.set_exception(error)
        else:
            self.items += 1
            pending.future.set_result(position)

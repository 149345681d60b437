"""Group commit: concurrent requests share one ledger transaction instead of queueing for one each.

PostgreSQL serialises inserts into an events table (the library takes an EXCLUSIVE lock so that
commit order equals notification order), so one commit per message caps throughput near 800/s.
A single writer thread takes whatever is queued while the previous commit ran and saves it in
one transaction: durability stays per message (nobody is answered before their commit), and
throughput grows with load.

When the store fails, callers must get a fast, clear refusal rather than wait on connection
timeouts: a failed commit opens a short breaker window in which new submissions fail at once;
the first submission after the window probes the store again.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from contextlib import suppress
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import IntegrityError

from application.bodies import Body
from application.errors import LedgerUnavailableError
from application.ledger import MessageLedger
from domain.messages import RoutedMessage

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    events: Sequence[CanMutateAggregate[UUID]]
    bodies: Sequence[Body]
    future: Future[int] = field(default_factory=Future)
    waiter: asyncio.Future[int] | None = None
    """The event loop's side of `future`, settled by `_wake_waiters` (see `record`)."""


class GroupCommitter:
    def __init__(
        self,
        ledger: MessageLedger,
        max_batch: int = 256,
        commit_timeout: float = 3.0,
        breaker_seconds: float = 0.5,
        linger: float = 0.002,
        linger_from: int = 4,
    ) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self.linger = linger
        self.linger_from = linger_from
        self.commit_timeout = commit_timeout
        self.breaker_seconds = breaker_seconds
        self.last_failure: str | None = None
        self._open_until = 0.0
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="ledger-group-commit", daemon=True)
        self._thread.start()
        self.batches = 0
        self.items = 0
        self.behind_failures = 0

    @property
    def store_available(self) -> bool:
        return time.monotonic() >= self._open_until

    def submit(self, messages: Sequence[RoutedMessage], bodies: Sequence[Body] = ()) -> Future[int]:
        return self._submit(messages, bodies)

    def _submit(
        self,
        messages: Sequence[RoutedMessage],
        bodies: Sequence[Body],
        waiter: asyncio.Future[int] | None = None,
    ) -> Future[int]:
        # Collect now: a failed batch must be able to save the same events again one by one.
        events = [event for message in messages for event in message.collect_events()]
        pending = _Pending(events, bodies, waiter=waiter)
        if not self.store_available:
            pending.future.set_exception(self._unavailable())
            return pending.future
        self._queue.put(pending)
        return pending.future

    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        """Durably record; raises LedgerUnavailableError when the store cannot confirm in time.

        Giving up withdraws the submission unless the writer has already taken it into a
        commit. Such a commit may still land after the caller was refused; the error then
        offers `when_committed`, so the caller can record what really happened instead of
        leaving the ledger to claim a forward that never took place.
        """
        # The writer settles every waiter of a commit with one call into their loop
        # (`_wake_waiters`), where `asyncio.wrap_future` scheduled a callback and woke the loop
        # for each (bench/README.md entry 31).
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        submitted = self._submit(messages, bodies, waiter)
        if submitted.done():  # refused at once: the breaker is open
            return submitted.result()
        try:
            async with asyncio.timeout(self.commit_timeout):
                return await waiter
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            submitted.cancel()  # the caller is gone: withdraw it unless already taken
            raise
        submitted.cancel()  # succeeds only while the writer has not taken it
        if submitted.done() and not submitted.cancelled() and submitted.exception() is None:
            return submitted.result()  # it landed just as the wait ended
        self._trip("commit did not complete in time")
        refusal = self._unavailable()
        if not submitted.cancelled():  # under way (or it ended just now, failed or not)
            refusal.when_committed = lambda then: submitted.add_done_callback(
                lambda done: _call_if_committed(done, then)
            )
        raise refusal

    def record_behind(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> None:
        """Queue for the next commit without waiting for it.

        For the outcome of a message whose request is already recorded as forwarded: the
        requester need not wait a second commit for its answer. The events are queued before
        this returns, so they go out in the batch being collected (or the next), and `close`
        commits everything queued; a failure is logged with the message ids and counted in
        `behind_failures`, never dropped silently (the ledger then shows the message forwarded
        without an outcome).
        """
        future = self.submit(messages, bodies)
        ids = sorted({str(message.id) for message in messages})
        future.add_done_callback(lambda done: self._behind_done(done, ids))

    def _behind_done(self, future: Future[int], ids: list[str]) -> None:
        error = future.exception()
        if error is not None:
            self.behind_failures += 1
            log.error(
                "the outcome of message(s) %s was not recorded (%s): %s",
                ", ".join(ids),
                self.last_failure or type(error).__name__,
                error if not isinstance(error, LedgerUnavailableError) else "store unavailable",
            )

    def flush(self, timeout: float | None = None) -> None:
        """Return once everything submitted before this call was committed (or failed)."""
        marker = _Pending((), ())
        self._queue.put(marker)
        limit = timeout if timeout is not None else self.commit_timeout * 2
        if not wait([marker.future], limit).done:
            raise TimeoutError(f"queued ledger commits did not finish within {limit:g} s")

    def record_sync(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        submitted = self.submit(messages, bodies)
        try:
            return submitted.result(self.commit_timeout)
        except TimeoutError:
            submitted.cancel()
            self._trip("commit did not complete in time")
            raise self._unavailable() from None

    def _trip(self, reason: str) -> None:
        self.last_failure = reason
        self._open_until = time.monotonic() + self.breaker_seconds

    def _unavailable(self) -> LedgerUnavailableError:
        return LedgerUnavailableError(
            f"the message ledger cannot record right now ({self.last_failure}); "
            "nothing was forwarded, retry shortly"
        )

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    def _run(self) -> None:
        last_size = 0
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            # Under load (the last batch was not small) wait a moment for more: every commit
            # costs the same CPU and round trips however many messages it carries. At low
            # load nothing waits.
            deadline = time.monotonic() + (self.linger if last_size >= self.linger_from else 0)
            stop = False
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = (
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else (self._queue.get_nowait())
                    )
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            last_size = len(batch)
            # Whatever a caller withdrew (it gave up waiting) is never committed; the rest can
            # no longer be withdrawn.
            taken = [pending for pending in batch if pending.future.set_running_or_notify_cancel()]
            if taken:
                self._commit(taken)
                self._wake_waiters(taken)
            if stop:
                return

    def _wake_waiters(self, batch: list[_Pending]) -> None:
        """Hand a settled batch's outcomes to the callers waiting on event loops: one call into
        each loop for the whole batch."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Future[int], asyncio.Future[int]]]]
        by_loop = {}
        for pending in batch:
            waiter = pending.waiter
            if waiter is not None:
                by_loop.setdefault(waiter.get_loop(), []).append((pending.future, waiter))
        for loop, waiters in by_loop.items():
            with suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle_waiters, waiters)

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
            log.warning("ledger commit failed: %s", error)
            self._trip(f"{type(error).__name__}")
            for pending in batch:
                _settle(pending.future, error=self._unavailable())
            return
        self.last_failure = None
        self._open_until = 0.0  # the store answers again: no need to sit out the window
        self.batches += 1
        self.items += len(batch)
        for pending in batch:
            _settle(pending.future, position)

    def _commit_one(self, pending: _Pending) -> None:
        try:
            position = self.ledger.record(*pending.events, bodies=pending.bodies)
        except Exception as error:
            _settle(pending.future, error=error)
        else:
            self.items += 1
            _settle(pending.future, position)


def _settle(future: Future[int], position: int = 0, error: BaseException | None = None) -> None:
    """Settle a future the writer took (so no caller can cancel it any more)."""
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(position)


def _settle_waiters(waiters: list[tuple[Future[int], asyncio.Future[int]]]) -> None:
    """On the waiters' loop: each waiter gets its submission's outcome (unless it gave up)."""
    for future, waiter in waiters:
        if waiter.done():
            continue
        error = future.exception()
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(future.result())


def _call_if_committed(future: Future[int], then: Callable[[], None]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    try:
        then()
    except Exception:
        # The writer thread must outlive every callback, or the node never records again.
        log.exception("recording what followed a late commit failed")

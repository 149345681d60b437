"""The message ledger and its body store, on SQLite and PostgreSQL."""

import threading

import pytest
from eventsourcing.persistence import IntegrityError

from application.bodies import Body
from domain.messages import Admission, RoutedMessage
from infrastructure.group_commit import GroupCommitter
from infrastructure.store import Store


def received(request_id: str, body: Body | None = None) -> RoutedMessage:
    return RoutedMessage.admit(admission(request_id, body))


def admission(request_id: str, body: Body | None = None) -> Admission:
    return Admission(
        sender_scope="conn-1",
        request_id=request_id,
        attempt=0,
        correlation_id="corr",
        connection_id="conn-1",
        method="PUT",
        path="/x",
        query="",
        module="locations",
        interface="RECEIVER",
        headers={},
        body_sha256=body.sha256 if body else None,
        body_size=body.size if body else 0,
        from_party="NL*CPO",
        to_party="NL*EMS",
    )


def body_rows(store: Store) -> dict[str, bytes]:
    rows = store.ledger_db.query("SELECT sha256, body FROM message_bodies")
    return {r["sha256"]: bytes(r["body"]) for r in rows}


def test_bodies_are_stored_once_by_content_hash(store: Store) -> None:
    body = Body.of(b'{"id": "LOC1", "price": 1.10}')
    store.ledger.record(received("a", body), bodies=[body])
    store.ledger.record(received("b", body), bodies=[body])
    assert body_rows(store) == {body.sha256: body.data}


def test_a_failed_save_stores_neither_the_events_nor_the_bodies(store: Store) -> None:
    first = Body.of(b"first")
    store.ledger.record(received("dup", first), bodies=[first])
    second = Body.of(b"second body")
    with pytest.raises(IntegrityError):
        store.ledger.record(received("dup", second), bodies=[second])
    assert set(body_rows(store)) == {first.sha256}
    assert store.ledger.recorder.max_notification_id() == 1


def test_a_recorded_message_reads_back_with_its_steps(store: Store) -> None:
    routed = admission("read-back")
    routed.route("DIRECT", ["NL*EMS"], "to header")
    message = RoutedMessage.admit(routed)
    store.ledger.record(message)
    loaded = store.ledger.get_message(message.id)
    assert loaded is not None and loaded.classification == "DIRECT"


def test_group_commit_batches_concurrent_messages_and_isolates_a_duplicate(store: Store) -> None:
    committer = GroupCommitter(store.ledger)
    try:
        store.ledger.record(received("taken"))
        results: dict[str, object] = {}

        def send(request_id: str) -> None:
            try:
                results[request_id] = committer.record_sync(received(request_id))
            except Exception as error:
                results[request_id] = error

        threads = [threading.Thread(target=send, args=(f"m{i}",)) for i in range(40)]
        threads.append(threading.Thread(target=send, args=("taken",)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert isinstance(results.pop("taken"), IntegrityError)
        assert all(isinstance(position, int) for position in results.values())
        assert store.ledger.recorder.max_notification_id() >= 41
        assert committer.items == 40
    finally:
        committer.close()


class BrokenLedger:
    """A ledger whose store is down: every save fails like a lost connection."""

    def __init__(self) -> None:
        self.attempts = 0

    def record(self, *_events: object, bodies: object = ()) -> int:
        self.attempts += 1
        raise ConnectionError("server closed the connection unexpectedly")


def test_a_store_outage_is_reported_fast_and_clearly_then_probed_again() -> None:
    import time

    from application.errors import LedgerUnavailableError

    ledger = BrokenLedger()
    committer = GroupCommitter(ledger, breaker_seconds=0.2)  # type: ignore[arg-type]
    try:
        with pytest.raises(LedgerUnavailableError, match="nothing was forwarded"):
            committer.record_sync(received("first"))
        started = time.perf_counter()
        with pytest.raises(LedgerUnavailableError, match="ConnectionError"):
            committer.record_sync(received("second"))
        assert time.perf_counter() - started < 0.5  # refused at once, not after the 3 s timeout
        assert ledger.attempts == 1
        time.sleep(0.25)
        with pytest.raises(LedgerUnavailableError):
            committer.record_sync(received("third"))
        assert ledger.attempts == 2  # the breaker let one probe through
    finally:
        committer.close()


def test_an_outcome_recorded_behind_is_in_the_ledger_once_the_committer_is_flushed(
    store: Store,
) -> None:
    committer = GroupCommitter(store.ledger)
    try:
        routed = admission("behind")
        routed.route("DIRECT", ["NL*EMS"], "to header")
        message = RoutedMessage.admit(routed)
        committer.record_sync(message)
        message.respond(200, 1000, 1.5, {}, None, 0)
        committer.record_behind(message)
        committer.flush()
        loaded = store.ledger.get_message(message.id)
        assert loaded is not None and loaded.version == message.version
        assert committer.behind_failures == 0
    finally:
        committer.close()


def test_closing_the_committer_commits_what_was_queued_behind(store: Store) -> None:
    committer = GroupCommitter(store.ledger)
    queued = [received(f"queued-{n}") for n in range(20)]
    for message in queued:
        committer.record_behind(message)
    committer.close()
    assert all(store.ledger.get_message(m.id) is not None for m in queued)


def test_an_outcome_that_cannot_be_recorded_behind_is_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    committer = GroupCommitter(BrokenLedger())  # type: ignore[arg-type]
    message = received("lost")
    try:
        committer.record_behind(message)
        committer.flush()
    finally:
        committer.close()
    assert committer.behind_failures == 1
    assert str(message.id) in caplog.text and "was not recorded" in caplog.text


class GatedLedger:
    """The real ledger behind a gate: a commit waits until the test opens it, like a store
    that answers slowly."""

    def __init__(self, store: Store) -> None:
        self.ledger = store.ledger
        self.gate = threading.Event()
        self.entered = threading.Event()

    def record(self, *events: object, bodies: object = ()) -> int:
        self.entered.set()
        self.gate.wait(10)
        return self.ledger.record(*events, bodies=bodies)  # type: ignore[arg-type]


def test_a_submission_withdrawn_before_the_writer_took_it_is_never_committed(
    store: Store,
) -> None:
    import asyncio

    from application.errors import LedgerUnavailableError

    gated = GatedLedger(store)
    committer = GroupCommitter(gated, commit_timeout=0.2)  # type: ignore[arg-type]
    try:
        committer.record_behind(received("ahead"))  # the writer is stuck committing this one
        assert gated.entered.wait(5)
        withdrawn = received("withdrawn")
        with pytest.raises(LedgerUnavailableError) as refused:
            asyncio.run(committer.record(withdrawn))
        assert refused.value.when_committed is None  # it cannot land any more
        gated.gate.set()
        committer.flush()
        assert store.ledger.get_message(withdrawn.id) is None
    finally:
        gated.gate.set()
        committer.close()


def test_a_commit_under_way_when_the_wait_ends_reports_that_it_landed(store: Store) -> None:
    import asyncio

    from application.errors import LedgerUnavailableError

    gated = GatedLedger(store)
    committer = GroupCommitter(gated, commit_timeout=0.2, breaker_seconds=30)  # type: ignore[arg-type]
    try:
        late = received("late")
        with pytest.raises(LedgerUnavailableError) as refused:
            asyncio.run(committer.record(late))
        assert not committer.store_available  # the breaker opened
        landed: list[str] = []
        when_committed = refused.value.when_committed
        assert when_committed is not None
        when_committed(lambda: landed.append("late"))
        gated.gate.set()
        committer.flush()
        assert landed == ["late"]
        assert store.ledger.get_message(late.id) is not None
        # A commit that succeeds shows the store answers again: the breaker closes at once.
        assert committer.store_available
        assert committer.record_sync(received("next")) > 0
    finally:
        gated.gate.set()
        committer.close()


async def writer_held_at_the_gate(committer: GroupCommitter, gated: GatedLedger) -> None:
    """Queue one commit the writer takes and holds at the gate: what follows queues behind."""
    import asyncio

    committer.record_behind(received("ahead"))
    assert await asyncio.to_thread(gated.entered.wait, 5)


def test_callers_waiting_on_one_commit_are_woken_with_one_call_into_their_loop(
    store: Store,
) -> None:
    import asyncio

    gated = GatedLedger(store)
    committer = GroupCommitter(gated)  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    calls_from_other_threads: list[object] = []
    call_soon_threadsafe = loop.call_soon_threadsafe

    def counted(callback, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls_from_other_threads.append(callback)
        return call_soon_threadsafe(callback, *args, **kwargs)

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign]

    async def twenty_callers() -> list[int]:
        await writer_held_at_the_gate(committer, gated)
        waiting = [
            asyncio.ensure_future(committer.record(received(f"waiting-{n}"))) for n in range(20)
        ]
        await asyncio.sleep(0.05)  # all twenty queued behind the gate: the next commit takes them
        calls_from_other_threads.clear()
        gated.gate.set()
        return await asyncio.gather(*waiting)

    try:
        positions = loop.run_until_complete(twenty_callers())
        assert len(set(positions)) == 1  # one commit
        assert len(calls_from_other_threads) == 1
    finally:
        gated.gate.set()
        committer.close()
        loop.close()


def test_a_caller_cancelled_while_waiting_withdraws_what_the_writer_has_not_taken(
    store: Store,
) -> None:
    import asyncio

    gated = GatedLedger(store)
    committer = GroupCommitter(gated)  # type: ignore[arg-type]
    gone = received("gone")

    async def caller_goes_away() -> None:
        await writer_held_at_the_gate(committer, gated)
        waiting = asyncio.ensure_future(committer.record(gone))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    try:
        asyncio.run(caller_goes_away())
        gated.gate.set()
        committer.flush()
        assert store.ledger.get_message(gone.id) is None
    finally:
        gated.gate.set()
        committer.close()

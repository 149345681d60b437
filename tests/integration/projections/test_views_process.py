"""The ledger's views followed by another process: the node only reads them."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import pytest

from api.audit_setup import ledger_views
from api.views_process import follow_ledger
from application.audit import MessageQuery
from infrastructure.database_url import DatabaseUrl
from infrastructure.detached_runner import DetachedRunner
from infrastructure.settings import Settings, load_settings
from infrastructure.sql import startup_lock
from infrastructure.store import Store, open_store
from tests.audit_support import record, routed


@pytest.fixture
def settings(database_url: DatabaseUrl) -> Settings:
    return dataclasses.replace(
        load_settings(environ={}), database=database_url, ledger_views="external"
    )


@pytest.fixture
def follower(settings: Settings) -> Iterator[threading.Thread]:
    stopping = threading.Event()
    thread = threading.Thread(target=follow_ledger, args=(settings, stopping), daemon=True)
    thread.start()
    yield thread
    stopping.set()
    thread.join(10)
    assert not thread.is_alive()


def detached(store: Store, settings: Settings) -> dict[str, DetachedRunner]:
    # Views create their tables: under the start-up lock, as the node does, since the follower
    # may be creating them at this moment.
    with startup_lock(store.url):
        views = ledger_views(store, settings)
    return {
        projection.name: DetachedRunner(projection.name, store.ledger, view)
        for projection, view in views
    }


def test_messages_recorded_by_the_node_show_in_views_another_process_follows(
    store: Store, settings: Settings, follower: threading.Thread
) -> None:
    position = record(store, routed("r1"), routed("r2", correlation_id="dispute"))
    runners = detached(store, settings)
    for runner in runners.values():
        runner.wait(position, timeout=15)
    audit = runners["audit"].view
    found = audit.find(MessageQuery(correlation_id="dispute"))  # type: ignore[attr-defined]
    assert [row["request_id"] for row in found] == ["r2"]


def test_a_view_reset_by_the_node_is_rebuilt_by_the_follower(
    store: Store, settings: Settings, follower: threading.Thread
) -> None:
    position = record(store, routed("r1"), routed("r2"))
    runners = detached(store, settings)
    runners["audit"].wait(position, timeout=15)
    runners["audit"].view.reset()
    runners["audit"].wait(position, timeout=15)
    assert len(runners["audit"].view.find(MessageQuery())) == 2  # type: ignore[attr-defined]


def test_waiting_for_a_view_nobody_follows_says_so(store: Store, settings: Settings) -> None:
    position = record(store, routed("r1"))
    with pytest.raises(TimeoutError, match="ocpi-ledger views"):
        detached(store, settings)["audit"].wait(position, timeout=0.3)


def test_the_follower_opens_its_own_store_of_the_same_database(
    database_url: DatabaseUrl, settings: Settings, follower: threading.Thread
) -> None:
    with startup_lock(database_url):  # as every process that opens a store does
        other = open_store(database_url)
    try:
        position = record(other, routed("r9"))
        detached(other, settings)["traffic"].wait(position, timeout=15)
    finally:
        other.close()

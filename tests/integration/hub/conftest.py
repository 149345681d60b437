"""Fixtures of the hub scenario suite: hubs on both stores, fed by fake platforms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infrastructure.database_url import DatabaseUrl
from tests.conftest import STORES, fresh_database
from tests.support.hub import HubUnderTest


@pytest.fixture
def hub(database_url: DatabaseUrl) -> Iterator[HubUnderTest]:
    with HubUnderTest(database_url, forward_timeout=2.0) as running:
        yield running


@pytest.fixture(scope="module", params=STORES)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseUrl]:
    """Like `database_url`, shared by a module's tests (one hub serves a whole table)."""
    yield from fresh_database(request.param, tmp_path_factory)

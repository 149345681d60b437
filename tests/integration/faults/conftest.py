"""Fixtures of the fault suite: hubs on both stores with short forward timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infrastructure.database_url import DatabaseUrl
from tests.support.hub import HubUnderTest


@pytest.fixture
def hub(database_url: DatabaseUrl) -> Iterator[HubUnderTest]:
    with HubUnderTest(database_url, forward_timeout=1.0) as running:
        yield running

"""Fixtures of the process-level fault tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_platform import FakePlatform, Reply


@pytest.fixture
def platforms() -> Iterator[tuple[FakePlatform, FakePlatform]]:
    """A CPO and an eMSP platform; the CPO's requests under /slow never get an answer (they
    are mid-way when a node dies)."""
    cpo, emsp = FakePlatform("cpo").start(), FakePlatform("emsp").start()
    cpo.on("GET", "/ocpi/2.2.1/locations/sender/slow", Reply(hang=True))
    yield cpo, emsp
    cpo.stop()
    emsp.stop()

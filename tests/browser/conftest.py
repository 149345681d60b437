"""The browser tier: Playwright drives Debian's headless chromium against a node that routed
real traffic between platforms connected to it.

Playwright's own browser download is not reachable here, so the tests launch the system
chromium; pin a Playwright whose bundled Chromium major matches it (see pyproject.toml). When
the browser is missing or will not start, the tier skips on a developer's machine but fails in
CI (CI=true): a console nobody tested in a browser must not pass as tested.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("OCPI_LEDGER_CHROMIUM", "/usr/lib/chromium/chromium")


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tier cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tier: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: while Playwright's sync API is open, the main thread has a running
    event loop, and every later test that calls asyncio.run() would fail."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as error:
        unavailable(f"playwright is not installed ({error}); pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        unavailable(f"no chromium at {CHROMIUM}; apt-get install chromium")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        except Error as error:
            unavailable(f"chromium at {CHROMIUM} does not start: {error}")
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where pages are photographed: kept for CI artefacts, never committed."""
    folder = Path(
        os.environ.get("OCPI_LEDGER_SCREENSHOTS")
        or Path(tempfile.gettempdir()) / "ocpi-ledger-console-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder

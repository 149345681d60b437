"""Stands in for a projection runner that runs in another process.

When the ledger's read models are followed elsewhere (`OCPI_LEDGER_LEDGER_VIEWS=process` or
`external`), the serving process still reads those views and reports their progress: it needs
their position, a way to wait for them (read-your-writes), and `view.reset()` for a rebuild,
which the other process notices on its next read of the position.
"""

from __future__ import annotations

import time
from typing import Any

from application.projection import TrackedView


class DetachedRunner:
    """Quacks like a ProjectionRunner (name, position, last_error, view, source, start, stop,
    wake, wait) for a view another process keeps up to date."""

    last_error: str | None = None

    def __init__(self, name: str, source: Any, view: TrackedView[Any]) -> None:
        self.name = name
        self.source = source
        self.view = view

    @property
    def position(self) -> int:
        return self.view.position()

    def start(self) -> DetachedRunner:
        return self

    def stop(self, timeout: float = 5.0) -> None:
        pass

    def wake(self, _position: int = 0) -> None:
        pass

    def wait(self, position: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while (current := self.view.position()) < position:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"projection {self.name} at {current}, waited for {position} "
                    "(it is followed by another process: is `ocpi-ledger views` running?)"
                )
            time.sleep(0.02)

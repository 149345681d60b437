"""A worker thread that calls a step function while it finds work, and survives failures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundLoop:
    """Calls `step` in a thread: again at once while it finds work, else after `idle` seconds or
    when woken. Errors are kept in `last_error` and retried with backoff; the thread survives.

    It quacks like a ProjectionRunner (name, position, last_error, start, stop, wake), so a
    node lists and starts it with its runners and /health reports it.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], int],
        idle: float = 1.0,
        position: Callable[[], int] = lambda: 0,
        idle_first: bool = False,
    ) -> None:
        self.name = name
        self._step = step
        self.idle = idle
        self.idle_first = idle_first
        """Wait `idle` (or a wake) before the first step, for work just done at start."""
        self._position = position
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def position(self) -> int:
        return self._position()

    def wake(self, _position: int = 0) -> None:
        self._wake.set()

    def start(self) -> BackgroundLoop:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        backoff = 0.05
        if self.idle_first:
            self._wake.wait(self.idle)
            self._wake.clear()
        while not self._stopping.is_set():
            try:
                worked = self._step()
                self.last_error = None
                backoff = 0.05
            except Exception as error:  # keep going: a store or peer outage is temporary
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("%s failed, retrying: %s", self.name, self.last_error)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if not worked:
                self._wake.wait(self.idle)
                self._wake.clear()

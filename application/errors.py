"""Errors the use cases raise; the API maps each to an OCPI status code."""

from collections.abc import Callable

from domain.errors import DomainError


class ApplicationError(DomainError):
    pass


class ConnectionNotFoundError(ApplicationError):
    pass


class PartyNotFoundError(ApplicationError):
    pass


class LedgerUnavailableError(ApplicationError):
    """The message ledger could not record; nothing may be forwarded unrecorded."""

    when_committed: Callable[[Callable[[], None]], None] | None = None
    """Set when the record may still land (its commit was under way when the wait ended):
    registers a callback to run if it does (at once if it already has)."""

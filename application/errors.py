"""Errors the use cases raise; the API maps each to an OCPI status code."""

from domain.errors import DomainError


class ApplicationError(DomainError):
    pass


class ConnectionNotFoundError(ApplicationError):
    pass


class PartyNotFoundError(ApplicationError):
    pass


class LedgerUnavailableError(ApplicationError):
    """The message ledger could not record; nothing may be forwarded unrecorded."""

"""Domain errors: every broken invariant raises one of these, never a bare Exception."""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidPartyError(DomainError):
    """A country code, party id or role that OCPI does not allow."""


class ConnectionStateError(DomainError):
    """A connection step that its current state does not allow (e.g. registering twice)."""


class PartyAlreadyRegisteredError(DomainError):
    """The party is already reached through another connection or is hosted locally."""


class MessageStateError(DomainError):
    """A routed-message step out of order (e.g. an answer for a leg never forwarded)."""


class InvalidOperationError(DomainError):
    """A request whose module, interface, method, path or query OCPI does not define."""


class InvalidHeaderError(DomainError):
    """A header the router needs is malformed, or present in a form OCPI does not allow."""


class RewriteError(DomainError):
    """A body, query or header cannot be rewritten without guessing; the hub must not forward it."""


class UntranslatableError(DomainError):
    """An OCPI object that the target version cannot express without inventing data.

    `reason` is a short stable code (e.g. `id_too_long`, `module_absent`) the hub answers and
    records with; the message says which field and why.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

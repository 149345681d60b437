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

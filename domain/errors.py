"""Domain errors: every broken invariant raises one of these, never a bare Exception."""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidPartyError(DomainError):
    """A country code, party id or role that OCPI does not allow."""

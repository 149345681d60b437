"""Bodies of the admin API (requests and responses), validated at the edge."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from domain.connections import Leniency


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InvitationRequest(_Strict):
    label: str = Field(min_length=1, max_length=200)
    leniency: Leniency = Leniency.LENIENT
    """How the hub treats the peer's sloppy requests: lenient (default) or strict."""
    ocpi_version: str | None = None
    """The OCPI version the peer must register in (2.1.1, 2.2.1 or 2.3.0); any by default."""
    role: str | None = None
    """2.1.1 only, and required there: the peer's role (CPO or EMSP), which 2.1.1 credentials
    do not carry."""


class InvitationCreated(BaseModel):
    id: str
    token_a: str
    versions_url: str


class ConnectRequest(_Strict):
    versions_url: HttpUrl
    token_a: str = Field(min_length=1, max_length=64, pattern=r"^[!-~]+$")
    label: str | None = Field(default=None, max_length=200)
    ocpi_version: str | None = None
    """The OCPI version to speak; by default 2.2.1 when the peer offers it, else the highest both
    sides offer."""
    role: str | None = None
    """2.1.1 only, and required there: the peer's role (CPO or EMSP)."""


class ReasonRequest(_Strict):
    reason: str = Field(default="by the operator", min_length=1, max_length=500)


class LeniencyRequest(_Strict):
    leniency: Leniency
    reason: str = Field(default="by the operator", min_length=1, max_length=500)


class TranslationPolicyRequest(_Strict):
    refuse_losing: list[
        Annotated[str, Field(pattern=r"^[a-z]+(\.[a-z_0-9]+)+$", max_length=200)]
    ] = Field(max_length=200)
    """`module.field.path` (list indices left out), e.g. `tariffs.min_price`: a translation
    between OCPI versions that would lose it (or anything inside it) is refused."""
    reason: str = Field(default="by the operator", min_length=1, max_length=500)


class TranslationPolicyView(BaseModel):
    connection_id: str
    version: str | None
    refuse_losing: list[str]


class PartyOnConnection(BaseModel):
    country_code: str
    party_id: str
    role: str
    status: str


class ConnectionView(BaseModel):
    id: str
    label: str
    initiated_by: str
    status: str
    status_reason: str
    version: str | None
    """The negotiated OCPI version (None until registered)."""
    proposed_version: str | None
    proposed_role: str | None
    refuse_losing: list[str] = []
    """The translation policy: fields whose loss in a translation between OCPI versions makes
    the hub refuse a message to or from this connection."""
    versions_url: str | None
    registered: bool
    unregistered: bool
    leniency: str
    parties: list[PartyOnConnection]
    created_at: str
    updated_at: str


class PartyRow(BaseModel):
    country_code: str
    party_id: str
    role: str
    status: str | None
    kind: str | None
    connection_id: str | None
    local: bool
    business_details: dict[str, Any]


class EventView(BaseModel):
    type: str
    version: int
    timestamp: str
    fields: dict[str, Any]

"""The Connection aggregate: one OCPI credentials relationship with another platform."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.errors import ConnectionStateError
from domain.values import ConnectionStatus

INITIATED_BY_PEER = "peer"
INITIATED_BY_US = "us"


class Leniency(StrEnum):
    """How the hub treats what a peer's software gets wrong where the meaning is unambiguous.

    LENIENT (the default): a push without OCPI-to of a broadcastable module is a broadcast,
    `{endpoint}{cc}/...` without the slash is read as `{endpoint}/{cc}/...`, missing request ids
    are generated; each decision is recorded on the message. STRICT: each is refused with 2001.
    """

    LENIENT = "lenient"
    STRICT = "strict"


HANDSHAKE_REGISTER = "register"
HANDSHAKE_UPDATE = "update"


class Connection(Aggregate):
    """A link to one platform: how it was opened, what was agreed, whether it may carry traffic.

    Tokens we only verify are kept as SHA-256 hashes; the token we must send to the peer is kept
    as is, because we cannot send a hash. No event method takes a token we verify in clear.
    """

    class_version = 1

    class Opened(Aggregate.Created):
        label: str
        initiated_by: str
        token_a_hash: str | None
        versions_url: str | None

    @event(Opened)
    def __init__(
        self,
        label: str,
        initiated_by: str,
        token_a_hash: str | None,
        versions_url: str | None,
    ) -> None:
        self.label = label
        self.initiated_by = initiated_by
        self.token_a_hash = token_a_hash
        self.versions_url = versions_url
        self.status = ConnectionStatus.PLANNED
        self.ocpi_version: str | None = None
        self.endpoints: list[dict[str, str]] = []
        self.roles: list[dict[str, Any]] = []
        self.inbound_token_hash: str | None = None
        self.outbound_token: str | None = None
        self.outbound_token_encoding = "base64"
        self.unregistered = False
        self.status_reason = ""
        self.pending_inbound_token_hash: str | None = None
        self.leniency = Leniency.LENIENT
        self.proposed_version: str | None = None
        self.proposed_role: str | None = None

    @property
    def is_registered(self) -> bool:
        return self.ocpi_version is not None and not self.unregistered

    def check_can_register(self) -> None:
        if self.unregistered:
            raise ConnectionStateError("the connection was unregistered; open a new one")
        if self.is_registered:
            raise ConnectionStateError("the connection is already registered")

    def check_is_registered(self) -> None:
        if not self.is_registered:
            raise ConnectionStateError("the connection is not registered")

    def start_handshake(
        self, purpose: str, versions_url: str, pending_inbound_token_hash: str
    ) -> None:
        """We are about to POST (register) or PUT (update) our credentials on the peer.

        The token we hand over must already work when the peer calls us back during its answer,
        so its hash is accepted from this event on, until the handshake ends either way.
        """
        if purpose == HANDSHAKE_REGISTER:
            self.check_can_register()
        elif purpose == HANDSHAKE_UPDATE:
            self.check_is_registered()
        else:
            raise ConnectionStateError(f"unknown handshake purpose {purpose!r}")
        self._handshake_started(
            purpose=purpose,
            versions_url=versions_url,
            pending_inbound_token_hash=pending_inbound_token_hash,
        )

    class HandshakeStarted(Aggregate.Event):
        purpose: str
        versions_url: str
        pending_inbound_token_hash: str

    @event(HandshakeStarted)
    def _handshake_started(
        self, purpose: str, versions_url: str, pending_inbound_token_hash: str
    ) -> None:
        self.pending_inbound_token_hash = pending_inbound_token_hash
        if purpose == HANDSHAKE_REGISTER:
            self.versions_url = versions_url

    def register(
        self,
        version: str,
        versions_url: str,
        endpoints: list[dict[str, str]],
        roles: list[dict[str, Any]],
        inbound_token_hash: str,
        outbound_token: str,
        outbound_token_encoding: str = "base64",
    ) -> None:
        self.check_can_register()
        self._registered(
            version=version,
            versions_url=versions_url,
            endpoints=endpoints,
            roles=roles,
            inbound_token_hash=inbound_token_hash,
            outbound_token=outbound_token,
            outbound_token_encoding=outbound_token_encoding,
        )

    class Registered(Aggregate.Event):
        version: str
        versions_url: str
        endpoints: list[dict[str, str]]
        roles: list[dict[str, Any]]
        inbound_token_hash: str
        outbound_token: str
        outbound_token_encoding: str

    @event(Registered)
    def _registered(
        self,
        version: str,
        versions_url: str,
        endpoints: list[dict[str, str]],
        roles: list[dict[str, Any]],
        inbound_token_hash: str,
        outbound_token: str,
        outbound_token_encoding: str,
    ) -> None:
        self.ocpi_version = version
        self.versions_url = versions_url
        self.endpoints = endpoints
        self.roles = roles
        self.inbound_token_hash = inbound_token_hash
        self.outbound_token = outbound_token
        self.outbound_token_encoding = outbound_token_encoding
        self.token_a_hash = None
        self.pending_inbound_token_hash = None
        self.status = ConnectionStatus.CONNECTED
        self.status_reason = "registered"

    def fail_handshake(self, reason: str, status_code: int) -> None:
        self._handshake_failed(reason=reason, status_code=status_code)

    class HandshakeFailed(Aggregate.Event):
        reason: str
        status_code: int

    @event(HandshakeFailed)
    def _handshake_failed(self, reason: str, status_code: int) -> None:
        # Token A (if any) stays valid so the peer can retry; a pending token of ours dies.
        self.status_reason = reason
        self.pending_inbound_token_hash = None

    def update_credentials(
        self,
        version: str,
        endpoints: list[dict[str, str]],
        roles: list[dict[str, Any]],
        inbound_token_hash: str,
        outbound_token: str,
        initiated_by: str,
        versions_url: str | None = None,
    ) -> None:
        """A credentials PUT from either side: new endpoints, new tokens in both directions."""
        self.check_is_registered()
        self._credentials_updated(
            version=version,
            endpoints=endpoints,
            roles=roles,
            inbound_token_hash=inbound_token_hash,
            outbound_token=outbound_token,
            initiated_by=initiated_by,
            versions_url=versions_url,
        )

    class CredentialsUpdated(Aggregate.Event):
        version: str
        endpoints: list[dict[str, str]]
        roles: list[dict[str, Any]]
        inbound_token_hash: str
        outbound_token: str
        initiated_by: str
        versions_url: str | None = None  # added later: events stored before lack it

    @event(CredentialsUpdated)
    def _credentials_updated(
        self,
        version: str,
        endpoints: list[dict[str, str]],
        roles: list[dict[str, Any]],
        inbound_token_hash: str,
        outbound_token: str,
        initiated_by: str,
        versions_url: str | None = None,  # added later: events stored before lack it
    ) -> None:
        self.ocpi_version = version
        if versions_url:
            self.versions_url = versions_url
        self.endpoints = endpoints
        self.roles = roles
        self.inbound_token_hash = inbound_token_hash
        self.outbound_token = outbound_token
        self.pending_inbound_token_hash = None

    def suspend(self, reason: str) -> None:
        self.check_is_registered()
        if self.status is ConnectionStatus.SUSPENDED:
            raise ConnectionStateError("the connection is already suspended")
        self._suspended(reason=reason)

    class Suspended(Aggregate.Event):
        reason: str

    @event(Suspended)
    def _suspended(self, reason: str) -> None:
        self.status = ConnectionStatus.SUSPENDED
        self.status_reason = reason

    def reactivate(self, reason: str) -> None:
        self.check_is_registered()
        if self.status is not ConnectionStatus.SUSPENDED:
            raise ConnectionStateError("only a suspended connection can be reactivated")
        self._reactivated(reason=reason)

    class Reactivated(Aggregate.Event):
        reason: str

    @event(Reactivated)
    def _reactivated(self, reason: str) -> None:
        self.status = ConnectionStatus.CONNECTED
        self.status_reason = reason

    def mark_offline(self, reason: str) -> None:
        """The peer stopped answering; only a CONNECTED link can go OFFLINE."""
        if self.status is ConnectionStatus.CONNECTED and self.is_registered:
            self._went_offline(reason=reason)

    class WentOffline(Aggregate.Event):
        reason: str

    @event(WentOffline)
    def _went_offline(self, reason: str) -> None:
        self.status = ConnectionStatus.OFFLINE
        self.status_reason = reason

    def mark_online(self, reason: str) -> None:
        if self.status is ConnectionStatus.OFFLINE and self.is_registered:
            self._came_online(reason=reason)

    class CameOnline(Aggregate.Event):
        reason: str

    @event(CameOnline)
    def _came_online(self, reason: str) -> None:
        self.status = ConnectionStatus.CONNECTED
        self.status_reason = reason

    def unregister(self, initiated_by: str, reason: str) -> None:
        self.check_is_registered()
        self._unregistered(initiated_by=initiated_by, reason=reason)

    class Unregistered(Aggregate.Event):
        initiated_by: str
        reason: str

    @event(Unregistered)
    def _unregistered(self, initiated_by: str, reason: str) -> None:
        self.unregistered = True
        self.status = ConnectionStatus.SUSPENDED
        self.status_reason = reason
        self.inbound_token_hash = None
        self.outbound_token = None
        self.pending_inbound_token_hash = None

    def set_leniency(self, leniency: Leniency, reason: str) -> None:
        """Choose how this peer's sloppy requests are treated (see `Leniency`)."""
        if self.unregistered:
            raise ConnectionStateError("the connection was unregistered")
        if leniency is not self.leniency:
            self._leniency_set(leniency=str(leniency), reason=reason)

    class LeniencySet(Aggregate.Event):
        leniency: str
        reason: str

    @event(LeniencySet)
    def _leniency_set(self, leniency: str, reason: str) -> None:
        self.leniency = Leniency(leniency)

    def propose_version(self, version: str, role: str | None) -> None:
        """The OCPI version this connection is to speak, and for 2.1.1 the peer's role.

        Only before registration: the version of a registered connection is the negotiated one.
        """
        self.check_can_register()
        self._version_proposed(version=version, role=role)

    class VersionProposed(Aggregate.Event):
        version: str
        role: str | None  # 2.1.1 only: its credentials do not say the party's role

    @event(VersionProposed)
    def _version_proposed(self, version: str, role: str | None) -> None:
        self.proposed_version = version
        self.proposed_role = role

    def set_translation_policy(self, refuse_losing: list[str], reason: str) -> None:
        """The fields (`module.field.path`, e.g. `tariffs.min_price`) whose loss in a translation
        between OCPI versions makes the hub refuse to forward that message to or from this peer."""
        if self.unregistered:
            raise ConnectionStateError("the connection was unregistered")
        fields = sorted(set(refuse_losing))
        if fields != getattr(self, "refuse_losing", []):
            self._translation_policy_set(refuse_losing=fields, reason=reason)

    class TranslationPolicySet(Aggregate.Event):
        refuse_losing: list[str]
        reason: str

    @event(TranslationPolicySet)
    def _translation_policy_set(self, refuse_losing: list[str], reason: str) -> None:
        self.refuse_losing = list(refuse_losing)

    def refuse_party(self, country_code: str, party_id: str, role: str, reason: str) -> None:
        """Record that a role this peer claimed was not registered, and why."""
        self._party_refused(country_code=country_code, party_id=party_id, role=role, reason=reason)

    class PartyRefused(Aggregate.Event):
        country_code: str
        party_id: str
        role: str
        reason: str

    @event(PartyRefused)
    def _party_refused(self, country_code: str, party_id: str, role: str, reason: str) -> None:
        pass

    def endpoint_url(self, module: str, interface_role: str) -> str | None:
        for endpoint in self.endpoints:
            if endpoint.get("identifier") == module and endpoint.get("role") == interface_role:
                return endpoint.get("url")
        return None

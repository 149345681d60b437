"""The credentials handshake in both directions (digest §3.3, §4), talking to peers via a port.

As server a peer registers with us (POST with Token A), updates (PUT) or unregisters (DELETE).
As client we register with a peer, rotate our tokens on it, or unregister from it. Every step
lands in the registry; a failed step is recorded as HandshakeFailed and leaves nothing routable.

Decisions:
* A failed registration keeps Token A valid, so the peer can fix its side and retry.
* Roles already owned elsewhere: the others register and the answer is 1000 with a
  status_message naming each refused role; if *every* role is refused the whole POST is
  refused with 2001 (nothing would be routable). Each refusal is a PartyRefused event.
* Encoding of the token in the Authorization header: we first send it the way the peer sent
  us its own (Base64 when unknown); on 401 we try the other form once and keep what works.
* Messages never contain a token: only URLs, statuses and field names.
* Versions (docs/ocpi-versions-digest.md §10): a peer registers in the version whose
  credentials endpoint it calls, in that version's shape; as client we speak the version the
  connection proposes, else 2.2.1 when the peer offers it, else the highest both offer. A
  registration in another version than the proposed one is refused with 3002 and recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.credentials_object import (
    InvalidCredentialsError,
    PeerCredentials,
    credentials_in,
    parse_credentials_in,
    parse_endpoints,
)
from application.registry import Registry
from application.tokens import hash_token, new_token
from domain.connections import (
    HANDSHAKE_REGISTER,
    HANDSHAKE_UPDATE,
    INITIATED_BY_PEER,
    INITIATED_BY_US,
    Connection,
)
from domain.errors import ConnectionStateError
from domain.status_codes import ClientError, ServerError, Success
from domain.values import OCPI_VERSION, ModuleId, Role
from domain.versions import ROLES_211, V2_1_1, UnsupportedVersionError, choose_version

BASE64 = "base64"
RAW = "raw"


@dataclass(frozen=True)
class PeerAnswer:
    http_status: int
    status_code: int | None
    status_message: str
    data: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300 and self.status_code == Success.GENERIC

    def describe(self) -> str:
        text = f"HTTP {self.http_status}, OCPI status {self.status_code}"
        return f"{text}: {self.status_message}" if self.status_message else text


class PeerUnavailableError(Exception):
    """No usable OCPI answer: connection refused, timeout, or a body that is not an envelope."""


class PeerClient(Protocol):
    """The port to other platforms. `encoding` is how the token goes into Authorization."""

    def call(
        self, method: str, url: str, token: str, encoding: str, body: Any = None
    ) -> PeerAnswer: ...


class HandshakeError(Exception):
    """A handshake step failed; carries the OCPI status and HTTP status to answer with."""

    def __init__(self, status_code: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status
        self.connection_id: UUID | None = None


class RegistrationStateError(HandshakeError):
    """POST on a registered connection, or PUT/DELETE on one that is not (HTTP 405)."""

    def __init__(self, message: str) -> None:
        super().__init__(ClientError.GENERIC, message, http_status=405)


@dataclass(frozen=True)
class Discovery:
    version: str
    endpoints: list[dict[str, str]]
    encoding: str

    def url_of(self, module: str) -> str | None:
        return next((e["url"] for e in self.endpoints if e["identifier"] == module), None)


@dataclass(frozen=True)
class Accepted:
    """What the server side answers: our credentials, plus the roles it did not register."""

    credentials: dict[str, Any]
    refused: list[dict[str, Any]]

    @property
    def status_message(self) -> str | None:
        if not self.refused:
            return None
        names = "; ".join(
            f"{r['country_code']}*{r['party_id']}/{r['role']}: {r['reason']}" for r in self.refused
        )
        return f"registered, but refused roles: {names}"


def credentials_url_of(connection: Connection) -> str:
    """The peer's credentials URL; its interface role is meaningless (digest §3.2)."""
    urls = (e.get("url") for e in connection.endpoints if e.get("identifier") == "credentials")
    return next((u for u in urls if u), "")


def other_encoding(encoding: str) -> str:
    return RAW if encoding == BASE64 else BASE64


def role_211_of(connection: Connection) -> Role | None:
    """The party role a 2.1.1 peer has: the proposed one, else its one registered role."""
    if connection.proposed_role:
        return Role(connection.proposed_role)
    if len(connection.roles) == 1 and connection.roles[0]["role"] in ROLES_211:
        return Role(connection.roles[0]["role"])
    return None


class Handshakes:
    def __init__(
        self,
        registry: Registry,
        peers: PeerClient,
        own_roles: Callable[[], list[dict[str, Any]]],
        versions_url: str,
        wait: Callable[[int], None],
        reachable_roles: Callable[[str | None], list[dict[str, Any]]] = lambda _id: [],
    ) -> None:
        self.registry = registry
        self.peers = peers
        self.own_roles = own_roles
        self.versions_url = versions_url
        self.wait = wait
        # 2.3.0: a hub lists the parties reachable through it (all but the peer's own)
        self.reachable_roles = reachable_roles

    def own_credentials(
        self, token: str, version: str = OCPI_VERSION, connection_id: UUID | None = None
    ) -> dict[str, Any]:
        """Our credentials in the shape of `version`, for the peer on `connection_id`."""
        reachable = self.reachable_roles(None if connection_id is None else str(connection_id))
        return credentials_in(version, token, self.versions_url, self.own_roles(), reachable)

    # ---- discovery ---------------------------------------------------------------------------

    def discover(
        self,
        versions_url: str,
        token: str,
        encoding: str,
        proposed: str | None = None,
        role_211: Role | None = None,
    ) -> Discovery:
        """GET the peer's versions, pick `proposed` (else the highest mutual), GET its details;
        raise HandshakeError 3001-3003. `role_211` is the peer's role should it speak 2.1.1."""
        answer, encoding = self._get(versions_url, token, encoding, probe=True)
        versions = answer.data
        if not isinstance(versions, list) or not all(
            isinstance(v, dict) and isinstance(v.get("version"), str) for v in versions
        ):
            raise HandshakeError(
                ServerError.UNABLE_TO_USE_CLIENT_API,
                f"versions at {versions_url} returned no version list",
            )
        try:
            version = choose_version((str(v["version"]) for v in versions), proposed)
        except UnsupportedVersionError as error:
            raise HandshakeError(ServerError.UNSUPPORTED_VERSION, str(error)) from None
        if version == V2_1_1 and role_211 is None:
            raise HandshakeError(
                ServerError.UNSUPPORTED_VERSION,
                "the peer speaks OCPI 2.1.1, whose credentials do not say the party's role:"
                " connect with ocpi_version 2.1.1 and its role (CPO or EMSP)",
            )
        details_url = next(v.get("url") for v in versions if v["version"] == version)
        if not isinstance(details_url, str):
            raise HandshakeError(
                ServerError.UNABLE_TO_USE_CLIENT_API,
                f"versions at {versions_url} list {version} without a URL",
            )
        answer, encoding = self._get(details_url, token, encoding, probe=False)
        try:
            _version, endpoints = parse_endpoints(answer.data, version, role_211)
        except InvalidCredentialsError as error:
            raise HandshakeError(
                ServerError.UNABLE_TO_USE_CLIENT_API, f"version details at {details_url}: {error}"
            ) from None
        discovery = Discovery(version, endpoints, encoding)
        if discovery.url_of(ModuleId.CREDENTIALS) is None:
            raise HandshakeError(
                ServerError.NO_MATCHING_ENDPOINTS,
                f"version details at {details_url} list no credentials endpoint",
            )
        return discovery

    def _get(self, url: str, token: str, encoding: str, probe: bool) -> tuple[PeerAnswer, str]:
        """GET `url` with the token as `encoding` says; a peer that cannot read it so is asked
        once more with the other encoding. `probe` (the versions URL): a 401 there moves to the
        other encoding whatever the retry's answer. Any other failed answer, there or at the
        details, moves only if the retry succeeds: extrawest-ocpi as a 2.1.1 platform answers
        its versions endpoint OCPI 3000 to a token as 2.1.1 sends it (it decodes every token
        there as Base64) and takes tokens as they are everywhere else."""
        answer = self._call("GET", url, token, encoding)
        if not answer.ok:
            retry = self._call("GET", url, token, other_encoding(encoding))
            if retry.ok or (probe and answer.http_status == 401 and retry.http_status != 401):
                answer, encoding = retry, other_encoding(encoding)
        if not answer.ok:
            raise HandshakeError(
                ServerError.UNABLE_TO_USE_CLIENT_API, f"GET {url} answered {answer.describe()}"
            )
        return answer, encoding

    def _call(
        self, method: str, url: str, token: str, encoding: str, body: Any = None
    ) -> PeerAnswer:
        try:
            return self.peers.call(method, url, token, encoding, body)
        except PeerUnavailableError as error:
            raise HandshakeError(
                ServerError.UNABLE_TO_USE_CLIENT_API, f"{method} {url} failed: {error}"
            ) from None

    # ---- as server: the peer calls our credentials endpoint ----------------------------------

    def accept_registration(
        self, connection_id: UUID, body: Any, encoding: str, version: str = OCPI_VERSION
    ) -> Accepted:
        """POST with Token A in OCPI `version`: fetch the peer's endpoints of that version with
        its token B, answer with C in that version's shape."""
        connection = self.registry.get_connection(connection_id)
        if connection.is_registered or connection.unregistered:
            raise RegistrationStateError("already registered; use PUT to update credentials")
        role_211 = self._check_version_or_fail(connection, version)
        credentials = self._parse_or_fail(connection_id, body, version, role_211)
        discovery = self._discover_or_fail(connection_id, credentials, encoding, version, role_211)
        conflicts = self.registry.conflicting_roles(connection_id, credentials.roles)
        if len(conflicts) == len(credentials.roles):
            reason = "every role is already registered elsewhere: " + "; ".join(
                c["reason"] for c in conflicts
            )
            self.wait(
                self.registry.refuse_registration(
                    connection_id, conflicts, reason, ClientError.INVALID_OR_MISSING_PARAMETERS
                )
            )
            raise HandshakeError(ClientError.INVALID_OR_MISSING_PARAMETERS, reason)
        token_c = new_token()
        try:
            refused, position = self.registry.register_connection(
                connection_id,
                version=discovery.version,
                versions_url=credentials.url,
                endpoints=discovery.endpoints,
                roles=credentials.roles,
                inbound_token_hash=hash_token(token_c),
                outbound_token=credentials.token,
                outbound_token_encoding=discovery.encoding,
            )
        except (IntegrityError, ConnectionStateError):
            # Another POST with the same Token A registered first (optimistic concurrency).
            raise RegistrationStateError(
                "already registered; use PUT to update credentials"
            ) from None
        self.wait(position)
        return Accepted(self.own_credentials(token_c, discovery.version, connection_id), refused)

    def accept_update(
        self, connection_id: UUID, body: Any, version: str = OCPI_VERSION
    ) -> Accepted:
        """PUT with the current token in OCPI `version` (which may change the connection's
        version, as OCPI intends): re-fetch the peer's endpoints, rotate both tokens."""
        connection = self.registry.get_connection(connection_id)
        if not connection.is_registered:
            raise RegistrationStateError("not registered; use POST to register")
        role_211 = self._check_version_or_fail(connection, version)
        credentials = self._parse_or_fail(connection_id, body, version, role_211)
        discovery = self._discover_or_fail(
            connection_id, credentials, connection.outbound_token_encoding, version, role_211
        )
        token_c = new_token()
        try:
            refused, position = self.registry.update_credentials(
                connection_id,
                version=discovery.version,
                endpoints=discovery.endpoints,
                roles=credentials.roles,
                inbound_token_hash=hash_token(token_c),
                outbound_token=credentials.token,
                initiated_by=INITIATED_BY_PEER,
                versions_url=credentials.url,
            )
        except (IntegrityError, ConnectionStateError) as error:
            raise RegistrationStateError(f"credentials changed concurrently: {error}") from None
        self.wait(position)
        return Accepted(self.own_credentials(token_c, discovery.version, connection_id), refused)

    def accept_unregistration(self, connection_id: UUID) -> None:
        connection = self.registry.get_connection(connection_id)
        if not connection.is_registered:
            raise RegistrationStateError("not registered")
        try:
            position = self.registry.unregister_connection(
                connection_id, INITIATED_BY_PEER, "the peer deleted its credentials"
            )
        except (IntegrityError, ConnectionStateError):
            raise RegistrationStateError("not registered") from None
        self.wait(position)

    def _check_version_or_fail(self, connection: Connection, version: str) -> Role | None:
        """Refuse (3002, recorded) a version other than the proposed one, and 2.1.1 without a
        known role; return the role a 2.1.1 peer has."""
        proposed = connection.proposed_version
        message = ""
        if proposed is not None and version != proposed:
            message = (
                f"this connection was set up for OCPI {proposed}, not {version}:"
                f" register at the {proposed} credentials endpoint"
            )
        role_211 = role_211_of(connection) if version == V2_1_1 else None
        if not message and version == V2_1_1 and role_211 is None:
            message = (
                "OCPI 2.1.1 credentials do not say the party's role and this connection does"
                " not state it: ask the hub operator for a 2.1.1 invitation with your role"
            )
        if message:
            status = ServerError.UNSUPPORTED_VERSION
            self.wait(self.registry.fail_handshake(connection.id, message, status))
            raise HandshakeError(status, message, http_status=400)
        return role_211

    def _parse_or_fail(
        self, connection_id: UUID, body: Any, version: str, role_211: Role | None
    ) -> PeerCredentials:
        try:
            return parse_credentials_in(version, body, role_211)
        except InvalidCredentialsError as error:
            message = f"invalid credentials: {error}"
            self.wait(
                self.registry.fail_handshake(
                    connection_id, message, ClientError.INVALID_OR_MISSING_PARAMETERS
                )
            )
            raise HandshakeError(
                ClientError.INVALID_OR_MISSING_PARAMETERS, message, http_status=400
            ) from None

    def _discover_or_fail(
        self,
        connection_id: UUID,
        credentials: PeerCredentials,
        encoding: str,
        version: str,
        role_211: Role | None,
    ) -> Discovery:
        """The peer's endpoints in the version it registered in (it must offer that version)."""
        try:
            return self.discover(credentials.url, credentials.token, encoding, version, role_211)
        except HandshakeError as error:
            self.wait(self.registry.fail_handshake(connection_id, error.message, error.status_code))
            raise

    # ---- as client: we call the peer's credentials endpoint ----------------------------------

    def register_with(
        self,
        label: str,
        versions_url: str,
        token_a: str,
        version: str | None = None,
        role: str | None = None,
    ) -> UUID:
        """Register on a peer that gave us its versions URL and Token A (digest §4.3), in
        `version` (else 2.2.1 when the peer offers it, else the highest both speak); a 2.1.1 peer
        needs its `role`. Raises
        VersionProposalError before anything is recorded when the two do not go together."""
        connection_id, position = self.registry.open_outbound(label, versions_url, version, role)
        self.wait(position)
        try:
            return self._register_with(connection_id, versions_url, token_a)
        except HandshakeError as error:
            error.connection_id = connection_id
            raise

    def _register_with(self, connection_id: UUID, versions_url: str, token_a: str) -> UUID:
        connection = self.registry.get_connection(connection_id)
        role_211 = role_211_of(connection)
        try:
            # 2.1.1 sends tokens as they are, 2.2 in Base64: try the proposed version's first
            first = RAW if connection.proposed_version == V2_1_1 else BASE64
            discovery = self.discover(
                versions_url, token_a, first, connection.proposed_version, role_211
            )
        except HandshakeError as error:
            self.wait(self.registry.fail_handshake(connection_id, error.message, error.status_code))
            raise
        credentials_url = discovery.url_of(ModuleId.CREDENTIALS) or ""
        token_b = new_token()
        self.wait(
            self.registry.start_handshake(
                connection_id, HANDSHAKE_REGISTER, versions_url, hash_token(token_b)
            )
        )
        theirs = self._send_credentials(
            connection_id,
            "POST",
            credentials_url,
            token_a,
            discovery,
            token_b,
            role_211,
        )
        try:
            _refused, position = self.registry.register_connection(
                connection_id,
                version=discovery.version,
                versions_url=theirs.url,
                endpoints=discovery.endpoints,
                roles=theirs.roles,
                inbound_token_hash=hash_token(token_b),
                outbound_token=theirs.token,
                outbound_token_encoding=discovery.encoding,
            )
        except (IntegrityError, ConnectionStateError) as error:
            raise RegistrationStateError(f"connection changed concurrently: {error}") from None
        self.wait(position)
        return connection_id

    def rotate(self, connection_id: UUID) -> None:
        """PUT new credentials on the peer: new token B for them, new token C from them."""
        connection = self._registered(connection_id)
        credentials_url = credentials_url_of(connection)
        outbound = connection.outbound_token or ""
        encoding = connection.outbound_token_encoding
        token_b = new_token()
        self.wait(
            self.registry.start_handshake(
                connection_id,
                HANDSHAKE_UPDATE,
                connection.versions_url or "",
                hash_token(token_b),
            )
        )
        version = connection.ocpi_version or OCPI_VERSION
        role_211 = role_211_of(connection) if version == V2_1_1 else None
        theirs = self._send_credentials(
            connection_id,
            "PUT",
            credentials_url,
            outbound,
            Discovery(version, connection.endpoints, encoding),
            token_b,
            role_211,
        )
        try:
            discovery = self.discover(theirs.url, theirs.token, encoding, version, role_211)
        except HandshakeError as error:
            # They already switched to our new token; keep theirs so traffic still flows, and
            # keep the endpoints we knew. The failure to refresh them is on record.
            discovery = Discovery(version, connection.endpoints, encoding)
            self.wait(
                self.registry.fail_handshake(
                    connection_id, f"endpoints not refreshed: {error.message}", error.status_code
                )
            )
        _refused, position = self.registry.update_credentials(
            connection_id,
            version=discovery.version,
            endpoints=discovery.endpoints,
            roles=theirs.roles,
            inbound_token_hash=hash_token(token_b),
            outbound_token=theirs.token,
            initiated_by=INITIATED_BY_US,
            versions_url=theirs.url,
        )
        self.wait(position)

    def unregister(self, connection_id: UUID) -> None:
        """DELETE our credentials on the peer, then void the connection here in any case."""
        connection = self._registered(connection_id)
        url = credentials_url_of(connection)
        reason = "we deleted our credentials on the peer"
        try:
            answer = self.peers.call(
                "DELETE",
                url,
                connection.outbound_token or "",
                connection.outbound_token_encoding,
            )
            if not answer.ok:
                reason += f"; the peer answered {answer.describe()}"
        except PeerUnavailableError as error:
            reason += f"; the peer could not be reached: {error}"
        self.wait(self.registry.unregister_connection(connection_id, INITIATED_BY_US, reason))

    def _registered(self, connection_id: UUID) -> Connection:
        connection = self.registry.get_connection(connection_id)
        if not connection.is_registered:
            raise RegistrationStateError("the connection is not registered")
        return connection

    def _send_credentials(
        self,
        connection_id: UUID,
        method: str,
        url: str,
        token: str,
        discovery: Discovery,
        our_token: str,
        role_211: Role | None,
    ) -> PeerCredentials:
        """POST/PUT our credentials in the discovered version's shape and read theirs in it;
        on any failure record it (the pending token dies)."""
        ours = self.own_credentials(our_token, discovery.version, connection_id)
        try:
            answer = self._call(method, url, token, discovery.encoding, ours)
            if not answer.ok:
                raise HandshakeError(
                    ServerError.UNABLE_TO_USE_CLIENT_API,
                    f"{method} {url} answered {answer.describe()}",
                )
            try:
                return parse_credentials_in(discovery.version, answer.data, role_211)
            except InvalidCredentialsError as error:
                raise HandshakeError(
                    ServerError.UNABLE_TO_USE_CLIENT_API,
                    f"{method} {url} returned invalid credentials: {error}",
                ) from None
        except HandshakeError as error:
            self.wait(self.registry.fail_handshake(connection_id, error.message, error.status_code))
            raise

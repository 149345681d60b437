"""Hub URLs that stand in for a platform's own URLs: `response_url` callbacks and CDR locations.

Nobody behind a hub can call another platform directly (digest §2.9, §2.11), so the hub replaces
such URLs with its own and keeps the mapping:

* callback: `{base}/ocpi/2.2.1/{module}/sender/callbacks/{id}` stands for the requester's
  `response_url`. Only the party the command went to may use it; the result is forwarded to the
  original URL with FROM = that party, TO = the requester. It may be used more than once until it
  expires (a RESERVE_NOW's cancellation arrives on the same URL, digest §6.6).
* cdr: `{base}/ocpi/2.2.1/cdrs/receiver/{id}` stands for the `Location` an eMSP answered a CDR
  POST with. Only the CPO that posted the CDR may GET it, with TO = the eMSP. CDRs never change,
  so these never expire.

Expiry of callbacks (AMBIG 1): at least `MIN_CALLBACK_LIFETIME`; longer when the receiver's
CommandResponse/ChargingProfileResponse announces a longer `timeout`, and until the reservation's
`expiry_date` for RESERVE_NOW, each plus `CALLBACK_MARGIN`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from domain.operations import CommandType
from domain.values import OCPI_VERSION, ModuleId, PartyRef

CALLBACK = "callback"
CDR_LOCATION = "cdr"

MIN_CALLBACK_LIFETIME = timedelta(minutes=15)
CALLBACK_MARGIN = timedelta(minutes=5)
CALLBACK_PREFIX = "callbacks/"


@dataclass(frozen=True, slots=True)
class HubLink:
    id: str
    kind: str  # CALLBACK | CDR_LOCATION
    module: str
    original_url: str
    requester_connection_id: str
    requester_party: PartyRef
    receiver_party: PartyRef
    correlation_id: str
    created_at: datetime
    expires_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


class LinkStore(Protocol):
    """Durable mapping of hub link ids; `put` returns only once the link is stored."""

    def put(self, link: HubLink) -> None: ...

    def get(self, link_id: str) -> HubLink | None: ...

    def extend(self, link_id: str, expires_at: datetime) -> None:
        """Move the expiry later (never earlier)."""


def new_link_id() -> str:
    # Unguessable: holding the URL is what lets the CPO's answer through (with its token).
    return secrets.token_urlsafe(18)


def callback_url(base_url: str, module: ModuleId, link_id: str, version: str = OCPI_VERSION) -> str:
    """Under the version of the party that will call it (a 2.1.1 CPO posts to /ocpi/2.1.1/)."""
    return f"{base_url}/ocpi/{version}/{module}/sender/{CALLBACK_PREFIX}{link_id}"


def cdr_location_url(base_url: str, link_id: str, version: str = OCPI_VERSION) -> str:
    return f"{base_url}/ocpi/{version}/cdrs/receiver/{link_id}"


def callback_id(callback_path: str | None) -> str | None:
    """The link id in the path after a commands/chargingprofiles SENDER endpoint, if it is ours."""
    if not callback_path or not callback_path.startswith(CALLBACK_PREFIX):
        return None
    link_id = callback_path.removeprefix(CALLBACK_PREFIX)
    return link_id if link_id and "/" not in link_id else None


def callback_expiry(now: datetime, command: CommandType | None, body: bytes) -> datetime:
    """When a new callback link expires, before the receiver's answer is known."""
    expiry = now + MIN_CALLBACK_LIFETIME
    if command is CommandType.RESERVE_NOW:
        reserved_until = _datetime_field(body, "expiry_date")
        if reserved_until is not None:
            expiry = max(expiry, reserved_until + CALLBACK_MARGIN)
    return expiry


def expiry_after_answer(now: datetime, answer_body: bytes) -> datetime | None:
    """The expiry the receiver's `data.timeout` (seconds) asks for, or None if it gives none."""
    try:
        document = json.loads(answer_body)
    except (ValueError, UnicodeDecodeError):
        return None
    data = document.get("data") if isinstance(document, dict) else None
    timeout = data.get("timeout") if isinstance(data, dict) else None
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
        return None
    return now + timedelta(seconds=timeout) + CALLBACK_MARGIN


def _datetime_field(body: bytes, name: str) -> datetime | None:
    try:
        document = json.loads(body)
        value = document.get(name) if isinstance(document, dict) else None
        if not isinstance(value, str):
            return None
        moment = datetime.fromisoformat(value.removesuffix("Z"))
    except (ValueError, UnicodeDecodeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

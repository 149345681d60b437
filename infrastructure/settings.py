"""Node configuration from environment variables (each also a `serve` flag), validated at start."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from application.rate_limits import ANY_MODULE, Limit, parse_limits
from domain.errors import InvalidPartyError
from domain.values import FUNCTIONAL_MODULES, PartyRef
from infrastructure.database_url import DatabaseUrl, DatabaseUrlError, parse_database_url

MODES = ("hub", "platform")


class SettingsError(ValueError):
    """A malformed setting; the message names the variable and what is wrong."""


@dataclass(frozen=True)
class Settings:
    database: DatabaseUrl
    base_url: str
    admin_token: str | None
    mode: str
    party: PartyRef
    config_file: str | None = None
    forward_timeout: float = 10.0
    health_check_interval: float = 300.0
    body_retention_days: float | None = None
    """Keep routed bodies this many days, then reduce them to their hash; None keeps them."""
    hub_error_http_status: int = 200
    """HTTP status sent with the hub's own 4xxx answers (digest §2.8 AMBIG 3: 200 by default)."""
    max_body_bytes: int = 20 * 1024 * 1024
    """Largest request or receiver response body the hub relays."""
    receiver_concurrency: int = 64
    """Requests in flight to one receiver at a time; more wait their turn."""
    rate_limits: dict[str, Limit] = field(default_factory=dict)
    """Per sending party and module (`*` = any other module), per node; empty = no limit."""
    ca_bundle: str | None = None
    """A PEM file of CAs trusted for outbound TLS besides the public ones (partners' test
    systems often use a private CA)."""
    ledger_views: str = "inline"
    """Who follows the ledger's read models (audit, traffic): `inline` (threads of this
    process), `process` (`serve` starts `ocpi-ledger views` beside it) or `external` (an
    `ocpi-ledger views` the operator runs elsewhere, e.g. one for several nodes)."""
    outcome_commit: str = "before-answer"
    """When a relayed answer is committed: `before-answer` (the requester gets it only once
    the ledger holds it) or `behind` (queued for the next group commit; faster, but a crash
    in between loses outcomes the requester already has)."""
    checkpoint_interval: float = 60.0
    """Seconds between signed checkpoints (taken only when the ledger moved)."""
    checkpoint_sink: str | None = None
    """Where each new checkpoint is also sent: a file path (JSON lines) or an http(s) URL."""
    signing_key: str | None = None
    """PEM file of the node's Ed25519 signing key; None keeps a generated key in the store."""

    @property
    def is_hub(self) -> bool:
        return self.mode == "hub"


SETTING_VARIABLES = {
    "database_url": ("OCPI_LEDGER_DATABASE_URL", "sqlite:///ocpi-ledger.db"),
    "base_url": ("OCPI_LEDGER_BASE_URL", "http://127.0.0.1:8000"),
    "admin_token": ("OCPI_LEDGER_ADMIN_TOKEN", None),
    "mode": ("OCPI_LEDGER_MODE", "hub"),
    "party": ("OCPI_LEDGER_PARTY", "NL*HUB"),
    "config_file": ("OCPI_LEDGER_CONFIG", None),
    "forward_timeout": ("OCPI_LEDGER_FORWARD_TIMEOUT", "10"),
    "health_check_interval": ("OCPI_LEDGER_HEALTH_CHECK_INTERVAL", "300"),
    "body_retention_days": ("OCPI_LEDGER_BODY_RETENTION_DAYS", None),
    "hub_error_http_status": ("OCPI_LEDGER_HUB_ERROR_HTTP_STATUS", "200"),
    "max_body_bytes": ("OCPI_LEDGER_MAX_BODY_BYTES", str(20 * 1024 * 1024)),
    "receiver_concurrency": ("OCPI_LEDGER_RECEIVER_CONCURRENCY", "64"),
    "rate_limits": ("OCPI_LEDGER_RATE_LIMITS", ""),
    "ledger_views": ("OCPI_LEDGER_LEDGER_VIEWS", "inline"),
    "ca_bundle": ("OCPI_LEDGER_CA_BUNDLE", None),
    "outcome_commit": ("OCPI_LEDGER_OUTCOME_COMMIT", "before-answer"),
    "checkpoint_interval": ("OCPI_LEDGER_CHECKPOINT_INTERVAL", "60"),
    "checkpoint_sink": ("OCPI_LEDGER_CHECKPOINT_SINK", None),
    "signing_key": ("OCPI_LEDGER_SIGNING_KEY", None),
}

LEDGER_VIEWS_MODES = ("inline", "process", "external")
OUTCOME_COMMIT_MODES = ("before-answer", "behind")


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, str | None] | None = None
) -> Settings:
    """Read settings: `overrides` (CLI flags) win over `environ`, which wins over defaults."""
    environ = os.environ if environ is None else environ
    raw: dict[str, str | None] = {}
    for key, (variable, default) in SETTING_VARIABLES.items():
        value = (overrides or {}).get(key)
        raw[key] = value if value is not None else environ.get(variable, default)

    def fail(key: str, message: str) -> SettingsError:
        return SettingsError(f"{SETTING_VARIABLES[key][0]}: {message}")

    try:
        database = parse_database_url(raw["database_url"] or "")
    except DatabaseUrlError as error:
        raise fail("database_url", str(error)) from None

    base_url = (raw["base_url"] or "").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail("base_url", f"must be an http(s) URL, got {raw['base_url']!r}")

    mode = (raw["mode"] or "").lower()
    if mode not in MODES:
        raise fail("mode", f"must be one of {', '.join(MODES)}, got {raw['mode']!r}")

    try:
        party = PartyRef.parse(raw["party"] or "")
    except InvalidPartyError as error:
        raise fail("party", f"{error} (expected CC*PID, e.g. NL*HUB)") from None

    admin_token = raw["admin_token"]
    if admin_token is not None and (len(admin_token) < 16 or not admin_token.isprintable()):
        raise fail("admin_token", "must be at least 16 printable characters")

    numbers: dict[str, float] = {}
    for key in ("forward_timeout", "health_check_interval", "checkpoint_interval"):
        try:
            numbers[key] = float(raw[key] or "")
        except ValueError:
            raise fail(key, f"must be a number of seconds, got {raw[key]!r}") from None
        if numbers[key] <= 0:
            raise fail(key, "must be positive")

    retention = raw["body_retention_days"]
    body_retention_days = None
    if retention not in (None, "", "off"):
        try:
            body_retention_days = float(retention or "")
        except ValueError:
            raise fail(
                "body_retention_days", f"must be a number of days, got {retention!r}"
            ) from None
        if body_retention_days <= 0:
            raise fail("body_retention_days", "must be positive (unset it to keep bodies)")
    integers: dict[str, int] = {}
    for key in ("hub_error_http_status", "max_body_bytes", "receiver_concurrency"):
        text = raw[key] or ""
        if not text.isdecimal() or int(text) <= 0:
            raise fail(key, f"must be a positive whole number, got {raw[key]!r}")
        integers[key] = int(text)
    if not 200 <= integers["hub_error_http_status"] <= 599:
        raise fail("hub_error_http_status", "must be an HTTP status between 200 and 599")

    try:
        rate_limits = parse_limits(raw["rate_limits"] or "")
    except ValueError as error:
        raise fail("rate_limits", f"{error} (e.g. tokens=5/10,*=50/100)") from None
    unknown = sorted(set(rate_limits) - {ANY_MODULE, *map(str, FUNCTIONAL_MODULES)})
    if unknown:
        raise fail("rate_limits", f"unknown module(s) {', '.join(unknown)}")

    ledger_views = (raw["ledger_views"] or "").strip().lower()
    if ledger_views not in LEDGER_VIEWS_MODES:
        raise fail(
            "ledger_views",
            f"must be one of {', '.join(LEDGER_VIEWS_MODES)}, got {raw['ledger_views']!r}",
        )

    ca_bundle = raw["ca_bundle"] or None
    if ca_bundle is not None:
        try:
            ssl.create_default_context(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            message = f"cannot load {ca_bundle!r} as PEM CA certificates: {error}"
            raise fail("ca_bundle", message) from None
    outcome_commit = (raw["outcome_commit"] or "").strip().lower()
    if outcome_commit not in OUTCOME_COMMIT_MODES:
        raise fail(
            "outcome_commit",
            f"must be one of {', '.join(OUTCOME_COMMIT_MODES)}, got {raw['outcome_commit']!r}",
        )
    sink = raw["checkpoint_sink"] or None
    if sink and "://" in sink and urlsplit(sink).scheme not in ("http", "https"):
        raise fail("checkpoint_sink", f"must be a file path or an http(s) URL, got {sink!r}")

    return Settings(
        database=database,
        base_url=base_url,
        admin_token=admin_token,
        mode=mode,
        party=party,
        config_file=raw["config_file"],
        forward_timeout=numbers["forward_timeout"],
        health_check_interval=numbers["health_check_interval"],
        body_retention_days=body_retention_days,
        rate_limits=rate_limits,
        ledger_views=ledger_views,
        ca_bundle=ca_bundle,
        outcome_commit=outcome_commit,
        checkpoint_interval=numbers["checkpoint_interval"],
        checkpoint_sink=sink,
        signing_key=raw["signing_key"] or None,
        **integers,
    )

"""Query parameters of the admin API as models: declared in OpenAPI, unknown names refused
(`extra="forbid"`), an empty value taken as absent. Sentences of the errors name the parameter
(see api/admin_router.py for how they become 400s)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from application.audit import MAX_LIMIT, MessageQuery


def parse_instant(name: str, value: str | None) -> datetime | None:
    """ISO-8601; a naive instant is UTC, and a `+` turned into a space by URL decoding is read
    back as an offset."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO-8601 timestamp, e.g. 2024-03-01T14:03:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _instant(value: Any, info: ValidationInfo) -> Any:
    return parse_instant(info.field_name or "instant", value) if isinstance(value, str) else value


def party_key(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Instant = Annotated[
    datetime | None,
    BeforeValidator(_instant),
    Field(description="ISO-8601; without an offset it is UTC, e.g. 2024-03-01T14:03:00Z"),
]
Party = Annotated[
    str | None,
    BeforeValidator(party_key),
    Field(description="CC*PID, any case", examples=["NL*CPO"]),
]


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        # `?since=&party=` from a form: an empty known parameter means "not given". An empty
        # unknown one stays, to be refused.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v == "" and k in cls.model_fields)}
        return data


class SearchFilters(QueryModel):
    """What an audit search narrows by (GET /admin/messages and its re-drive)."""

    party: Party = None
    counterpart: Party = None
    direction: str | None = Field(None, description="sent or received, relative to party")
    connection: str | None = Field(None, description="connection id")
    module: str | None = Field(None, examples=["sessions"])
    object_id: str | None = None
    correlation_id: str | None = None
    since: Instant = None
    until: Instant = None
    status: str | None = Field(
        None, description="OCPI status code (e.g. 2001), or an outcome word (e.g. refused)"
    )
    outcome: str | None = None
    limit: int = Field(50, json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT})

    def message_query(self, request_id: str | None = None, offset: int = 0) -> MessageQuery:
        """Raises InvalidQuery (a ValueError naming the parameter) for an unusable search."""
        status, outcome = self.status, self.outcome
        if status and not status.lstrip("-").isdigit():
            # `status` also takes an outcome word: status=refused.
            outcome, status = outcome or status, None
        shared = self.model_dump(include=set(SearchFilters.model_fields) - {"status", "outcome"})
        return MessageQuery(
            **shared,
            status=_status_code(status),
            outcome=outcome,
            request_id=request_id,
            offset=offset,
        )


def _status_code(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"status must be an integer or an outcome, got {value!r}") from None


class MessageFilters(SearchFilters):
    request_id: str | None = None
    offset: int = Field(0, json_schema_extra={"minimum": 0})


class RedriveFilters(SearchFilters):
    dry_run: bool = Field(False, description="list what would be sent, send nothing")

    def narrowed(self) -> bool:
        return bool(self.model_fields_set - {"limit", "dry_run"})


class EvidenceSubject(QueryModel):
    correlation_id: str | None = None
    object_id: str | None = None

    def subject(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


class TrafficFilters(QueryModel):
    party: Party = None
    bucket: str = Field("hour", description="hour or day")
    since: Instant = None
    until: Instant = None


class RoutingTableAt(QueryModel):
    as_of: Instant = None


class RouteQuestion(QueryModel):
    """A message to `to` (with `module` and `interface`), or a broadcast from `from`."""

    to: str | None = Field(None, description="CC*PID the message is for")
    from_: str | None = Field(None, alias="from", description="CC*PID of a broadcast push")
    module: str | None = Field(None, examples=["tokens"])
    interface: str | None = Field(None, description="sender or receiver")

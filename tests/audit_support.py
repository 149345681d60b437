"""Routed messages for audit tests, shaped the way the hub records them, and the audit views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from freezegun import freeze_time

from application.audit import AuditProjection
from application.bodies import Body
from application.checkpoints import Checkpoints
from application.evidence import build_bundle
from application.traffic import TrafficProjection
from domain.message_steps import step_events
from domain.messages import Admission, RoutedMessage
from infrastructure.audit_view import SqlAuditView
from infrastructure.checkpoints import SqlCheckpointStore, load_signer
from infrastructure.database_url import DatabaseUrl
from infrastructure.ledger_chain import LedgerArchive
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.settings import Settings, load_settings
from infrastructure.store import Store
from infrastructure.traffic_view import SqlTrafficView


@contextmanager
def at(moment: datetime | None) -> Iterator[None]:
    if moment is None:
        yield
        return
    with freeze_time(moment, ignore=["eventsourcing.persistence"]):
        yield


@dataclass
class Leg:
    party: str
    connection: str
    http_status: int = 200
    ocpi_status: int | None = 1000
    latency_ms: float = 20.0
    failure: str | None = None  # a reason: the leg failed (timeout, unreachable)
    answer: bytes = b'{"status_code":1000}'


@dataclass
class Sent:
    message: RoutedMessage
    bodies: list[Body] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.message.id)


def routed(
    request_id: str,
    *,
    sender: str = "NL*CPO",
    receiver: str | None = "DE*EMS",
    legs: list[Leg] | None = None,
    module: str = "locations",
    interface: str = "RECEIVER",
    method: str = "PUT",
    path: str = "/NL/CPO/LOC1",
    query: str = "",
    body: bytes | None = b'{"id":"LOC1"}',
    correlation_id: str | None = None,
    connection: str = "conn-cpo",
    classification: str = "DIRECT",
    refuse: tuple[int, int, str] | None = None,
    respond: tuple[int, int | None] | None = None,
    latency_ms: float = 30.0,
    when: datetime | None = None,
    ocpi_version: str | None = None,
) -> Sent:
    """A message through the hub: received, routed, forwarded per leg, answered, responded.
    `ocpi_version`: of the request's path prefix, as recorded when it is not 2.2.1."""
    request = Body.of(body) if body is not None else None
    bodies = [request] if request else []
    if legs is None:
        legs = [Leg(receiver or "DE*EMS", "conn-ems")]
    with at(when):
        admission = Admission(
            sender_scope=connection,
            request_id=request_id,
            attempt=0,
            correlation_id=correlation_id or f"corr-{request_id}",
            connection_id=connection,
            method=method,
            path=path,
            query=query,
            module=module,
            interface=interface,
            headers={
                "x-request-id": request_id,
                "authorization": "Token secret-token-of-the-cpo",
                "ocpi-from-party-id": sender.split("*")[1],
            },
            body_sha256=request.sha256 if request else None,
            body_size=request.size if request else 0,
            from_party=sender,
            to_party=receiver,
            **({"ocpi_version": ocpi_version} if ocpi_version else {}),
        )
        if refuse is not None:
            admission.refuse(*refuse)
            return Sent(RoutedMessage.admit(admission), bodies)
        admission.route(classification, [leg.party for leg in legs], f"{classification} routing")
        for number, leg in enumerate(legs, start=1):
            admission.forward(
                leg=number,
                target_party=leg.party,
                target_connection_id=leg.connection,
                url=f"http://{leg.connection}/ocpi/2.2.1/{module}{path}",
                request_id=f"{request_id}-leg{number}",
                headers={"x-request-id": f"{request_id}-leg{number}"},
                body_sha256=request.sha256 if request else None,
                body_size=request.size if request else 0,
            )
        message = RoutedMessage.admit(admission)
        for number, leg in enumerate(legs, start=1):
            if leg.failure:
                message.record_failure(number, 4002, leg.failure, leg.latency_ms)
                continue
            answer = Body.of(leg.answer)
            bodies.append(answer)
            message.record_answer(
                number,
                leg.http_status,
                leg.ocpi_status,
                leg.latency_ms,
                {},
                answer.sha256,
                answer.size,
            )
        http_status, ocpi_status = respond or (
            (legs[0].http_status, legs[0].ocpi_status) if len(legs) == 1 else (200, 1000)
        )
        reply = Body.of(b'{"status_code":%d}' % (ocpi_status or 0))
        bodies.append(reply)
        message.respond(http_status, ocpi_status, latency_ms, {}, reply.sha256, reply.size)
        message.conclude()
    return Sent(message, bodies)


def record(store: Store, *sent: Sent) -> int:
    return store.ledger.record(
        *(s.message for s in sent), bodies=[b for s in sent for b in s.bodies]
    )


def recorded_before_issue_15(sent: Sent) -> list[Any]:
    """The message as the node recorded it before issue 15: one event per step (Received,
    Routed, Forwarded, Answered/Failed, Refused, Responded), versions 1..n, built from the
    step classes the domain keeps for reading such records."""
    old = []
    for stored in sent.message.collect_events():
        for step in step_events(stored):
            step.__dict__["originator_version"] = len(old) + 1
            old.append(step)
    return old


def record_before_issue_15(store: Store, *sent: Sent) -> int:
    """Record messages in the stored form of ledgers written before issue 15."""
    return store.ledger.record(
        *(event for s in sent for event in recorded_before_issue_15(s)),
        bodies=[b for s in sent for b in s.bodies],
    )


def audit_view(store: Store) -> tuple[SqlAuditView, ProjectionRunner]:
    view = SqlAuditView(store.ledger_db)
    return view, ProjectionRunner(store.ledger, AuditProjection(), view)


def traffic_view(store: Store) -> tuple[SqlTrafficView, ProjectionRunner]:
    view = SqlTrafficView(store.ledger_db)
    return view, ProjectionRunner(store.ledger, TrafficProjection(), view)


def node_settings(database_url: DatabaseUrl, admin_token: str) -> Settings:
    """Settings of an in-process node on the test's store, with a known admin token."""
    url = (
        f"sqlite:///{database_url.sqlite_path}"
        if not database_url.is_postgres
        else f"postgresql://{database_url.user}@{database_url.host}:{database_url.port}/"
        f"{database_url.dbname}?schema={database_url.schema}"
    )
    return load_settings(
        environ={"OCPI_LEDGER_DATABASE_URL": url, "OCPI_LEDGER_ADMIN_TOKEN": admin_token}
    )
def checkpoints_of(store: Store, sink: Any = None) -> Checkpoints:
    """The node's checkpoint service over a store (its key kept in the store)."""
    return Checkpoints(
        load_signer(None, store.registry_db),
        "NL*HUB",
        [LedgerArchive(store.ledger_db), LedgerArchive(store.registry_db, "registry")],
        SqlCheckpointStore(store.ledger_db),
        sink,
        now=lambda: datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    )


def evidence_bundle(
    store: Store, message_ids: list[str], subject: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A signed bundle as `GET /admin/evidence` makes it, as a file on disk holds it."""
    checkpoints = checkpoints_of(store)
    bundle = build_bundle(
        LedgerArchive(store.ledger_db),
        message_ids,
        subject=subject or {},
        generated_at="2026-12-01T12:00:00Z",
        signer=checkpoints.signer,
        take_checkpoint=checkpoints.take,
    )
    return json.loads(json.dumps(bundle))

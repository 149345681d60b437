"""Answers from the hub's own object store (a projection of the ledger, application.hub_objects):
GET All of locations, tariffs and tokens via the hub, and the owner's Receiver GET of the copy the
hub holds. A read first waits until the store holds the pushes this node recorded."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from application.hub_store import HubObjectStore, Page, object_key
from application.routing.answers import HubAnswers
from application.routing.exchange import Answer, Exchange, RoutingConfig
from application.routing.recording import ExchangeRecorder
from application.routing.route_finder import RouteFinder
from application.routing.versions import TranslationRefused
from domain import headers as h
from domain.errors import InvalidOperationError
from domain.hub_objects import normalise_datetime
from domain.operations import Operation
from domain.routing import NEVER_BROADCAST, RouteClass, RouteClassKind
from domain.status_codes import ClientError
from domain.values import OCPI_VERSION, ModuleId, PartyRef

_STORED_MODULES = frozenset({ModuleId.LOCATIONS, ModuleId.TARIFFS, ModuleId.TOKENS})

Store = Callable[..., Awaitable[Any]]
InVersion = Callable[[Exchange, Operation, Page], tuple[list[bytes], str | None]]
OneInVersion = Callable[
    [Exchange, Operation, PartyRef, bytes, str], tuple[bytes, dict[str, Any] | None]
]
"""One stored object (in the version its owner pushed it in) in the requester's version and its
loss record (None: sent as stored); raises `TranslationRefused`."""


class Refuse(Protocol):
    async def __call__(
        self,
        exchange: Exchange,
        status_code: int,
        reason: object,
        *,
        http_status: int | None = None,
        route_class: RouteClass | None = None,
    ) -> Answer: ...


class HubStoreReads:
    def __init__(
        self,
        config: RoutingConfig,
        objects: HubObjectStore,
        answers: HubAnswers,
        ledger: ExchangeRecorder,
        routes: RouteFinder,
        store: Store,
        refuse: Refuse,
        in_version: InVersion | None = None,
        one_in_version: OneInVersion | None = None,
    ) -> None:
        """`in_version`: the store's documents in the requester's OCPI version, and a note of
        what that changed; `one_in_version`: one of them, with its loss report
        (application.routing.bridging)."""
        self.config = config
        self.objects = objects
        self.answers = answers
        self.ledger = ledger
        self.routes = routes
        self._store = store
        self._refuse = refuse
        self.in_version = in_version
        self.one_in_version = one_in_version

    async def get_all(
        self, exchange: Exchange, operation: Operation, route_class: RouteClass
    ) -> Answer:
        if operation.module in NEVER_BROADCAST or operation.module not in _STORED_MODULES:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"the hub holds no {operation.module}: address OCPI-to to the data owner",
                route_class=route_class,
            )
        params = dict(parse_qsl(exchange.request.query, keep_blank_values=True))
        try:
            date_from = _optional_datetime(params.get("date_from"))
            date_to = _optional_datetime(params.get("date_to"))
        except InvalidOperationError as error:
            return await self._refuse(
                exchange, ClientError.INVALID_OR_MISSING_PARAMETERS, error, route_class=route_class
            )
        maximum = self.config.get_all_max_limit
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or maximum), maximum)
        page = await self._store(
            self.objects.page, str(operation.module), date_from, date_to, offset, limit
        )
        documents, note = (
            self.in_version(exchange, operation, page)
            if self.in_version
            else (page.documents, None)
        )
        answer = self.answers.ok(exchange, b"[" + b",".join(documents) + b"]")
        answer.headers[h.X_TOTAL_COUNT] = str(page.total)
        answer.headers[h.X_LIMIT] = str(maximum)
        following = offset + len(page.documents)
        if page.documents and following < page.total:
            query = urlencode({**params, "offset": str(following), "limit": str(limit)})
            endpoint = self.routes.hub_endpoint(
                operation.module, operation.interface, exchange.request.version
            )
            answer.headers[h.LINK] = f'<{endpoint}?{query}>; rel="next"'
        reason = f"GET All answered from the hub's store: {len(page.documents)} of {page.total}"
        exchange.steps.append(lambda m: m.route(str(RouteClassKind.GET_ALL), [], reason))
        self.ledger.respond_step(exchange, answer, note)
        await self.ledger.admit(exchange)
        return answer

    async def receiver_get(
        self, exchange: Exchange, operation: Operation, route_class: RouteClass
    ) -> Answer:
        key, sub_ids = object_key(operation)
        found = await self._store(self.objects.get_versioned, key) if key else None
        document, version = found if found is not None else (None, OCPI_VERSION)
        part = _sub_object(document, sub_ids) if document is not None else None
        if part is None:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                "the hub holds no such object",
                http_status=404,
                route_class=route_class,
            )
        assert key is not None
        translation = None
        if self.one_in_version is not None:
            try:
                part, translation = self.one_in_version(
                    exchange, operation, key.owner, part, version
                )
            except TranslationRefused as error:
                return await self._refuse(
                    exchange,
                    ClientError.INVALID_OR_MISSING_PARAMETERS,
                    error,
                    http_status=404,
                    route_class=route_class,
                )
        answer = self.answers.ok(exchange, part)
        reason = "the owner reads back the hub's copy"
        if translation is not None:
            reason += (
                f", translated from OCPI {translation['source_version']}"
                f" ({len(translation['losses'])} loss(es))"
            )
        exchange.steps.append(lambda m: m.route(str(RouteClassKind.HUB_RECEIVER_GET), [], reason))
        self.ledger.respond_step(exchange, answer, translation=translation)
        await self.ledger.admit(exchange)
        return answer


def _sub_object(document: bytes, sub_ids: tuple[str, ...]) -> bytes | None:
    if not sub_ids:
        return document
    node: Any = json.loads(document)
    for list_name, key, uid in zip(("evses", "connectors"), ("uid", "id"), sub_ids, strict=False):
        children = node.get(list_name) if isinstance(node, dict) else None
        matches = [c for c in children or [] if isinstance(c, dict) and c.get(key) == uid]
        if not matches:
            return None
        node = matches[0]
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _optional_datetime(value: str | None) -> str | None:
    return normalise_datetime(value) if value else None

"""The hub's own URLs in what it relays: a command's `response_url` becomes a callback URL of the
hub, a created CDR's `Location` a CDR URL of the hub; each is a link the hub keeps (digest §2.9,
§2.11), so the answer can come back through it and only to the party it was issued for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from application.callbacks import (
    CALLBACK,
    CDR_LOCATION,
    HubLink,
    LinkStore,
    callback_expiry,
    callback_url,
    cdr_location_url,
    expiry_after_answer,
    new_link_id,
)
from application.delivery import Delivered, Target
from application.routing.exchange import Answer, Exchange, RoutingConfig
from domain import headers as h
from domain.errors import RewriteError
from domain.operations import Operation, OperationKind
from domain.rewriting import (
    replace_json_string_field,
    replace_query_param,
    rewrite_link_header,
    rewrite_location_header,
)
from domain.values import AnyModuleId, InterfaceRole, ModuleId

Store = Callable[..., Awaitable[Any]]


class CallbackLinks:
    def __init__(
        self,
        config: RoutingConfig,
        links: LinkStore,
        store: Store,
        now: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.links = links
        self._store = store
        self._now = now

    def replace_response_url(
        self, exchange: Exchange, operation: Operation, target: Target, version: str
    ) -> tuple[bytes, str, HubLink]:
        """`version`: the target's, under whose prefix it will post the result."""
        request = exchange.request
        link_id = new_link_id()
        hub_url = callback_url(self.config.base_url, ModuleId(operation.module), link_id, version)
        body, query = request.body, request.query
        if operation.kind is OperationKind.CHARGING_PROFILE and request.method != "PUT":
            query, original = replace_query_param(query, "response_url", hub_url)
        else:
            body, original = replace_json_string_field(body, "response_url", hub_url)
        if not original:
            raise RewriteError("response_url is missing")
        now = self._now()
        assert exchange.from_party is not None
        link = HubLink(
            id=link_id,
            kind=CALLBACK,
            module=str(operation.module),
            original_url=original,
            requester_connection_id=request.connection.id,
            requester_party=exchange.from_party,
            receiver_party=target.party,
            correlation_id=exchange.correlation_id,
            created_at=now,
            expires_at=callback_expiry(now, operation.command, request.body),
        )
        return body, query, link

    async def extend(self, link: HubLink, outcome: Delivered) -> None:
        """A receiver that announces a longer timeout keeps the callback link open longer."""
        if 200 <= outcome.http_status < 300:
            expiry = expiry_after_answer(self._now(), outcome.body)
            if expiry is not None and link.expires_at is not None and expiry > link.expires_at:
                await self._store(self.links.extend, link.id, expiry)

    async def map_cdr_location(self, exchange: Exchange, target: Target, value: str) -> str:
        assert exchange.from_party is not None
        link_id = new_link_id()
        original: list[str] = []

        def make_url(upstream: str) -> str:
            original.append(upstream)
            return cdr_location_url(self.config.base_url, link_id, exchange.request.version)

        try:
            rewritten = rewrite_location_header(value, make_url)
        except RewriteError:
            return value
        link = HubLink(
            id=link_id,
            kind=CDR_LOCATION,
            module=str(ModuleId.CDRS),
            original_url=original[0],
            requester_connection_id=exchange.request.connection.id,
            requester_party=exchange.from_party,
            receiver_party=target.party,
            correlation_id=exchange.correlation_id,
            created_at=self._now(),
            expires_at=None,
        )
        await self._store(self.links.put, link)
        return rewritten

    async def relay(
        self,
        exchange: Exchange,
        operation: Operation,
        target: Target,
        outcome: Delivered,
        hub_endpoint: Callable[[AnyModuleId, InterfaceRole], str],
    ) -> Answer:
        """The receiver's answer for the requester: routing headers swapped, a pagination
        `Link` pointing at the hub's own endpoint (query kept), a CDR `Location` at a hub link."""
        assert exchange.from_party is not None
        headers = h.relay_response_headers(
            outcome.headers,
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            responder=target.party,
        )
        if h.LINK in headers:
            endpoint = hub_endpoint(operation.module, operation.interface)
            headers[h.LINK] = rewrite_link_header(
                headers[h.LINK], lambda upstream: with_query(endpoint, upstream)
            )
        if h.LOCATION in headers and operation.kind is OperationKind.CDR_POST:
            headers[h.LOCATION] = await self.map_cdr_location(exchange, target, headers[h.LOCATION])
        return Answer(outcome.http_status, headers, outcome.body)


def with_query(endpoint: str, upstream: str) -> str:
    query = urlsplit(upstream).query
    return f"{endpoint}?{query}" if query else endpoint

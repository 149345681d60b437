"""Server-side pagination of OCPI list GETs (offset/limit/date_from/date_to + headers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from simulator.envelope import OcpiError, parse_ocpi_datetime


@dataclass(frozen=True)
class PageRequest:
    offset: int = 0
    limit: int | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> PageRequest:
        try:
            offset = int(query.get("offset", "0"))
            limit = int(query["limit"]) if "limit" in query else None
            date_from = parse_ocpi_datetime(query["date_from"]) if "date_from" in query else None
            date_to = parse_ocpi_datetime(query["date_to"]) if "date_to" in query else None
        except ValueError as exc:
            raise OcpiError(400, 2001, f"invalid pagination parameter: {exc}") from exc
        if offset < 0 or (limit is not None and limit < 0):
            raise OcpiError(400, 2001, "offset and limit must not be negative")
        return cls(offset, limit, date_from, date_to)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    max_limit: int

    @property
    def has_next(self) -> bool:
        # an empty page (limit=0) never links onward, or a crawler would loop forever
        return bool(self.items) and self.offset + len(self.items) < self.total

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.items)


def in_window(obj: Mapping[str, Any], request: PageRequest) -> bool:
    if request.date_from is None and request.date_to is None:
        return True
    stamp = parse_ocpi_datetime(str(obj["last_updated"]))
    # date_from is inclusive, date_to exclusive
    if request.date_from is not None and stamp < request.date_from:
        return False
    return request.date_to is None or stamp < request.date_to


def paginate(objects: Iterable[dict[str, Any]], request: PageRequest, max_limit: int) -> Page:
    """Oldest first, stable for equal timestamps, so a crawler never sees an object twice."""
    matching = [o for o in objects if in_window(o, request)]
    ordered = sorted(
        enumerate(matching),
        key=lambda pair: (parse_ocpi_datetime(pair[1]["last_updated"]), pair[0]),
    )
    limit = max_limit if request.limit is None else min(request.limit, max_limit)
    chosen = [o for _, o in ordered[request.offset : request.offset + limit]]
    return Page(chosen, len(matching), request.offset, limit, max_limit)


def next_link(url: str, query: Mapping[str, str], page: Page) -> str:
    """The `Link` URL of the next page: same URL and filters, moved offset, explicit limit."""
    params = {k: v for k, v in query.items() if k not in ("offset", "limit")}
    params["offset"] = str(page.next_offset)
    params["limit"] = str(page.limit)
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))


def pagination_headers(url: str, query: Mapping[str, str], page: Page) -> dict[str, str]:
    headers = {"X-Total-Count": str(page.total), "X-Limit": str(page.max_limit)}
    if page.has_next:
        headers["Link"] = f'<{next_link(url, query, page)}>; rel="next"'
    return headers

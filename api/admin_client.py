"""What every admin CLI command shares: one call to a running node's /admin API, and tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from api.cli_commands import CommandError

DEFAULT_URL = "http://127.0.0.1:8000"


class AdminCallError(CommandError):
    """The node could not be reached or refused; the message is fit to show an operator."""


def admin_call(
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    url: str | None = None,
    token: str | None = None,
    timeout: float = 120,
) -> Any:
    """Call `path` (starting with /admin) on the node; returns the envelope's data, or the JSON."""
    base = (url or os.environ.get("OCPI_LEDGER_URL") or DEFAULT_URL).rstrip("/")
    token = token or os.environ.get("OCPI_LEDGER_ADMIN_TOKEN")
    if not token:
        raise AdminCallError("set OCPI_LEDGER_ADMIN_TOKEN (or --token) to the node's admin token")
    query = {k: v for k, v in (params or {}).items() if v is not None}
    try:
        response = httpx.request(
            method,
            base + path,
            params=query,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
    except httpx.HTTPError as error:
        raise AdminCallError(f"cannot reach the node at {base}: {type(error).__name__}") from None
    try:
        payload = response.json()
    except ValueError:
        raise AdminCallError(f"HTTP {response.status_code} from {base}{path}: not JSON") from None
    envelope = isinstance(payload, dict) and "status_code" in payload
    if response.status_code >= 400 or (envelope and payload["status_code"] >= 2000):
        message = payload.get("status_message") if isinstance(payload, dict) else None
        raise AdminCallError(f"HTTP {response.status_code}: {message or payload}")
    return payload.get("data", payload) if envelope else payload


def render_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    cell: Callable[[Any], str] = lambda v: "" if v is None else str(v),
) -> str:
    if not rows:
        return "(none)"
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)

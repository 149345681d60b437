"""The console's pages and forms: thin handlers that call the node's use cases and read models
directly, build a view model (api/console/view_models.py) and render a template.

Every page needs a session (api/console/session.py); every form that changes something carries
the session's CSRF token. Pages work without JavaScript; the only script draws the charts.

Above 500 lines: one short handler per page and form (about forty), kept together so the
console's URL map reads in one place; what a page shows lives in view_models.py.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.admin_queries import parse_instant
from api.console import session as sessions
from api.console import view_models as vm
from api.errors import OcpiError
from api.node import Node
from api.routers.admin_audit import (
    MESSAGE_PARAMS,
    evidence_download,
    message_query,
    progress_of,
    redrive_many,
    redrive_one,
)
from api.routers.admin_connections import connection_view, off_loop, redacted
from application.audit import MessageQuery, epoch_us
from application.redrive import RecordedMessageNotFoundError, RedriveRefusedError
from application.time_travel import describe, registry_changes, routing_table_as_of
from application.timeline import message_timeline
from application.tokens import hash_token
from application.traffic import GRANULARITIES, TrafficQuery
from domain.connections import Leniency
from domain.errors import DomainError
from domain.values import InterfaceRole, ModuleId, PartyRef, parse_module_id
from infrastructure.ledger_chain import verify_ledger
from infrastructure.secrets import SecretStore

HERE = Path(__file__).parent
STATIC = {
    path.name: path
    for path in (HERE / "static").iterdir()
    if path.suffix in (".js", ".css", ".txt")
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
SESSION_SECRET = "console_session_secret"
# Nothing but this origin: the console must never make a browser talk to anyone else.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
CONNECTION_ACTIONS = {
    "suspend": "Suspend",
    "reactivate": "Reactivate",
    "rotate": "Rotate credentials of",
    "disconnect": "Disconnect",
}

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))


class SignInRequired(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class StaleForm(Exception):
    """A state-changing form without this session's CSRF token."""


def install_console(app: FastAPI) -> None:
    app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def to_sign_in(_request: Request, error: SignInRequired) -> Response:
        return RedirectResponse(error.location, status_code=303, headers=SECURITY_HEADERS)

    @app.exception_handler(StaleForm)
    async def stale_form(request: Request, _error: StaleForm) -> Response:
        message = "The form is stale or not from this console: reload the page and try again."
        return render(request, "problem.html", None, 403, message=message)


# ---- sessions ----------------------------------------------------------------------------


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def key_of(node: Node) -> bytes:
    key = node.services.console_session_key
    if key is None:
        # Shared by every worker process through the registry database (see session.py).
        shared = SecretStore(node.store.registry_db).put_hash_if_absent(
            SESSION_SECRET, secrets.token_hex(32)
        )
        key = sessions.session_key(shared, node.services.admin_token_hash)
        node.services.console_session_key = key
    return bytes(key)


def signed_in(request: Request) -> sessions.Session:
    found = sessions.read(key_of(node_of(request)), request.cookies.get(sessions.COOKIE))
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired("/console/sign-in?" + urlencode({"next": target}))
    return found


async def form_of(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}


async def checked_form(request: Request) -> tuple[sessions.Session, dict[str, str]]:
    """The session and the posted form, if its CSRF token is the session's."""
    session = signed_in(request)
    form = await form_of(request)
    if not sessions.csrf_matches(session, form.get("csrf")):
        raise StaleForm()
    return session, form


def render(
    request: Request,
    template: str,
    session: sessions.Session | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    response = templates.TemplateResponse(
        request,
        template,
        {"csrf": session.csrf if session else "", "signed_in": session is not None, **context},
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def problem(request: Request, session: sessions.Session, error: Exception) -> Response:
    status = error.http_status if isinstance(error, OcpiError) else 400
    message = error.message if isinstance(error, OcpiError) else str(error)
    return render(request, "problem.html", session, status_code=status, message=message)


def redirect(location: str) -> Response:
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


@router.get("/static/{name}")
def static(name: str) -> Response:
    path = STATIC.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/console") -> Response:
    login = secrets.token_urlsafe(18)
    response = render(request, "sign_in.html", None, login=login, next=next, error=None)
    _set_cookie(request, response, sessions.LOGIN_COOKIE, login, 600)
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await form_of(request)
    node = node_of(request)
    target = form.get("next") or "/console"
    if not target.startswith("/console") or target.startswith("//"):
        target = "/console"
    login = request.cookies.get(sessions.LOGIN_COOKIE) or ""
    token = (form.get("token") or "").strip()
    fresh_login = bool(login) and hmac.compare_digest(login, form.get("login") or "")
    if not fresh_login or not hmac.compare_digest(
        hash_token(token), node.services.admin_token_hash
    ):
        error = "Unknown admin token." if fresh_login else "The form expired: sign in again."
        login = secrets.token_urlsafe(18)
        response = render(request, "sign_in.html", None, 401, login=login, next=target, error=error)
        _set_cookie(request, response, sessions.LOGIN_COOKIE, login, 600)
        return response
    cookie, _session = sessions.issue(key_of(node))
    response = redirect(target)
    _set_cookie(request, response, sessions.COOKIE, cookie, sessions.LIFETIME_SECONDS)
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/console")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    response = redirect("/console/sign-in")
    response.delete_cookie(sessions.COOKIE, path="/console")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https"
        or node_of(request).settings.base_url.startswith("https://"),
    )


# ---- overview ----------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _traffic_rows(node: Node, query: TrafficQuery) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = node.services.traffic_view.rows(query)
    return rows


@router.get("")
def overview(request: Request) -> Response:
    session = signed_in(request)
    node = node_of(request)
    now = _now()
    # Whole hour buckets: the windows start on the hour, and their labels say so.
    windows = []
    for span in (timedelta(hours=1), timedelta(days=1)):
        start = (now - span).replace(minute=0, second=0, microsecond=0)
        rows = _traffic_rows(node, TrafficQuery(granularity="hour", since=start))
        windows.append((f"since {start:%Y-%m-%d %H:%M} UTC", rows))
    progress = [progress_of(node, name) for name, r in node.runners.items() if hasattr(r, "view")]
    page = vm.overview(
        describe(node.routing_table, now),
        windows,
        progress,
        node.services.console_last_verify,
        vm.latest_signed_checkpoint(node.services.checkpoints),
    )
    return render(request, "overview.html", session, page=page, nav="overview")


@router.post("/ledger/verify")
async def verify(request: Request) -> Response:
    await checked_form(request)
    node = node_of(request)
    await to_thread.run_sync(node.committer.flush)
    report = await to_thread.run_sync(verify_ledger, node.services.ledger_archive)
    node.services.console_last_verify = vm.ledger_status(report.as_dict(), _now().isoformat())
    return redirect("/console")


# ---- traffic -----------------------------------------------------------------------------


def _instant_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _party(value: str | None) -> str | None:
    return value.strip().upper() if value and value.strip() else None


@router.get("/traffic")
def traffic(request: Request) -> Response:
    session = signed_in(request)
    node = node_of(request)
    params = request.query_params
    bucket = params.get("bucket") or "hour"
    filters = vm.TrafficFilters(
        party=_party(params.get("party")),
        counterpart=_party(params.get("counterpart")),
        module=params.get("module") or None,
        direction=params.get("direction") or None,
        bucket=bucket,
    )
    now = _now()
    try:
        since = parse_instant("since", params.get("since")) or now - timedelta(
            days=7 if bucket == "day" else 1
        )
        until = parse_instant("until", params.get("until"))
        query = TrafficQuery(party=filters.party, granularity=bucket, since=since, until=until)
    except (OcpiError, ValueError) as error:
        return problem(request, session, error)
    span = (epoch_us(since), epoch_us(until or now), GRANULARITIES[bucket])
    page = vm.traffic_page(_traffic_rows(node, query), filters, span)
    # Which partner's error rate jumped: this week against the week before.
    week = timedelta(days=7)
    earlier = TrafficQuery(granularity="day", since=now - 2 * week, until=now - week)
    recent = TrafficQuery(granularity="day", since=now - week)
    jumps = vm.error_rate_jumps(_traffic_rows(node, earlier), _traffic_rows(node, recent))
    return render(
        request,
        "traffic.html",
        session,
        page=page,
        jumps=jumps[:10],
        since=_instant_text(since),
        until=_instant_text(until) if until else "",
        chart=page.chart,
        nav="traffic",
    )


# ---- messages ----------------------------------------------------------------------------


@router.get("/messages")
def messages(request: Request) -> Response:
    session = signed_in(request)
    node = node_of(request)
    params = {k: v for k, v in request.query_params.items() if k in MESSAGE_PARAMS}
    view = node.services.audit_view
    try:
        query = message_query(params)
    except OcpiError as error:
        return render(
            request, "messages.html", session, 400, params=params, rows=[], pager=None,
            error=error.message, nav="messages",
        )  # fmt: skip
    rows = view.find(query)
    counted = view.count(query)
    pager = vm.pager(
        params, counted["total"], query.offset, query.limit, len(rows), counted["total_exact"]
    )
    return render(
        request, "messages.html", session, params=params, rows=rows, pager=pager, error=None,
        nav="messages",
    )  # fmt: skip


def _message_id(text: str) -> str | None:
    try:
        return str(UUID(text))
    except ValueError:
        return None


def _message_page(node: Node, message_id: str) -> vm.MessagePage | None:
    timeline = message_timeline(node.services.ledger_archive, node.store.ledger.mapper, message_id)
    if timeline is None:
        return None
    view = node.services.audit_view
    summary = view.summary(message_id) or {"id": message_id}
    related = []
    if summary.get("correlation_id"):
        related = view.find(MessageQuery(correlation_id=summary["correlation_id"], limit=50))
    return vm.message_page(timeline, summary, related)


@router.get("/messages/{message_id}")
def message(request: Request, message_id: str) -> Response:
    session = signed_in(request)
    node = node_of(request)
    found = _message_id(message_id)
    page = _message_page(node, found) if found else None
    if page is None:
        return render(request, "problem.html", session, 404, message=f"no message {message_id}")
    return render(request, "message.html", session, page=page, nav="messages")


@router.get("/evidence")
def evidence(request: Request) -> Response:
    session = signed_in(request)
    subject = {
        k: v for k, v in request.query_params.items() if k in ("correlation_id", "object_id") and v
    }
    try:
        return evidence_download(node_of(request), subject)
    except OcpiError as error:
        return problem(request, session, error)


async def _dry_run(node: Node, message_id: str) -> dict[str, Any]:
    outcomes = await redrive_many(node, [message_id], dry_run=True)
    return outcomes[0].as_dict()


@router.get("/messages/{message_id}/redrive")
async def redrive_confirm(request: Request, message_id: str) -> Response:
    session = signed_in(request)
    node = node_of(request)
    found = _message_id(message_id)
    page = await to_thread.run_sync(_message_page, node, found) if found else None
    if page is None or found is None:
        return render(request, "problem.html", session, 404, message=f"no message {message_id}")
    preview = await _dry_run(node, found)
    return render(
        request, "redrive.html", session, page=page, preview=preview, result=None,
        nav="messages",
    )  # fmt: skip


@router.post("/messages/{message_id}/redrive")
async def redrive_send(request: Request, message_id: str) -> Response:
    session, _form = await checked_form(request)
    node = node_of(request)
    found = _message_id(message_id)
    if found is None:
        return render(request, "problem.html", session, 404, message=f"no message {message_id}")
    try:
        done = await redrive_one(node, found)
    except (RecordedMessageNotFoundError, RedriveRefusedError) as error:
        return problem(request, session, error)
    await to_thread.run_sync(node.committer.flush)
    return render(
        request, "redrive.html", session, page=None, preview=None, result=done.as_dict(),
        nav="messages",
    )  # fmt: skip


# ---- network -----------------------------------------------------------------------------


def _wait_for_table(node: Node) -> None:
    node.projection_runner("routing_table_memory").wait(
        node.store.registry.recorder.max_notification_id() or 0
    )


@router.get("/network")
def network(request: Request) -> Response:
    session = signed_in(request)
    node = node_of(request)
    _wait_for_table(node)
    changes = registry_changes(node.store.registry)
    selected = request.query_params.get("at")
    index = int(selected) if selected and selected.lstrip("-").isdigit() else None
    known = {c.id: c.label for c in node.routing_table.connections()}
    labels = [
        (moment.isoformat(), f"{name} {known.get(origin) or origin[:8]}")
        for moment, name, origin in changes
    ]
    page = vm.network_page({}, labels, index)
    now_selected = not changes or page.selected == len(changes) - 1
    if now_selected:
        table = describe(node.routing_table, _now())
    else:
        instant = changes[page.selected][0]
        table = describe(routing_table_as_of(node.store.registry, instant), instant)
    page = vm.network_page(table, labels, page.selected)
    return render(
        request, "network.html", session, page=page, now_selected=now_selected, nav="network"
    )


@router.get("/connections/{connection_id}")
def connection(request: Request, connection_id: str) -> Response:
    session = signed_in(request)
    node = node_of(request)
    try:
        uuid = UUID(connection_id)
        details = connection_view(node, str(uuid))
    except (ValueError, DomainError):
        return render(
            request, "problem.html", session, 404, message=f"no connection {connection_id}"
        )
    events = [
        {
            "type": type(event).__name__,
            "version": event.originator_version,
            "at": event.timestamp.isoformat(),
            "fields": redacted(event),
        }
        for event in node.registry.repository.event_store.get(uuid)
    ]
    return render(
        request, "connection.html", session, connection=details, events=events,
        actions=CONNECTION_ACTIONS, nav="network",
    )  # fmt: skip


@router.get("/connections/{connection_id}/{action}")
def connection_confirm(request: Request, connection_id: str, action: str) -> Response:
    session = signed_in(request)
    node = node_of(request)
    try:
        details = connection_view(node, str(UUID(connection_id)))
    except (ValueError, DomainError):
        details = None
    if details is None or action not in CONNECTION_ACTIONS:
        return render(request, "problem.html", session, 404, message="no such connection action")
    return render(
        request, "confirm.html", session, connection=details, action=action,
        verb=CONNECTION_ACTIONS[action], nav="network",
    )  # fmt: skip


def _use_case(node: Node, action: str, reason: str) -> Callable[[UUID], Any]:
    handshakes = node.services.handshakes

    def change(method: Callable[[UUID, str], int]) -> Callable[[UUID], Any]:
        return lambda uuid: node.wait_for_registry(method(uuid, reason))

    return {
        "suspend": change(node.registry.suspend_connection),
        "reactivate": change(node.registry.reactivate_connection),
        "rotate": handshakes.rotate,
        "disconnect": handshakes.unregister,
    }[action]


@router.post("/connections/{connection_id}/{action}")
async def connection_act(request: Request, connection_id: str, action: str) -> Response:
    session, form = await checked_form(request)
    node = node_of(request)
    if action not in CONNECTION_ACTIONS:
        return render(request, "problem.html", session, 404, message="no such connection action")
    reason = (form.get("reason") or "").strip() or f"{action} from the console"
    try:
        uuid = UUID(connection_id)
        await off_loop(_use_case(node, action, reason), uuid)
    except (OcpiError, DomainError, ValueError) as error:
        return problem(request, session, error)
    return redirect(f"/console/connections/{uuid}?" + urlencode({"done": action}))


def _proposal(form: Any) -> tuple[str | None, str | None]:
    """The OCPI version and (2.1.1) peer role a form proposes; empty selects propose nothing."""
    version = (form.get("ocpi_version") or "").strip() or None
    role = (form.get("role") or "").strip() or None
    return version, role


@router.post("/invitations")
async def invite(request: Request) -> Response:
    session, form = await checked_form(request)
    node = node_of(request)
    label = (form.get("label") or "").strip()
    if not label:
        return problem(request, session, ValueError("give the invitation a label"))
    version, role = _proposal(form)
    try:
        connection_id, token_a, position = await off_loop(
            node.registry.invite, label, Leniency.LENIENT, version, role
        )
    except OcpiError as error:
        return problem(request, session, error)
    await off_loop(node.wait_for_registry, position)
    return render(
        request, "invited.html", session, connection_id=str(connection_id), token_a=token_a,
        versions_url=node.versions_url, label=label, nav="network",
    )  # fmt: skip


@router.post("/connections")
async def connect(request: Request) -> Response:
    session, form = await checked_form(request)
    node = node_of(request)
    url, token_a = (form.get("versions_url") or "").strip(), (form.get("token_a") or "").strip()
    if not url.startswith(("http://", "https://")) or not token_a:
        return problem(request, session, ValueError("give the peer's versions URL and Token A"))
    label = (form.get("label") or "").strip() or url
    try:
        register = node.services.handshakes.register_with
        connection_id = await off_loop(register, label, url, token_a, *_proposal(form))
    except (OcpiError, DomainError) as error:
        return problem(request, session, error)
    return redirect(f"/console/connections/{connection_id}?done=connect")


# ---- route explain -----------------------------------------------------------------------


@router.get("/explain")
def explain(request: Request) -> Response:
    session = signed_in(request)
    node = node_of(request)
    params = {k: (v or "").strip() for k, v in request.query_params.items()}
    result: dict[str, Any] | None = None
    error = None
    if params.get("module") and (params.get("to") or params.get("from")):
        service = node.services.routing
        _wait_for_table(node)
        try:
            module = parse_module_id(params["module"])
            if params.get("to"):
                party = PartyRef.parse(params["to"])
                role = InterfaceRole((params.get("interface") or "receiver").upper())
                result = asdict(service.explain_route(party, module, role))
            elif isinstance(module, ModuleId):
                result = asdict(service.explain_broadcast(PartyRef.parse(params["from"]), module))
            else:
                error = f"custom module {module} is never broadcast"
        except (DomainError, ValueError) as problem_found:
            error = str(problem_found)
    return render(
        request, "explain.html", session, params=params, result=result, error=error,
        nav="explain",
    )  # fmt: skip

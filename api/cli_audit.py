"""`ocpi-ledger audit | redrive | route | audience | evidence | traffic | routing-table | verify |
checkpoint | public-key | rebuild`.

They talk to a running node (OCPI_LEDGER_URL, OCPI_LEDGER_ADMIN_TOKEN); `verify` and `rebuild`
also work offline against the database (`--database-url`), and `evidence --verify FILE` checks a
saved bundle without any node. Tables for people, `--json` for scripts.

Above 500 lines: eleven commands over the same admin client, table renderer and offline store
opener; each command is a configure/run pair of a few dozen lines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from api.admin_client import admin_call, render_table
from api.cli_commands import Command, CommandError, Commands
from api.cli_settings import reachable_database
from infrastructure.rebuildable import REBUILDABLE

CliError = CommandError


# ---- talking to a node -----------------------------------------------------------------------


def _remote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="node base URL (OCPI_LEDGER_URL)")
    parser.add_argument("--token", default=None, help="admin token (OCPI_LEDGER_ADMIN_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _call(
    args: argparse.Namespace, method: str, path: str, params: dict[str, Any] | None = None
) -> Any:
    return admin_call(method, path, params=params, url=args.url, token=args.token)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    return render_table(rows, columns)


def _emit(args: argparse.Namespace, data: Any, human: Callable[[Any], str]) -> None:
    print(json.dumps(data, indent=2) if getattr(args, "json", False) else human(data))


# ---- audit -----------------------------------------------------------------------------------

_FILTERS = (
    "party", "counterpart", "direction", "connection", "module", "object_id", "request_id",
    "correlation_id", "since", "until", "status", "outcome", "limit", "offset",
)  # fmt: skip


def _configure_audit(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("message_id", nargs="?", help="show one message's whole timeline")
    for name in _FILTERS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name)


def _audit(args: argparse.Namespace) -> int:
    if args.message_id:
        data = _call(args, "GET", f"/admin/messages/{args.message_id}")
        _emit(args, data, _timeline_text)
        return 0
    data = _call(args, "GET", "/admin/messages", {n: getattr(args, n) for n in _FILTERS})
    columns = ("received_at", "id", "from_party", "to_party", "module", "method", "object_id",
               "outcome", "ocpi_status", "latency_ms", "request_id")  # fmt: skip
    _emit(args, data, lambda d: table(d["messages"], columns) + "\n" + _page_note(d))
    return 0


def _page_note(data: dict[str, Any]) -> str:
    total = data["total"] if data["total_exact"] else f"about {data['total']}"
    return f"{total} in all" + ("; more: raise --offset" if data["has_more"] else "")


def _timeline_text(data: dict[str, Any]) -> str:
    request = data["request"]
    lines = [
        f"message {data['id']}",
        f"  {request.get('method')} {request.get('module')} {request.get('path')} "
        f"from {request.get('from_party')} to {request.get('to_party')}",
        f"  request id {request.get('request_id')}, correlation id {request.get('correlation_id')}",
    ]
    if data.get("routing"):
        r = data["routing"]
        lines.append(f"  routed {r['classification']} to {', '.join(r['targets'])}: {r['reason']}")
    for step in data["events"]:
        chain = step["chain"]["hash"][:12] if step["chain"] else "UNCHAINED"
        extra = {
            k: v
            for k, v in step["data"].items()
            if k in ("leg", "target_party", "http_status", "ocpi_status", "latency_ms", "reason")
        }
        lines.append(f"  +{step['offset_ms']:>9.1f} ms  {step['event']:<10} {chain}  {extra}")
    return "\n".join(lines)


# ---- evidence --------------------------------------------------------------------------------


def _configure_evidence(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("--correlation-id")
    parser.add_argument("--object-id")
    parser.add_argument("-o", "--output", help="write the bundle to this file")
    parser.add_argument("--verify", metavar="FILE", help="check a saved bundle, offline")
    parser.add_argument(
        "--public-key", metavar="PEM", help="with --verify: the node's published public key"
    )


def _evidence(args: argparse.Namespace) -> int:
    from application.evidence import verify_bundle

    if args.verify:
        bundle = _read_json(args.verify)
        key = _read_public_key(args.public_key) if args.public_key else None
        result = verify_bundle(bundle, key)
        _emit(
            args,
            result,
            lambda r: _verdict(
                r["ok"],
                r["problems"],
                f"{r.get('messages', 0)} messages, {r['records']} records, "
                f"{r['bodies_kept']} bodies kept, {r['bodies_redacted']} redacted; "
                f"signed, checked with {r.get('key')}",
            ),
        )
        return 0 if result["ok"] else 3
    bundle = _call(
        args,
        "GET",
        "/admin/evidence",
        {"correlation_id": args.correlation_id, "object_id": args.object_id},
    )
    text = json.dumps(bundle, indent=1)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as error:
            raise CliError(f"cannot write {args.output}: {error}") from None
        result = verify_bundle(bundle)
        print(
            f"wrote {args.output}: {len(bundle['messages'])} messages; "
            + ("verifies" if result["ok"] else "DOES NOT VERIFY")
        )
    else:
        print(text)
    return 0


def _verdict(ok: bool, problems: list[dict[str, Any]], summary: str) -> str:
    if ok:
        return f"OK: {summary}"
    lines = [f"TAMPERED: {summary}"]
    for p in problems[:20]:
        where = ", ".join(
            f"{k}={p[k]}"
            for k in ("chain", "position", "notification_id", "originator_id", "originator_version")
            if p.get(k)
        )
        lines.append(f"  {p['kind']}: {p['detail']} ({where})")
    return "\n".join(lines)


# ---- traffic and routing table ---------------------------------------------------------------


def _configure_traffic(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("--party")
    parser.add_argument("--bucket", default="hour", choices=("hour", "day"))
    parser.add_argument("--since")
    parser.add_argument("--until")


def _traffic(args: argparse.Namespace) -> int:
    data = _call(
        args,
        "GET",
        "/admin/traffic",
        {"party": args.party, "bucket": args.bucket, "since": args.since, "until": args.until},
    )

    def human(d: dict[str, Any]) -> str:
        rows = [
            {**r, **{k: r["latency_ms"][k] for k in ("p50", "p95", "p99")}} for r in d["series"]
        ]
        columns = (
            "bucket",
            "party",
            "counterpart",
            "module",
            "direction",
            "count",
            "errors",
            "error_rate",
            "p50",
            "p95",
            "p99",
        )
        talkers = table(d["top_talkers"], ("party", "sent", "bytes_out"))
        seen = table(d["last_seen"], ("party", "last_sent", "last_received"))
        return f"{table(rows, columns)}\n\ntop talkers\n{talkers}\n\nlast seen\n{seen}"

    _emit(args, data, human)
    return 0


def _configure_routing_table(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("--as-of", help="ISO-8601 instant; default now")


def _routing_table(args: argparse.Namespace) -> int:
    data = _call(args, "GET", "/admin/routing-table", {"as_of": args.as_of})

    def human(d: dict[str, Any]) -> str:
        rows = [
            {"party": p["party"], "role": p["role"], "routable": p["routable"], **r}
            for p in d["parties"]
            for r in (p["routes"] or [{}])
        ]
        parties = table(rows, ("party", "role", "routable", "kind", "status", "route_key", "since"))
        connections = table(d["connections"], ("id", "label", "status", "unregistered", "since"))
        return f"as of {d['as_of']}\n{parties}\n\nconnections\n{connections}"

    _emit(args, data, human)
    return 0


# ---- verify and rebuild (online or offline) --------------------------------------------------


def _offline(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("--database-url", help="work on the database directly, without a node")


def _open_store(url: str) -> Any:
    from infrastructure.store import open_store

    return open_store(reachable_database(url))


def _progress(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        percent = 100 * done / total if total else 100
        print(f"\r{label}: {done}/{total} ({percent:.0f}%)", end="", file=sys.stderr, flush=True)

    return show


def _configure_verify(parser: argparse.ArgumentParser) -> None:
    _offline(parser)
    parser.add_argument(
        "--checkpoint", metavar="FILE", help="a signed checkpoint the chains must still reach"
    )
    parser.add_argument(
        "--public-key", metavar="PEM", help="the node's public key (offline: else the store's)"
    )


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read {path}: {error}") from None


def _read_public_key(path: str) -> Any:
    from application.signing import load_public_key

    try:
        with open(path, "rb") as file:
            return load_public_key(file.read())
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read the public key {path}: {error}") from None


def _verify(args: argparse.Namespace) -> int:
    checkpoint = _read_json(args.checkpoint) if args.checkpoint else None
    public_key = _read_public_key(args.public_key) if args.public_key else None
    if args.database_url:
        from infrastructure.checkpoints import stored_public_key
        from infrastructure.ledger_chain import LedgerArchive, verify_chains

        store = _open_store(args.database_url)
        try:
            if checkpoint is not None and public_key is None:
                public_key = stored_public_key(store.registry_db)
            data = verify_chains(
                [LedgerArchive(store.ledger_db), LedgerArchive(store.registry_db, "registry")],
                checkpoint=checkpoint,
                public_key=public_key,
                on_progress=_progress("verifying"),
            )
            print(file=sys.stderr)
        finally:
            store.close()
    else:
        if checkpoint is not None and public_key is not None:
            from application.signing import signature_problem

            wrong = signature_problem(checkpoint, public_key)
            if wrong:
                raise CliError(f"the checkpoint does not verify with {args.public_key}: {wrong}")
        body = {"checkpoint": checkpoint} if checkpoint is not None else None
        data = _call_body(args, "POST", "/admin/ledger/verify", body)
    registry = data.get("chains", {}).get("registry")
    summary = (
        f"{data['records']} records, {data['links']} links, head {data['head_position']} "
        f"{data['head_hash'][:16]}, {data['bodies_checked']} bodies checked, "
        f"{data['bodies_redacted']} redacted"
        + (
            f"; registry: {registry['records']} records, head {registry['head_position']}"
            if registry
            else ""
        )
        + (
            f"; checkpoint of {data['checkpoint']['taken_at']}: signature "
            f"{data['checkpoint']['signature']}"
            if data.get("checkpoint")
            else ""
        )
    )
    _emit(args, data, lambda d: _verdict(d["ok"], d["problems"], summary))
    return 0 if data["ok"] else 3


def _call_body(
    args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None
) -> Any:
    return admin_call(method, path, body=body, url=args.url, token=args.token)


# ---- checkpoints and the public key ----------------------------------------------------------


def _configure_checkpoint(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("-o", "--output", help="write the signed checkpoint to this file")
    parser.add_argument(
        "--latest", action="store_true", help="the latest checkpoint instead of a new one"
    )


def _checkpoint(args: argparse.Namespace) -> int:
    if args.latest:
        data = _call(args, "GET", "/admin/ledger/checkpoints/latest")["checkpoint"]
        if data is None:
            raise CliError("the node has taken no checkpoint yet")
    else:
        data = _call(args, "POST", "/admin/ledger/checkpoints")
    text = json.dumps(data, indent=1, sort_keys=True)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        chains = ", ".join(
            f"{name} at {entry['position']}" for name, entry in data["chains"].items()
        )
        print(f"wrote {args.output}: checkpoint of {data['taken_at']}, {chains}")
    else:
        print(text)
    return 0


def _configure_public_key(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("-o", "--output", help="write the PEM to this file")


def _public_key(args: argparse.Namespace) -> int:
    data = _call(args, "GET", "/admin/ledger/public-key")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(data["public_key_pem"])
        print(f"wrote {args.output}: Ed25519 key {data['key_id']}")
    else:
        _emit(args, data, lambda d: d["public_key_pem"].rstrip())
    return 0


def _configure_rebuild(parser: argparse.ArgumentParser) -> None:
    _offline(parser)
    parser.add_argument("projection", choices=tuple(REBUILDABLE))


def _rebuild(args: argparse.Namespace) -> int:
    if not args.database_url:
        _call(args, "POST", f"/admin/projections/{args.projection}/rebuild")
        show = _progress(f"rebuilding {args.projection}")
        while True:
            state = _call(args, "GET", f"/admin/projections/{args.projection}")
            show(state["position"], state["head"])
            if state["position"] >= state["head"]:
                break
            time.sleep(0.5)
        print(file=sys.stderr)
        return 0
    store = _open_store(args.database_url)
    try:
        runner = rebuild_offline(store, args.projection, _progress(f"rebuilding {args.projection}"))
        print(file=sys.stderr)
        print(f"rebuilt {args.projection} up to position {runner.position}")
    finally:
        store.close()
    return 0


def rebuild_offline(store: Any, name: str, show: Callable[[int, int], None]) -> Any:
    """Drop the projection's rows and replay its log from event zero."""
    from infrastructure.projection_runner import ProjectionRunner

    source, projection, view = REBUILDABLE[name](store)
    view.reset()
    head = source.recorder.max_notification_id() or 0
    runner = ProjectionRunner(source, projection, view, on_progress=lambda p: show(p, head))
    runner.run_until_caught_up()
    return runner


# ---- redrive ---------------------------------------------------------------------------------


_REDRIVE_FILTERS = tuple(f for f in _FILTERS if f not in ("request_id", "offset"))


def _configure_redrive(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument(
        "message_id", nargs="?", help="the recorded push or command to send once more"
    )
    for name in _REDRIVE_FILTERS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name)
    parser.add_argument("--dry-run", action="store_true", help="list what a search would re-drive")


def _redrive(args: argparse.Namespace) -> int:
    if args.message_id:
        data = _call(args, "POST", f"/admin/messages/{args.message_id}/redrive")
        _emit(args, data, _redriven_text)
        return 0
    params = {n: getattr(args, n) for n in _REDRIVE_FILTERS}
    params["dry_run"] = "true" if args.dry_run else None
    data = _call(args, "POST", "/admin/messages/redrive", params)
    _emit(args, data, _redriven_many_text)
    return 0


def _redriven_text(data: dict[str, Any]) -> str:
    answer = data["answer"]
    return (
        f"{data['repeats']} sent again as message {data['message_id']} "
        f"(X-Request-ID {data['request_id']}, X-Correlation-ID {data['correlation_id']}); "
        f"answer: HTTP {answer['http_status']}, OCPI {answer['ocpi_status']}"
    )


def _redriven_many_text(data: dict[str, Any]) -> str:
    lines = [
        _redriven_text(r) if r["result"] == "redriven"
        else f"{r['repeats']} {r['result'].replace('_', ' ')}" + (
            f": {r['reason']}" if r.get("reason") else ""
        )
        for r in data["results"]
    ]  # fmt: skip
    verb = "would re-drive" if data["dry_run"] else "re-drove"
    sent = sum(r["result"] != "refused" for r in data["results"])
    return "\n".join([*lines, f"{data['matched']} matched, {verb} {sent}"])


# ---- route (a dry run of route choice) --------------------------------------------------------


def _configure_route(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("to", help="the receiving party, CC*PID")
    parser.add_argument("module", help="e.g. tokens, or a custom module id")
    parser.add_argument("interface", choices=("sender", "receiver"))


def _route(args: argparse.Namespace) -> int:
    params = {"to": args.to, "module": args.module, "interface": args.interface}
    data = _call(args, "GET", "/admin/routing-table/explain", params)
    _emit(args, data, _route_text)
    return 0


def _route_text(data: dict[str, Any]) -> str:
    asked = f"{data['party']} {data['module']} {data['interface']}"
    if not data["routed"]:
        return f"{asked}: {data['status_code']} {data['reason']}"
    where = f"{data['via']} via {data['connection_id'] or 'this node'}: {data['endpoint_url']}"
    return f"{asked} -> {where}\n{data['reason']}"


def _configure_audience(parser: argparse.ArgumentParser) -> None:
    _remote(parser)
    parser.add_argument("sender", help="the broadcasting party, CC*PID")
    parser.add_argument("module", help="locations, tariffs, tokens, ...")


def _audience(args: argparse.Namespace) -> int:
    params = {"from": args.sender, "module": args.module}
    data = _call(args, "GET", "/admin/routing-table/explain", params)
    _emit(args, data, _audience_text)
    return 0


def _audience_text(data: dict[str, Any]) -> str:
    lines = [
        f"{r['party']} ({r['via']} via {r['connection_id'] or 'this node'}): {r['endpoint_url']}"
        for r in data["receivers"]
    ]
    return "\n".join([*lines, data["reason"]])


def register(commands: Commands) -> None:
    commands["audit"] = Command(
        "find routed messages, or show one message's timeline", _configure_audit, _audit
    )
    commands["audience"] = Command(
        "who a broadcast push from a party would reach, and why", _configure_audience, _audience
    )
    commands["route"] = Command(
        "where a request to a party would go now, and why (a dry run)", _configure_route, _route
    )
    commands["redrive"] = Command(
        "send recorded pushes or commands once more", _configure_redrive, _redrive
    )
    commands["evidence"] = Command(
        "save a verifiable evidence bundle, or check one offline",
        _configure_evidence,
        _evidence,
    )
    commands["traffic"] = Command(
        "message counts, errors and latency per party and module", _configure_traffic, _traffic
    )
    commands["routing-table"] = Command(
        "the routing table and connections, now or as of an instant",
        _configure_routing_table,
        _routing_table,
    )
    commands["verify"] = Command(
        "check the hash chains and bodies (also offline), against a signed checkpoint too",
        _configure_verify,
        _verify,
    )
    commands["checkpoint"] = Command(
        "take (or fetch the latest) signed checkpoint of the chains' heads",
        _configure_checkpoint,
        _checkpoint,
    )
    commands["public-key"] = Command(
        "the node's Ed25519 public key, to verify checkpoints, bundles and receipts",
        _configure_public_key,
        _public_key,
    )
    commands["rebuild"] = Command(
        "replay a projection from event zero (also offline)",
        _configure_rebuild,
        _rebuild,
    )

"""Where the served node's CPU goes at saturation: py-spy samples the node (PostgreSQL ledger,
1 worker) while wrk saturates it, and the samples are summed per thread, per package of the
innermost frame (self) and per package anywhere on the stack (inclusive).

    python -m bench.profile --seconds 15 [--views process] [--gil]   # needs `pip install py-spy`
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench import load
from bench.postgres import postgres_schema
from bench.processes import node_server, running, uvicorn_server
from bench.run import NODE_PREFIX, seed_hub

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")


def package_of(frame: str) -> str:
    """The package a frame belongs to: two levels of the path after site-packages or the
    standard library, or of the repo's own modules (`application/routing`)."""
    match = _FRAME.match(frame)
    path = match.group("file") if match else frame
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        # py-spy names a library's file from its package (`fastapi/routing.py`): only a path
        # that starts with one of the repo's top-level packages is the repo's own.
        for top in ("api/", "application/", "infrastructure/", "domain/", "bench/"):
            if path.startswith(top) or f"/{top}" in path:
                path = top + path.split(top, 1)[1]
                break
    parts = path.split("/")
    return "/".join(parts[:2]).removesuffix(".py") if len(parts) > 1 else parts[0]


def summarise(raw: str, top: int = 25) -> list[str]:
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = next((f for f in frames if f.startswith("thread ")), "thread ?")
        code = [f for f in frames if " (" in f and not f.startswith(("process ", "thread "))]
        if not code:
            continue
        total += count
        threads[re.sub(r"\(0x[0-9A-Fa-f]+\)", "", thread).strip()] += count
        own[package_of(code[-1])] += count
        for package in {package_of(f) for f in code}:
            anywhere[package] += count
    if not total:
        return ["no samples"]
    lines = [f"{total} samples of busy threads", "", "| thread | share |", "|---|---:|"]
    lines += [f"| {name} | {n / total:.0%} |" for name, n in threads.most_common(8)]
    lines += ["", "| package (innermost frame) | self | anywhere on the stack |", "|---|---:|---:|"]
    lines += [
        f"| {name} | {n / total:.1%} | {anywhere[name] / total:.1%} |"
        for name, n in own.most_common(top)
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--views", choices=["inline", "process"], default="inline")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples here")
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only samples of the thread holding the GIL: Python CPU, not waits that py-spy"
        " cannot tell from work (a thread blocked in psycopg's wait counts as busy otherwise)",
    )
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    settings = {"OCPI_LEDGER_LEDGER_VIEWS": "process"} if args.views == "process" else {}
    receiver = uvicorn_server("receiver-profile", "bench.receiver:app", {})
    with running(receiver), postgres_schema() as url, tempfile.TemporaryDirectory() as tmp:
        auth = seed_hub(url, receiver.url)
        with running(node_server("node-profile", url, 1, settings=settings), "/health") as node:
            load.wrk(node.url, NODE_PREFIX, auth, 2, 8)  # warm-up
            out = args.raw or Path(tmp) / "samples.txt"
            loader = threading.Thread(
                target=load.saturate, args=(node.url, NODE_PREFIX, auth, args.seconds + 2)
            )
            loader.start()
            command = [spy, "record", "-p", str(node.process.pid), "-d", f"{args.seconds:g}"]
            command += ["-r", "200", "--threads", "-f", "raw", "-o", str(out), "--nonblocking"]
            command += ["--gil"] if args.gil else []
            subprocess.run(command, check=True, capture_output=True)
            loader.join()
            print("\n".join(summarise(out.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m api.demo.backends FILE.json`: the party backends of a demo in one process.

Each backend is its own simulator app (backend mode) on its own loopback port; sharing one
process keeps a 13-process topology within reach of a 2-core machine. Runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from simulator import SimConfig, create_app, start_in_thread


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], encoding="utf-8") as file:
        specs = json.load(file)
    servers = []
    for spec in specs:
        config = SimConfig.from_dict(spec["config"])
        config.public_url = f"http://127.0.0.1:{spec['port']}"
        servers.append(start_in_thread(create_app(config), port=spec["port"]))
    print("backends ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.request_stop()
    for server in servers:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

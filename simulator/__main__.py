"""`python -m simulator --config FILE.json --port N [--ocpi-version V]`: one simulated platform as
its own process, speaking OCPI V (2.1.1, 2.2.1 or 2.3.0; default: the config's `ocpi_version`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn

from simulator.app import create_app
from simulator.config import SimConfig
from simulator.envelope import VERSIONS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--config", required=True, help="JSON file holding a SimConfig")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--ocpi-version", choices=VERSIONS, help="overrides the config's")
    args = parser.parse_args(argv)
    raw = json.loads(Path(args.config).read_text())
    if args.ocpi_version:
        raw["ocpi_version"] = args.ocpi_version
    config = SimConfig.from_dict(raw)
    if not config.public_url:
        config.public_url = f"http://{args.host}:{args.port}"
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()

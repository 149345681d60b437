"""`python -m simulator --config FILE.json --port N`: one simulated platform as its own process."""

from __future__ import annotations

import argparse

import uvicorn

from simulator.app import create_app
from simulator.config import SimConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--config", required=True, help="JSON file holding a SimConfig")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args(argv)
    config = SimConfig.from_file(args.config)
    if not config.public_url:
        config.public_url = f"http://{args.host}:{args.port}"
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()

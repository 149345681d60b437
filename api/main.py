"""ASGI entry point. Importing this module registers every router and hook of the node."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from infrastructure.settings import Settings, load_settings


def build_app(settings: Settings) -> FastAPI:
    return create_app(settings)


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.main:app --workers N` imports this in each worker; build lazily so that
    # importing the module for build_app() does not read the environment.
    if name == "app":
        return build_app(load_settings())
    raise AttributeError(name)

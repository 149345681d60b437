"""Adapters: event stores, SQL read models, HTTP clients, configuration."""

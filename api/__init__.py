"""HTTP and CLI entry points: thin translation between OCPI/JSON and the use cases."""

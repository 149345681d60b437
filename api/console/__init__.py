"""The operator console: server-rendered pages at /console over the node's own read models."""

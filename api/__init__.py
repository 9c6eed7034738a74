"""The read API (/api/v1) and push ingest, mounted on the dashboard's Flask server."""

from .routes import register

__all__ = ["register"]

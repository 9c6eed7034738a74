"""The read API (/api/v1) and push ingest, mounted on the dashboard's Flask server."""

from .push import MAX_BYTES
from .routes import MAX_PERIODS, register

__all__ = ["MAX_BYTES", "MAX_PERIODS", "register"]

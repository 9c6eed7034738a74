"""The metrics layer: declared KPIs and targets, progress status, one query API over the warehouse.

Import is cheap: the registries are read on first use, never at import.
"""

from .aggregates import data_version, query_path, refresh
from .backlog import due_soon_list, overdue_list
from .engine import QueryError, explain, list_kpis, progress, query, rows, standing
from .index766 import index766
from .registry import RegistryError, get_registry

__all__ = ["QueryError", "RegistryError", "data_version", "due_soon_list", "explain", "get_registry", "index766", "list_kpis", "overdue_list",
           "progress", "query", "query_path", "refresh", "rows", "standing"]

"""SQL text quoting, the one copy: a string literal and a quoted identifier.

Used wherever SQL is generated (ingest's mapped columns, the metrics layer, the lake's paths, the serving
snapshot's views, the aggregate build). Values that can be bound as parameters should be; these are for
the parts DuckDB cannot bind (file paths in COPY/read_parquet, column names, literals inside generated
expressions).
"""

from __future__ import annotations


def literal(value: object) -> str:
    """'text' with embedded quotes doubled: str(value) as an SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """"name" with embedded double quotes doubled: any column name, however a file spells it."""
    return '"' + name.replace('"', '""') + '"'

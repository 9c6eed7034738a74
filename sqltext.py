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


def nfc(expr: str) -> str:
    """nfc_normalize(expr), except a value holding a NUL stays as it is: DuckDB's nfc_normalize cuts a
    non-ASCII string at its first NUL ('X\\0é-1' -> 'X'), which would make two ids one, or a code word of a
    longer value; kept whole, the NUL is a control character the checks reject."""
    return f"(CASE WHEN strpos({expr}, chr(0)) > 0 THEN {expr} ELSE nfc_normalize({expr}) END)"

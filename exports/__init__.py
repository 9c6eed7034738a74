"""Exports of what the dashboard shows: CSV (UTF-8 with BOM), Excel (.xlsx) and Parquet."""

from .tables import (
    EXPORT_FORMATS,
    XLSX_OPTIONS,
    csv_bytes,
    neutralised,
    neutralised_frame,
    parquet_bytes,
    rounded,
    xlsx_bytes,
)

__all__ = ["EXPORT_FORMATS", "XLSX_OPTIONS", "csv_bytes", "neutralised", "neutralised_frame", "parquet_bytes",
           "rounded", "xlsx_bytes"]

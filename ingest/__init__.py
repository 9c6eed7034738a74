"""Ingest: find files, read them, map their columns, validate, upsert; record every run."""

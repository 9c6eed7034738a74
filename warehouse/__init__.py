"""The DuckDB warehouse: schema and migrations, the working-day calendar, reference data, snapshots."""

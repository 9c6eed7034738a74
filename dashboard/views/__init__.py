"""What each page shows, as plain functions of a read-only connection, the language and the inputs.

The pages' callbacks open a cursor and call these; tests call them directly on a small real
warehouse with an explicit `now`. They ask the metrics API and warehouse/health.py for every number
and hand frames to the pure figure builders in dashboard/figures.py.
"""

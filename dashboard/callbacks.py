"""The one shape every page callback has: open a snapshot cursor, render, or say why it cannot.

Before the first snapshot the outputs show the empty state that says how to get data; an error in a
view is logged with its traceback and shown in place (its message), never swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import data
from .components import error_state, no_snapshot

log = logging.getLogger(__name__)


def render(lang: str, view: Callable, fallback: Callable[[object], object] = lambda state: state):
    """view(con) -> outputs; fallback(state component) -> outputs when there is no data or an error."""
    with data.cursor() as con:
        if con is None:
            return fallback(no_snapshot(lang))
        try:
            return view(con)
        except Exception as exc:  # shown to the user and logged; the other parts of the page keep working
            log.exception("dashboard view failed")
            return fallback(error_state(exc, lang))

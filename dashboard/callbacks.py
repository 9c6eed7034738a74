"""The one shape every page callback has: open a snapshot cursor, render, or say why it cannot; and
`redraw`, which sends a part of the page only when it differs from what the page already shows.

Before the first snapshot the outputs show the empty state that says how to get data; an error in a
view is logged with its traceback and shown in place (its message), never swallowed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable

from dash import no_update
from plotly.utils import PlotlyJSONEncoder

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
            failed()
            return fallback(error_state(exc, lang))


FAILED = "r57_view_failed"


def failed() -> None:
    """Mark this request's answer as an error shown in place: never kept (dashboard.kept)."""
    import flask

    if flask.has_request_context():
        setattr(flask.g, FAILED, True)


def fingerprint(outputs) -> str:
    """A short digest of a callback's outputs (Dash components as the renderer receives them)."""
    raw = json.dumps(outputs, cls=PlotlyJSONEncoder, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).hexdigest()


def redraw(outputs: tuple, shown: str | None) -> tuple:
    """`outputs` plus their fingerprint, or nothing at all (no_update for each, the fingerprint too) when
    the page already shows exactly these (`shown`: the fingerprint it last received, a dcc.Store State).

    A new snapshot re-runs every callback of an open page (issue 15); most parts come out the same (a
    file of today's dossiers leaves last month's cards and the ranking as they were), and in the browser
    Dash's renderer spends far longer applying a large children tree than the server spends making it
    (~2 s of main thread for the overview's five parts on the development machine). So an unchanged part
    is not sent, and the browser does nothing for it."""
    fp = fingerprint(outputs)
    if fp == shown:
        return (no_update,) * (len(outputs) + 1)
    return (*outputs, fp)

"""One dossier's detail (the ward page's action lists link to it): its ids, unit, procedure, channel, dates,
status and supplement days, and the history of its stored versions (table dossier_changes: each version an
upsert replaced, with its keys and event dates, and when the replacing run loaded).

The warehouse holds no personal data, and this reads none: no applicant, no free text. Scoped as every
dossier-level read is (metrics.scope): a dossier of a unit outside the viewer's scope is reported as such,
with nothing of it; an unknown id as not found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from . import scope as rls

MAX_ID_LENGTH = 120  # longer than any source's dossier number; anything longer is not one

_COLUMNS = ("dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "effective_due_at",
            "completed_at", "status", "supplement_count", "supplement_days", "processing_wd", "updated_at",
            "ingest_run_id")


@dataclass(frozen=True)
class Dossier:
    """What `dossier_detail` found: `state` is 'ok', 'not_found' or 'out_of_scope' (then nothing else is set)."""

    state: str
    dossier_id: str | None = None
    fields: dict = field(default_factory=dict)     # the current version: _COLUMNS, loaded_at (its run's time)
    history: list[dict] = field(default_factory=list)  # replaced versions, newest first


def dossier_detail(con: duckdb.DuckDBPyConnection, dossier_id: str | None,
                   scope: Iterable[str] | None = None) -> Dossier:
    """The current version of `dossier_id` and the versions it replaced, within scope (the caller's `scope`
    narrowed by the request viewer's, as metrics.scope does for every dossier list).

    history rows: replaced_at (when the run that replaced it finished or started), run_id, unit_code
    (None when that unit is outside the scope), procedure_code, received_date, finished_date, effective_due_at.
    """
    did = (dossier_id or "").strip()
    if not did or len(did) > MAX_ID_LENGTH:
        return Dossier("not_found")
    row = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM dossiers WHERE dossier_id = ?", [did]).fetchone()
    if row is None:
        return Dossier("not_found")
    current = dict(zip(_COLUMNS, row, strict=True))
    allowed = rls.effective(current["unit_code"], scope, aggregate=False)
    allowed = None if allowed is None else {str(u) for u in allowed}

    def visible(unit) -> bool:
        return allowed is None or str(unit) in allowed

    if not visible(current["unit_code"]):
        return Dossier("out_of_scope")
    runs = dict(con.execute("SELECT run_id, coalesce(finished_at, started_at) FROM ingest_runs").fetchall())
    current["loaded_at"] = runs.get(current["ingest_run_id"])
    history = []
    for run_id, unit, proc, received, finished, due in con.execute(
            "SELECT run_id, unit_code, procedure_code, received_date, finished_date, effective_due_at "
            "FROM dossier_changes WHERE dossier_id = ? ORDER BY run_id DESC", [did]).fetchall():
        history.append({"run_id": run_id, "replaced_at": runs.get(run_id), "unit_code": unit if visible(unit) else None,
                        "procedure_code": proc, "received_date": received, "finished_date": finished,
                        "effective_due_at": due})
    return Dossier("ok", did, current, history)


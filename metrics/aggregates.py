"""Aggregate tables behind the fast query path, generated from the measure declarations and refreshed after ingest.

Tables (owned by the metrics layer, derived only from `dossiers` and `procedures`):
  metrics_day    (day, unit_code, measures...)                    unit-only queries at any grain
  metrics_month  (month, unit_code, procedure_code, channel, applicant_type, measures...)  breakdowns
  metrics_hist   (day, unit_code, measure, value, n)              exact medians of integer measures
  metrics_open   the dossiers not finished (finished_date IS NULL): stocks judged "now"
  metrics_open_counts  metrics_open folded into counts for those stocks (metrics/open_counts.py)
  metrics_state  (key, value)                                      what the tables were built from

Indicator runs count as changes too. Each refresh logs the first day whose values it may have
changed, so the engine's memo of past periods survives an ingest that only touched later days.
A flow measure is stored on its date; a stock as the rows entering (`<m>__in`) and leaving (`<m>__out`)
on each day, so the stock at midnight of any day is a running sum. `refresh` is called by the writer
after each ingest run that changed data: it recomputes only the (unit, month) partitions that the new
rows and the replaced versions (table dossier_changes) have an event in, and rebuilds everything when
the tables are missing, the measure declarations changed, or the procedure catalogue changed.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

import clock

from . import open_counts
from .registry import Registry, get_registry
from .sqlparts import event_day, flow_agg, source_sql, stock_events

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the table layout changes in code
MONTH_DIMS = ("procedure_code", "channel", "applicant_type")
TABLES = ("metrics_day", "metrics_month", "metrics_hist", "metrics_open")
_PKEY = "unit_code || '|' || strftime({day}, '%Y-%m')"
CATALOGUE_SQL = ("SELECT md5(coalesce(string_agg(procedure_code || ':' || fee_bearing || ':' || sector, ',' "
                 "ORDER BY procedure_code), '')) FROM procedures")


@dataclass(frozen=True)
class AggState:
    """What the aggregate tables hold; `fresh` means they describe the current dossiers exactly."""

    version: str
    last_run_id: int
    horizon: datetime | None     # latest receipt or finish time in the data
    fresh: bool
    base: str | None = None        # new at every full rebuild
    dirty_log: tuple = ()          # ((refresh seq, first day it may have changed), ...), a staircase
    open_counts: open_counts.Layout | None = None  # metrics_open_counts, when built with these tables

    def version_before(self, end: date) -> str | None:
        """An id that changes exactly when a refresh may have changed values of periods ending by `end`.

        Past periods' values are memoised under it, so an ingest that only touches this month keeps
        the memo of earlier months."""
        if self.base is None:
            return None
        seq = max((s for s, d in self.dirty_log if d < end.isoformat()), default=0)
        return f"{self.base}:{seq}"


def definition_version(reg: Registry) -> str:
    return f"{FORMAT}-{reg.measures_version}"


def _columns(reg: Registry) -> list[tuple[str, str]]:
    """Stored columns (name, type) for the flow and stock measures."""
    cols = []
    for name, m in reg.measures.items():
        if m.kind == "flow":
            cols.append((name, "BIGINT"))
        elif m.kind == "stock":
            cols += [(f"{name}__in", "BIGINT"), (f"{name}__out", "BIGINT")]
    return cols


def _event_branches(reg: Registry) -> dict[str, list[tuple[str, str]]]:
    """Day expression -> [(column, aggregate over the rows whose event falls on that day)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, m in reg.measures.items():
        if m.kind == "flow":
            out.setdefault(m.time, []).append((name, flow_agg(m)))
        elif m.kind == "stock":
            enters, leaves, valid = stock_events(m)
            cond = f"({m.filter or 'TRUE'}) AND {valid}"
            out.setdefault(enters, []).append((f"{name}__in", f"count(*) FILTER (WHERE {cond})"))
            out.setdefault(leaves, []).append((f"{name}__out", f"count(*) FILTER (WHERE {cond} AND ({leaves}) IS NOT NULL)"))
    return out


def build_sql(reg: Registry, source: str, table: str, parts: str | None = None) -> str:
    """SELECT producing `table`'s rows from a dossier source (optionally only partitions in `parts`)."""
    cols = _columns(reg)
    if table == "metrics_hist":
        branches = []
        for name, m in reg.measures.items():
            if m.kind != "histogram":
                continue
            day = event_day((m.time,))
            where = f"{day} IS NOT NULL AND ({m.expr}) IS NOT NULL AND ({m.filter or 'TRUE'})"
            if parts:
                where += f" AND {_PKEY.format(day=day)} IN (SELECT pkey FROM {parts})"
            branches.append(f"SELECT {day} AS day, unit_code, '{name}' AS measure, CAST({m.expr} AS INTEGER) AS value, "
                            f"count(*) AS n FROM ({source}) WHERE {where} GROUP BY ALL")
        return " UNION ALL ".join(branches) or "SELECT NULL::DATE AS day, NULL AS unit_code, NULL AS measure, 0 AS value, 0 AS n WHERE FALSE"
    branches = []
    for day, aggs in _event_branches(reg).items():
        key = f"{day} AS day" if table == "metrics_day" else f"CAST(date_trunc('month', {day}) AS DATE) AS month"
        dims = "unit_code" if table == "metrics_day" else "unit_code, " + ", ".join(MONTH_DIMS)
        where = f"({day}) IS NOT NULL"
        if parts:
            where += f" AND {_PKEY.format(day=day)} IN (SELECT pkey FROM {parts})"
        sel = ", ".join(f"{a} AS {c}" for c, a in aggs)
        branches.append(f"SELECT {key}, {dims}, {sel} FROM ({source}) WHERE {where} GROUP BY ALL")
    keys = "day, unit_code" if table == "metrics_day" else "month, unit_code, " + ", ".join(MONTH_DIMS)
    sums = ", ".join(f"CAST(coalesce(sum({c}), 0) AS {t}) AS {c}" for c, t in cols)
    union = " UNION ALL BY NAME ".join(f"({b})" for b in branches)
    return f"SELECT {keys}, {sums} FROM ({union}) GROUP BY ALL"


def _catalogue_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute(CATALOGUE_SQL).fetchone()[0]


def read_state(con: duckdb.DuckDBPyConnection, reg: Registry | None = None) -> AggState | None:
    """The aggregates' state, or None when they were never built; one round trip, cheap per query."""
    reg = reg or get_registry()
    try:
        kv = dict(con.execute(f"""
            SELECT key, value FROM metrics_state
            UNION ALL SELECT 'latest_change', CAST(coalesce(max(run_id), 0) AS VARCHAR) FROM ingest_runs
                      WHERE inserted > 0 OR updated > 0
            UNION ALL SELECT 'catalogue_now', ({CATALOGUE_SQL})
        """).fetchall())
    except duckdb.CatalogException:
        return None
    version, last, horizon, base = (kv.get(k) for k in ("version", "last_run_id", "horizon", "base"))
    catalogue, current_catalogue, latest_change = kv.get("catalogue"), kv.get("catalogue_now"), int(kv["latest_change"])
    if version is None:
        return None
    last_id = int(last or 0)
    fresh = (version == definition_version(reg) and catalogue == current_catalogue and latest_change <= last_id)
    log_ = tuple(tuple(x) for x in json.loads(kv.get("dirty_log") or "[]"))
    return AggState(version, last_id, datetime.fromisoformat(horizon) if horizon else None, fresh, base, log_,
                    open_counts.Layout.from_json(kv.get(open_counts.STATE_KEY)))


def slow_path_reason(state: AggState | None, now: datetime) -> str | None:
    """Why queries at `now` cannot be answered from the aggregates (None when they can).

    The aggregates describe the data as loaded; they answer "as of now" exactly only when no event
    in the data lies after now. Ingest refuses finish and update times beyond a small clock skew,
    so this holds again within minutes; until then every query takes the raw path, and says so.
    """
    if state is None:
        return "aggregates missing: the writer rebuilds them at start and after each ingest"
    if not state.fresh:
        return "aggregates stale: data or definitions changed after the last refresh"
    if state.horizon is not None and now <= state.horizon:
        return (f"the data holds an event after now ({state.horizon:%d/%m/%Y %H:%M}): "
                "answering from raw rows until the clock passes it")
    return None


def data_version(con: duckdb.DuckDBPyConnection, before: date) -> str | None:
    """An id that changes whenever a refresh may have changed any KPI value of a period ending before
    `before`, or any indicator: the key for a memo of past figures that outlives snapshots, so an ingest
    of today's dossiers keeps last month's figures (and "as of the 1st" standings) computed. None when the
    aggregates are missing or stale (no change log to trust): the caller keys by snapshot then.

    It holds the definitions' version and the aggregates' base (new at every full rebuild: definitions,
    catalogue), the last refresh that dirtied a day before `before` (AggState.dirty_log), and the last
    indicator load that changed rows (indicators are not in the aggregates' log)."""
    state = read_state(con)
    if state is None or not state.fresh:
        return None
    past = state.version_before(before)
    if past is None:
        return None
    indicators = con.execute("SELECT coalesce(max(run_id), 0) FROM ingest_runs WHERE source = 'indicators' "
                             "AND (inserted > 0 OR updated > 0)").fetchone()[0]
    return f"{state.version}:{past}:i{indicators}"


def forget_changed_months(con: duckdb.DuckDBPyConnection, through_run: int) -> None:
    """The writer published every month rewritten by refreshes up to `through_run`: drop them from the log."""
    con.execute("CREATE TABLE IF NOT EXISTS metrics_months_changed (run_id BIGINT NOT NULL, month DATE NOT NULL)")
    con.execute("DELETE FROM metrics_months_changed WHERE run_id <= ?", [int(through_run)])


def query_path(con: duckdb.DuckDBPyConnection, now: datetime) -> str | None:
    """For the data-health page: why queries are slow right now, or None."""
    return slow_path_reason(read_state(con), now)


def _set_state(con: duckdb.DuckDBPyConnection, **values) -> None:
    for k, v in values.items():
        con.execute("INSERT OR REPLACE INTO metrics_state VALUES (?, ?)", [k, None if v is None else str(v)])


def _horizon(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The latest event (receipt or finish) of any dossier: how far the aggregates' data reaches."""
    return con.execute(
        "SELECT max(greatest(received_at, coalesce(completed_at, received_at))) FROM dossiers").fetchall()[0][0]


def _full(con: duckdb.DuckDBPyConnection, reg: Registry) -> dict:
    src = source_sql()
    for table in ("metrics_day", "metrics_month", "metrics_hist"):
        order = "day, unit_code" if table != "metrics_month" else "unit_code, month"
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {build_sql(reg, src, table)} ORDER BY {order}")
    con.execute("CREATE OR REPLACE TABLE metrics_open AS SELECT * FROM dossiers WHERE finished_date IS NULL")
    horizon = _horizon(con)
    return {"mode": "full", "horizon": horizon, "dirty_from": None}


def _incremental(con: duckdb.DuckDBPyConnection, reg: Registry, last: int, old_horizon: datetime | None,
                 run: int) -> dict:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _metrics_touched AS
        SELECT unit_code, received_date, finished_date, CAST(effective_due_at AS DATE) AS due_date,
               greatest(received_at, coalesce(completed_at, received_at)) AS latest
        FROM dossiers WHERE ingest_run_id > {last}
        UNION ALL
        SELECT unit_code, received_date, finished_date, CAST(effective_due_at AS DATE), NULL
        FROM dossier_changes WHERE run_id > {last}
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _metrics_parts AS
        SELECT DISTINCT {_PKEY.format(day='d')} AS pkey, CAST(date_trunc('month', d) AS DATE) AS month
        FROM (SELECT unit_code, unnest([received_date, finished_date, due_date]) AS d FROM _metrics_touched)
        WHERE d IS NOT NULL
    """)
    n_parts, lo = con.execute("SELECT count(*), min(month) FROM _metrics_parts").fetchone()
    # which months of the aggregate tables (and of metrics_open, by receipt) this refresh rewrote: the
    # publication rewrites exactly those months of the lake's aggregate files (lake.store)
    con.execute(f"INSERT INTO metrics_months_changed SELECT DISTINCT {int(run)}, month FROM _metrics_parts")
    if n_parts:
        # candidates: rows with any event in a touched partition (the date test prunes old row groups)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _metrics_cand AS
            SELECT * FROM ({source_sql(where=f"d.received_date >= DATE '{lo}' OR d.finished_date >= DATE '{lo}' "
                                            f"OR d.effective_due_at >= TIMESTAMP '{lo}'")})
            WHERE {_PKEY.format(day='received_date')} IN (SELECT pkey FROM _metrics_parts)
               OR {_PKEY.format(day='finished_date')} IN (SELECT pkey FROM _metrics_parts)
               OR {_PKEY.format(day='CAST(effective_due_at AS DATE)')} IN (SELECT pkey FROM _metrics_parts)
        """)
        for table, day in (("metrics_day", "day"), ("metrics_month", "month"), ("metrics_hist", "day")):
            con.execute(f"DELETE FROM {table} WHERE {_PKEY.format(day=day)} IN (SELECT pkey FROM _metrics_parts)")
            con.execute(f"INSERT INTO {table} BY NAME {build_sql(reg, 'SELECT * FROM _metrics_cand', table, '_metrics_parts')}")
        con.execute("DROP TABLE _metrics_cand")
    con.execute(f"DELETE FROM metrics_open WHERE dossier_id IN (SELECT dossier_id FROM dossiers WHERE ingest_run_id > {last})")
    con.execute(f"INSERT INTO metrics_open SELECT * FROM dossiers WHERE ingest_run_id > {last} AND finished_date IS NULL")
    new_latest = con.execute("SELECT max(latest) FROM _metrics_touched").fetchone()[0]
    # the first day whose values may have changed: touched months, new indicator publications
    ind = con.execute(f"SELECT min(period_start) FROM indicators WHERE ingest_run_id > {last}").fetchone()[0]
    dirty = min([d for d in (lo if n_parts else None, ind) if d is not None], default=None)
    con.execute("DROP TABLE _metrics_touched; DROP TABLE _metrics_parts")
    horizon = max([h for h in (old_horizon, new_latest) if h is not None], default=None)
    return {"mode": "incremental", "partitions": int(n_parts), "horizon": horizon, "dirty_from": dirty}


def _from_build(con: duckdb.DuckDBPyConnection, reg: Registry, build, latest_run: int) -> dict:
    """A full rebuild taken from `build` (checked by the caller): its tables, then the runs after the lake
    it read applied as an incremental refresh (the partitions they touch recomputed here)."""
    from . import aggregates_load

    rows = aggregates_load.replace_tables(con, build, reg)
    horizon = _horizon(con)
    after = _incremental(con, reg, build.run, horizon, latest_run)
    return {"mode": "build", "build": build.id, "engine": build.info.get("engine"), "rows": rows,
            "runs_after_build": int(latest_run - build.run), "partitions": after["partitions"],
            "horizon": after["horizon"], "dirty_from": None}


_KEYS = {"metrics_day": ("day", "unit_code"), "metrics_month": ("month", "unit_code", *MONTH_DIMS),
         "metrics_hist": ("day", "unit_code", "measure", "value")}


def _values(reg: Registry, table: str) -> list[str]:
    return ["n"] if table == "metrics_hist" else [c for c, _ in _columns(reg)]


def _delta_ready(con: duckdb.DuckDBPyConnection, last: int) -> bool:
    """Whether every version replaced after run `last` is in dossier_replaced (runs after the migration)."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'dossier_replaced_since'").fetchone()
    except duckdb.CatalogException:
        return False
    return row is not None and last >= int(row[0])


def _delta(con: duckdb.DuckDBPyConnection, reg: Registry, last: int, old_horizon: datetime | None,
           run: int) -> dict | None:
    """The refresh in proportion to the batch: every stored aggregate is a sum (counts, sums, the entering and
    leaving counts of stocks, histogram counts), so the rows loaded after run `last` are added and the
    versions they replaced (dossier_replaced, present at the last refresh) subtracted, key by key. Only the
    keys that change are rewritten; a key left all zero is dropped (a full rebuild may keep such a row: the
    tests compare without them). Returns None, having changed nothing, if a total would fall below zero
    (the aggregates did not hold what the change log says): the caller then recomputes whole partitions."""
    # the batch, read once (each measure branch scans its source again)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _delta_new AS SELECT * FROM dossiers WHERE ingest_run_id > {last}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _delta_old AS SELECT * EXCLUDE (replaced_run_id) FROM dossier_replaced "
                f"WHERE replaced_run_id > {last} AND ingest_run_id <= {last}")
    new_src, old_src = source_sql("_delta_new"), source_sql("_delta_old")
    match = {t: " AND ".join(f"t.{c} IS NOT DISTINCT FROM x.{c}" for c in keys) for t, keys in _KEYS.items()}
    nonzero = {t: " OR ".join(f"{c} <> 0" for c in _values(reg, t)) for t in _KEYS}
    for table, keys in _KEYS.items():
        vals = _values(reg, table)
        k, v = ", ".join(keys), ", ".join(vals)
        sums = ", ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in vals)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _delta_{table} AS
            SELECT * FROM (
                SELECT {k}, {sums} FROM (
                    SELECT {k}, {v} FROM ({build_sql(reg, new_src, table)})
                    UNION ALL
                    SELECT {k}, {", ".join(f"-{c}" for c in vals)} FROM ({build_sql(reg, old_src, table)})
                ) GROUP BY ALL)
            WHERE {nonzero[table]}
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _merged_{table} AS
            SELECT {k}, {sums} FROM (
                SELECT {k}, {v} FROM {table} t WHERE EXISTS (SELECT 1 FROM _delta_{table} x WHERE {match[table]})
                UNION ALL SELECT {k}, {v} FROM _delta_{table}
            ) GROUP BY ALL
        """)
        if con.execute(f"SELECT count(*) FROM _merged_{table} WHERE {' OR '.join(f'{c} < 0' for c in vals)}").fetchone()[0]:
            log.warning("metrics aggregates: %s would fall below zero from the change log; recomputing partitions", table)
            for t in (*_KEYS, "new", "old"):
                con.execute(f"DROP TABLE IF EXISTS _delta_{t}; DROP TABLE IF EXISTS _merged_{t}")
            return None
    months = set()
    for table, keys in _KEYS.items():
        con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _delta_{table} x WHERE {match[table]})")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _merged_{table} WHERE {nonzero[table]}")
        months |= {m for (m,) in con.execute(
            f"SELECT DISTINCT CAST(date_trunc('month', {keys[0]}) AS DATE) FROM _delta_{table}").fetchall()}
        con.execute(f"DROP TABLE _delta_{table}; DROP TABLE _merged_{table}")
    # metrics_open (by dossier) and its months of receipt, old and new
    months |= {m for (m,) in con.execute(f"""
        SELECT DISTINCT CAST(date_trunc('month', received_date) AS DATE) FROM (
            SELECT received_date FROM _delta_new
            UNION ALL SELECT received_date FROM dossier_replaced WHERE replaced_run_id > {last})""").fetchall()}
    con.execute("DELETE FROM metrics_open WHERE dossier_id IN (SELECT dossier_id FROM _delta_new)")
    con.execute("INSERT INTO metrics_open SELECT * FROM _delta_new WHERE finished_date IS NULL")
    if months:
        con.execute("INSERT INTO metrics_months_changed SELECT ?, unnest(?)", [int(run), sorted(months)])
    new_latest = con.execute("SELECT max(greatest(received_at, coalesce(completed_at, received_at))) "
                             "FROM _delta_new").fetchone()[0]
    con.execute("DROP TABLE _delta_new; DROP TABLE _delta_old")
    ind = con.execute(f"SELECT min(period_start) FROM indicators WHERE ingest_run_id > {last}").fetchone()[0]
    dirty = min([d for d in (min(months, default=None), ind) if d is not None], default=None)
    horizon = max([h for h in (old_horizon, new_latest) if h is not None], default=None)
    return {"mode": "incremental", "method": "delta", "partitions": len(months), "horizon": horizon, "dirty_from": dirty}


def refresh(con: duckdb.DuckDBPyConnection, full: bool = False, reg: Registry | None = None,
            build=None, require_build: bool = False) -> dict:
    """Bring the aggregate tables up to date with `dossiers`; incremental unless a full rebuild is needed.

    Runs in the writer, inside one transaction, before a snapshot is published. Returns what it did.
    `build`: a build folder (`aggregates build --out`'s `<out>/<engine>`, R57_AGGREGATES_BUILD): a full
    rebuild loads it instead when it is of this warehouse's data (metrics.aggregates_load), else rebuilds
    here and logs why; `require_build` raises aggregates_load.BuildUnusable instead (`aggregates load`).
    """
    from . import aggregates_load

    if build is None:
        return _refresh(con, full, reg, None)
    try:
        return _refresh(con, full, reg, build)
    except aggregates_load.BuildUnusable as exc:  # raised before the transaction, or after its rollback
        if require_build:
            raise
        log.warning("metrics aggregates: the build at %s cannot be used (%s): rebuilding here", build, exc)
        return _refresh(con, full, reg, None)


def _refresh(con: duckdb.DuckDBPyConnection, full: bool, reg: Registry | None, build) -> dict:
    reg = reg or get_registry()
    started = time.perf_counter()
    con.execute("CREATE TABLE IF NOT EXISTS metrics_state (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS metrics_months_changed (run_id BIGINT NOT NULL, month DATE NOT NULL)")
    state = read_state(con, reg)
    latest_run = con.execute("SELECT coalesce(max(run_id), 0) FROM ingest_runs").fetchone()[0]
    catalogue = _catalogue_fingerprint(con)
    stored_catalogue = con.execute("SELECT value FROM metrics_state WHERE key = 'catalogue'").fetchone()
    rebuild = (full or state is None or state.version != definition_version(reg)
               or stored_catalogue is None or stored_catalogue[0] != catalogue)
    if not rebuild and state.fresh and state.last_run_id >= latest_run:
        if state.open_counts is None:  # tables built before metrics_open_counts existed: fold once
            con.execute("BEGIN TRANSACTION")
            try:
                _set_state(con, **{open_counts.STATE_KEY: open_counts.build(con, reg, state.horizon).to_json()})
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            return {"mode": "open_counts", "seconds": round(time.perf_counter() - started, 3), "last_run_id": latest_run}
        return {"mode": "noop", "seconds": round(time.perf_counter() - started, 3), "last_run_id": latest_run}
    taken = None
    if rebuild and build is not None:
        from . import aggregates_load

        taken = aggregates_load.read(build)
        aggregates_load.check(con, taken, reg, definition_version(reg), catalogue)
    con.execute("BEGIN TRANSACTION")
    try:
        if rebuild:  # a new base: the publication rewrites every month anyway
            con.execute("DELETE FROM metrics_months_changed")
        result = None
        if not rebuild and _delta_ready(con, state.last_run_id):
            result = _delta(con, reg, state.last_run_id, state.horizon, latest_run)
        if result is None and taken is not None:
            result = _from_build(con, reg, taken, latest_run)
        if result is None:
            result = (_full(con, reg) if rebuild
                      else _incremental(con, reg, state.last_run_id, state.horizon, latest_run))
        if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'dossier_replaced' "
                       "AND database_name = current_database()").fetchone()[0]:
            # the versions replaced up to this refresh are in the aggregates' past now: not needed again
            con.execute("DELETE FROM dossier_replaced WHERE replaced_run_id <= ?", [int(latest_run)])
        seq = 0 if rebuild else 1 + max((x for x, _ in state.dirty_log), default=0)
        log_ = [] if rebuild else list(state.dirty_log)
        if result["dirty_from"] is not None:  # a staircase: later refreshes shadow those dirty from later days
            d = str(result["dirty_from"])[:10]
            log_ = [(x, y) for x, y in log_ if y < d] + [(seq, d)]
        layout = open_counts.build(con, reg, result["horizon"])
        _set_state(con, version=definition_version(reg), last_run_id=latest_run, catalogue=catalogue,
                   **{open_counts.STATE_KEY: layout.to_json()},
                   horizon=result["horizon"].isoformat() if result["horizon"] else None,
                   refreshed_at=clock.stamp().isoformat(timespec="seconds"),
                   base=uuid.uuid4().hex if rebuild else state.base, dirty_log=json.dumps(log_),
                   **({"build": json.dumps(taken.describe())} if taken is not None
                      else {"build": None} if rebuild else {}))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    result.update(seconds=round(time.perf_counter() - started, 3), last_run_id=latest_run)
    for k in ("horizon", "dirty_from"):
        result[k] = str(result[k]) if result[k] else None
    log.debug("metrics aggregates refreshed: %s", result)
    return result

"""Where the pages get their data: the app's read-only snapshot cursor, the KPI registry, name lookups.

Numbers come from the metrics API (`metrics.query`, `progress`, `overdue_list`, `index766`, ...) and
warehouse/health.py; nothing here writes SQL. The app context (settings, snapshot reader, refresh
interval, optional GeoJSON) lives in the Flask config of the one app, so pages never import `app`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from threading import Event, Lock

import duckdb
import pandas as pd
from cachetools import LRUCache

import clock
import config
from config import Settings
from presentation.words import localised, localised_column
from warehouse.db import Reader

log = logging.getLogger(__name__)

CONTEXT_KEY = "R57_CONTEXT"
DEFAULT_REFRESH_S = 30.0


@dataclass(frozen=True)
class Context:
    """What every callback of one app needs; built once by create_app, read-only afterwards."""

    settings: Settings
    reader: Reader
    refresh_s: float
    geojson: dict | None = None
    geojson_key: str = "properties.unit_code"


def build_context(settings: Settings, refresh_s: float | None = None) -> Context:
    refresh = refresh_s if refresh_s is not None else settings.refresh_s
    geojson = None
    if settings.geojson is not None:
        try:
            geojson = json.loads(settings.geojson.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # a bad file must not stop the dashboard: fall back to the ranking
            log.warning("R57_GEOJSON=%s could not be read (%s); showing the ranking view instead",
                        settings.geojson, exc)
    return Context(settings, Reader(settings), max(1.0, refresh), geojson, settings.geojson_key)


def context() -> Context:
    """The running app's context (inside a callback or a page layout)."""
    import flask

    return flask.current_app.config[CONTEXT_KEY]


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only cursor on the newest snapshot, closed afterwards; None before the first snapshot."""
    cur = context().reader.cursor()
    try:
        yield cur
    finally:
        if cur is not None:
            cur.close()


def version(reader: Reader, now: datetime) -> str | None:
    """What the pages' data depends on: the snapshot, plus the hour (overdue counts move with the clock)."""
    path = reader.snapshot_path
    return None if path is None else f"{path.name}@{now:%Y-%m-%dT%H}"


def published_version(reader: Reader, now: datetime) -> str | None:
    """version() of the newest snapshot, switching the reader to it first if CURRENT moved: one small
    file read when nothing changed (the version endpoint's cost), DuckDB only to open a new snapshot."""
    from warehouse.db import named_snapshot

    named = named_snapshot(reader.settings)
    if named is not None and named != reader.snapshot_path:
        reader.invalidate()
        return current_version(reader, now)
    return version(reader, now)


def current_version(reader: Reader, now: datetime) -> str | None:
    """version() after looking for a newer snapshot."""
    cur = reader.cursor()
    if cur is not None:
        cur.close()
    return version(reader, now)


def local_now() -> datetime:
    """The dashboard's clock: `clock.now()` (Hanoi business time; fixed by a FixedClock or R57_NOW). Every
    callback reads it once and hands it to the views, which hand it to the metrics API."""
    return clock.now()


# --- the viewer -------------------------------------------------------------------------------------

def viewer():
    """Who is looking (access.web): their role, units and rights; the developer when sign-in is off."""
    from access.web import viewer_or_nobody

    return viewer_or_nobody()


def sees(unit: str | None) -> bool:
    """Whether the viewer may see rows of `unit` (the city's aggregate: everyone)."""
    return viewer().sees(unit)


def home_unit() -> str | None:
    """The unit a scoped viewer's unit pages open on; None for a viewer of every unit."""
    return viewer().home_unit


def scope_key() -> str:
    """The viewer's scope as part of a memo key: nothing computed for one scope is served to another."""
    scope = viewer().scope
    return "*" if scope is None else ",".join(sorted(scope))


# --- the KPI registry -----------------------------------------------------------------------------

def registry():
    from metrics import get_registry

    return get_registry()


def kpi(code: str):
    return registry().kpi(code)


def kpi_name(code: str, lang: str) -> str:
    return kpi(code).name(lang)


def kpi_unit(code: str, lang: str) -> str:
    k = kpi(code)
    return k.unit_in(lang)


def r57_codes() -> list[str]:
    """The overview's target cards: kpis.yaml display.show `overview` (the Resolution 57 targets), registry order."""
    from presentation.surfaces import codes

    return codes("overview")


def indicator_codes() -> list[str]:
    return [c for c, k in registry().kpis.items() if k.type.value == "indicator" and not k.auxiliary]


def visible_codes() -> list[str]:
    return [c for c, k in registry().kpis.items() if not k.auxiliary]


def has_units(code: str) -> bool:
    """Whether the KPI can be broken down by unit (dossier KPIs, unit-level indicators)."""
    from metrics.engine import dimensions_of

    return "unit_code" in dimensions_of(registry(), code)


def is_indicator(code: str) -> bool:
    return kpi(code).type.value == "indicator"


# --- names: the reference catalogues that ship with the product ----------------------------------
# The metrics API returns codes; names come from data/reference/*.csv, the source of truth the
# warehouse tables are loaded from (warehouse/reference.py).

@lru_cache(maxsize=8)
def _reference(name: str, mtime: float) -> pd.DataFrame:
    return pd.read_csv(config.REFERENCE_DIR / name, dtype=str, keep_default_na=False)


def _ref(name: str) -> pd.DataFrame:
    path = config.REFERENCE_DIR / name
    return _reference(name, path.stat().st_mtime)


def units() -> pd.DataFrame:
    """unit_code, name, name_en, unit_type (city | phuong | xa), parent_code; the city row included."""
    return _ref("units.csv")


def wards() -> pd.DataFrame:
    """The commune-level units (phường and xã), in code order."""
    u = units()
    return u[u["unit_type"] != "city"].reset_index(drop=True)


def unit_name(code: str | None, lang: str) -> str:
    from .i18n import t

    if code is None or code == config.CITY_CODE:
        return t("unit_city", lang)
    row = units().loc[units()["unit_code"] == code]
    if row.empty:
        return str(code)
    return localised(row.iloc[0], "name", lang)


def unit_names(lang: str) -> dict[str, str]:
    u = units()
    return dict(zip(u["unit_code"], u[localised_column("name", lang)], strict=True))


def procedures() -> pd.DataFrame:
    return _ref("procedures.csv")


def procedure_names(lang: str) -> dict[str, str]:
    p = procedures()
    return dict(zip(p["procedure_code"], p[localised_column("name_vi", lang)], strict=True))


# --- a small memo for results that only change with the snapshot ----------------------------------

class Memo:
    """Bounded, thread-safe results keyed by everything they depend on (the snapshot, or the data version).

    Keys hold the snapshot path (or a data version), so new data is a new key and nothing stale is
    served; no user's choice changes another user's result, it only fills the memo sooner (cachetools'
    LRU). Single flight: when a new snapshot lands, every open page asks at once; the first caller of a
    key computes it and the others wait for that result instead of computing it again (a failure is not
    shared: each waiter then tries itself).
    """

    def __init__(self, size: int = 256) -> None:
        self.items: LRUCache = LRUCache(maxsize=size)
        self.lock = Lock()
        self.flights: dict[tuple, Event] = {}
        self.computed = 0  # how many computations ran (tests, the freshness bench)

    def get(self, key: tuple, compute: Callable[[], object]):
        with self.lock:
            if key in self.items:
                return self.items[key]
            flight = self.flights.get(key)
            owner = flight is None
            if owner:
                flight = self.flights[key] = Event()
        if not owner:
            flight.wait(timeout=120)
            with self.lock:
                if key in self.items:
                    return self.items[key]
            return compute()  # the first caller failed (or took too long): compute on this thread
        try:
            value = compute()
            with self.lock:
                self.items[key] = value
                self.computed += 1
            return value
        finally:
            with self.lock:
                self.flights.pop(key, None)
            flight.set()


MEMO = Memo()


def memo(name: str, compute: Callable[[], object], *parts, per: str = "%Y-%m-%dT%H:%M"):
    """`compute()` once per snapshot and minute (or `per`, a strftime of the clock) for everyone who asks
    the same (`name`, `parts`).

    For results of the metrics API that every viewer shares (the targets' progress rows); the caller
    must not mutate what it gets back.
    """
    snap = context().reader.snapshot_path
    if snap is None:
        return compute()
    return MEMO.get((name, snap.name, local_now().strftime(per), scope_key(), *parts), compute)


def memo_past(name: str, con, before: date, compute: Callable[[], object], *parts, per: str = "%Y-%m"):
    """As `memo`, for figures that depend only on data of periods ending before `before` (complete months,
    a standing as of the 1st): keyed by `metrics.data_version(con, before)` instead of the snapshot, so
    a new snapshot of today's dossiers reuses them; by snapshot when the aggregates cannot tell."""
    from metrics import data_version

    version = data_version(con, before)
    if version is None:
        return memo(name, compute, *parts, per=per)
    return MEMO.get((name, "data:" + version, before.isoformat(), local_now().strftime(per), scope_key(), *parts),
                    compute)

"""Evaluate every enabled alert rule over the warehouse and record the new events (alert_events).

The warehouse is read only through the metrics layer (metrics.query; metrics.backlog.every_unit_list: the
overdue and due-soon lists of every unit in one query each, grouped by unit here, never one query per unit),
warehouse.health and reports.manifest: no SQL of its own. Each candidate has a
dedupe key per rule, unit and period (or day, for digests; or run, report, dossier set): an event whose
(rule, key) exists already is not recorded again, so running twice, or after a restart, sends nothing new.

Messages are built here from the word catalogue, Vietnamese first (accounts have no language yet), English as
the second part, with links into the dashboard (R57_PUBLIC_URL). They carry no personal data: unit and
procedure names, dossier ids, dates, days overdue, counts.

Rule parameters:
    status_change  kpi (None: the Resolution 57 KPIs tagged r57), unit (None: the city)
    threshold      kpi, threshold X, unit (None: the city): the last complete month crosses X
    overdue        threshold N (default 0): a unit's overdue backlog > N now; days N: dossiers overdue > N
                   working days (one digest a day per rule)
    escalation     days M (default 10): dossiers overdue > M working days in the owner's scope (department
                   and leader subscriptions), one digest a day per rule
    due_soon       days N (default 2): the due-soon list, a digest at 07:30 on working days
    data_stale     threshold N working hours (default 16; 08:00-12:00 and 13:00-17:00 of working days)
                   over the receipts of the last 90 days; a unit with none there (or none ever) counts from the
                   earliest receipt of any unit, reported once until it sends again
    ingest_failed  a failed ingest run in the last 7 days (once per run); threshold X: also a run whose
                   quarantined rows exceed X % of the rows read
    report_ready   an 'ok' monthly report of the unit (None: the city), once per month and unit
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache
from operator import itemgetter

import duckdb
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

import clock
import config
from access.models import User
from access.viewer import Viewer, expand
from presentation import fmt
from presentation.words import localised, t

from . import settings as S
from .models import AlertEvent, AlertRule
from .store import RULES, Rule, viewer_of

log = logging.getLogger(__name__)

JUDGED = ("achieved", "on_track", "needs_acceleration", "limited", "deteriorating")
MAX_LINES = 20
WORK_WINDOWS = ((dtime(8, 0), dtime(12, 0)), (dtime(13, 0), dtime(17, 0)))
DEFAULTS = {"escalation_days": 10, "due_soon_days": 2, "stale_hours": 16.0}
STALE_WINDOW_DAYS = 90  # data_stale reads the receipts of the last 90 days (a unit silent longer: "none since")


@dataclass(frozen=True)
class Event:
    id: int
    rule_id: int
    username: str
    rule: str
    unit: str | None
    channel: str
    dedupe_key: str
    payload: dict

    def title(self, lang: str = "vi") -> str:
        return self.payload.get(f"title_{lang}") or self.payload.get("title_vi") or ""

    def lines(self, lang: str = "vi") -> list[str]:
        return list(self.payload.get(f"lines_{lang}") or self.payload.get("lines_vi") or [])

    @property
    def link(self) -> str:
        return self.payload.get("link") or ""


def local_naive(now: datetime | None) -> datetime:
    """Hanoi wall-clock time, naive (as the warehouse stores times)."""
    if now is None:
        return clock.stamp()
    return now.astimezone(config.TZ).replace(tzinfo=None) if now.tzinfo else now


@dataclass
class _Ctx:
    con: duckdb.DuckDBPyConnection
    now: datetime
    settings: object
    base: str
    memo: dict = field(default_factory=dict)

    def once(self, key, fn: Callable):
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]

    # --- facts, each read once per evaluation -----------------------------------------------------
    def unit_names(self) -> dict[str, tuple[str, str]]:
        from warehouse.health import units_frame

        def read():
            df = units_frame(self.con)
            return {r.unit_code: {"name": r.name, "name_en": r.name_en} for r in df.itertuples()}
        return self.once("units", read)

    def unit_name(self, code: str | None, lang: str) -> str:
        code = code or config.CITY_CODE
        names = self.unit_names().get(code)
        return localised(names, "name", lang) if names else code

    def procedures(self) -> dict[str, dict[str, str]]:
        """procedure code -> its name by language (vi, en), read once."""
        from metrics.backlog import procedure_names

        return self.once("procedures", lambda: {r["procedure_code"]: {lang: _procedure(r, lang) for lang in ("vi", "en")}
                                                for r in procedure_names(self.con).to_dict("records")})

    def overdue(self) -> Rows:
        """The overdue list of every unit: one metrics call per evaluation, grouped by unit afterwards."""
        from metrics.backlog import every_unit_list

        return self.once("overdue", lambda: Rows.of(every_unit_list(self.con, "overdue", self.now),
                                                    self.procedures()))

    def due_soon(self, within: int) -> Rows:
        """The due-soon list of every unit (one metrics call per `within` asked for), grouped by unit."""
        from metrics.backlog import every_unit_list

        return self.once(("due_soon", within), lambda: Rows.of(
            every_unit_list(self.con, "due_soon", self.now, within=within), self.procedures()))

    def is_working(self, day: date) -> bool:
        from warehouse.health import is_working_day

        return self.once(("working", day), lambda: is_working_day(self.con, day))

    def digest_due(self) -> bool:
        """A working day of the warehouse calendar (not a weekend, not Tết or a holiday), from 07:30 on."""
        return self.now.time() >= S.DIGEST_AT and self.is_working(self.now.date())

    def kpi_rows(self, needed: dict[str, set[str]]) -> dict[tuple[str, str, str], dict]:
        """(kpi, unit, period label) -> the query row, for the last complete month and the one before."""
        from metrics import query
        from metrics.periods import last_complete, previous

        last = last_complete(self.now)
        prev = previous(last)
        out: dict = {}
        city = needed.get(config.CITY_CODE)
        if city:
            df = query(self.con, sorted(city), grain="month", periods=[prev.label, last.label], units=None,
                       now=self.now)
            for r in df.to_dict("records"):
                out[(r["kpi"], config.CITY_CODE, r["period"])] = r
        units = {u: k for u, k in needed.items() if u != config.CITY_CODE}
        if units:
            kpis = sorted(set().union(*units.values()))
            df = query(self.con, kpis, grain="month", periods=[prev.label, last.label], units=sorted(units),
                       by="unit_code", now=self.now)
            for r in df.to_dict("records"):
                out[(r["kpi"], r["unit_code"], r["period"])] = r
        return out

    def link(self, path: str) -> str:
        return self.base + path


@dataclass(frozen=True)
class Candidate:
    key: str
    unit: str | None
    payload: dict


def _message(ctx: _Ctx, rule: Rule, key: str, unit: str | None, title: Callable[[str], str],
             lines: Callable[[str], list[str]], link: str, **data) -> Candidate:
    payload = {"rule": rule.rule, "unit": unit, "link": ctx.link(link), **data}
    for lang in ("vi", "en"):
        payload[f"title_{lang}"] = title(lang)
        payload[f"lines_{lang}"] = lines(lang)
    return Candidate(key, unit, payload)


def _allowed_units(rule: Rule, viewer: Viewer) -> frozenset[str] | None:
    """The units a dossier rule covers: the rule's unit (and its subtree) within the owner's scope; None = all."""
    scope = viewer.scope
    mine = None if rule.unit in (None, config.CITY_CODE) else expand([rule.unit])
    if mine is None:
        return scope
    return mine if scope is None else mine & scope


class Rows:
    """A dossier list of every unit as plain records (read out of the frame once, column by column), in the
    list's order, with each unit's rows kept apart: a rule of one ward or ten takes its rows without touching
    pandas again (the per-unit frames and their to_dict were most of an evaluation's time)."""

    def __init__(self, records: list[dict]) -> None:
        self.records = records
        self.by_unit: dict[str, list[dict]] = {}
        for i, r in enumerate(records):
            r["_i"] = i
            self.by_unit.setdefault(r["unit_code"], []).append(r)

    KEEP = ("dossier_id", "unit_code", "procedure_code", "working_days_overdue", "working_days_left")

    @classmethod
    def of(cls, df: pd.DataFrame, procedures: dict[str, dict[str, str]]) -> Rows:
        """The columns messages use; the due date as dd/mm/yyyy text (presentation.fmt.day's form in both
        languages), formatted for the whole list at once; `procedure`: its name by language."""
        names = [c for c in cls.KEEP if c in df.columns]
        columns = [df[c].tolist() for c in names]
        if "effective_due_at" in df.columns:
            names.append("due")
            columns.append(pd.to_datetime(df["effective_due_at"]).dt.strftime("%d/%m/%Y").fillna("").tolist())
        names.append("procedure")
        columns.append([procedures.get(c) or {"vi": str(c), "en": str(c)} for c in df["procedure_code"].tolist()])
        return cls([dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)])

    def within(self, units: frozenset[str] | None) -> list[dict]:
        """The rows of `units` (None: all), in the list's order."""
        if units is None:
            return self.records
        parts = [self.by_unit[u] for u in units if u in self.by_unit]
        if len(parts) <= 1:
            return parts[0] if parts else []
        return sorted((r for p in parts for r in p), key=itemgetter("_i"))


def _short(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _procedure(row, lang: str) -> str:
    name = localised(row, "procedure_name_vi", lang)
    return str(name) if isinstance(name, str) and name else str(row.get("procedure_code"))


def _dossier_lines(ctx: _Ctx, rows: list[dict], lang: str, kind: str, by_unit: bool) -> list[str]:
    out: list[str] = []
    if by_unit:
        per_unit = Counter(r["unit_code"] for r in rows)
        if len(per_unit) > 1:
            for code, n in sorted(per_unit.items()):
                out.append(t("alert.line_unit", lang, unit=ctx.unit_name(code, lang), n=_number(n, lang)))
    for r in rows[:MAX_LINES]:
        if kind == "overdue":
            days = int(r["working_days_overdue"])
            out.append(t("alert.line_overdue", lang, dossier=r["dossier_id"], procedure=r["procedure"][lang],
                         days=days, count=days))
        else:
            left = int(r["working_days_left"])
            out.append(t("alert.line_due_today" if left == 0 else "alert.line_due_soon", lang,
                         dossier=r["dossier_id"], procedure=r["procedure"][lang], due=r["due"],
                         left=left, count=left))
    if len(rows) > MAX_LINES:
        out.append(t("alert.line_more", lang, n=_number(len(rows) - MAX_LINES, lang)))
    return out


@lru_cache(maxsize=4096)
def _number(n: int, lang: str) -> str:
    """A count as presentation.fmt.number writes it (Babel), once per count and language."""
    return fmt.number(n, lang=lang)


def _dossier_items(rows: list[dict], days_col: str) -> list[dict]:
    return [{"dossier_id": r["dossier_id"], "unit": r["unit_code"], "procedure": r["procedure_code"],
             days_col: int(r[days_col])} for r in rows[:100]]


def _ward_link(unit: str | None) -> str:
    return f"/ward?unit={unit}" if unit and unit != config.CITY_CODE else "/wards"


# --- the rules ----------------------------------------------------------------------------------------

def _kpi_candidates(ctx: _Ctx, rule: Rule, viewer: Viewer, rows: dict) -> list[Candidate]:
    from metrics import get_registry
    from metrics.periods import last_complete, previous

    reg = get_registry()
    unit = rule.unit or config.CITY_CODE
    if not viewer.sees(unit):
        return []
    last = last_complete(ctx.now)
    prev = previous(last)
    out = []
    for code in _rule_kpis(rule):
        k = reg.kpi(code)
        a, b = rows.get((code, unit, prev.label)), rows.get((code, unit, last.label))
        if not a or not b:
            continue

        def kname(lang, k=k):
            return k.name(lang)

        def value(x, lang, k=k):
            return fmt.value(x, k.unit, lang, kpi=k)

        link = f"/kpi?kpi={code}" + (f"&unit={unit}" if unit != config.CITY_CODE else "")
        if rule.rule == "status_change":
            old, new = a.get("status"), b.get("status")
            if old not in JUDGED or new not in JUDGED or old == new:
                continue
            out.append(_message(
                ctx, rule, f"status:{code}:{unit}:{last.label}", unit,
                lambda lang, old=old, new=new, kname=kname: t(
                    "alert.title_status_change", lang, kpi=kname(lang), unit=ctx.unit_name(unit, lang),
                    old=t(f"status_{old}", lang), new=t(f"status_{new}", lang), period=fmt.period(last.label, lang)),
                lambda lang: [], link, kpi=code, period=last.label, previous_period=prev.label,
                old_status=old, new_status=new, value=b.get("value")))
        else:
            x, va, vb = rule.threshold, a.get("value"), b.get("value")
            if x is None or va is None or vb is None:
                continue
            up, down = va < x <= vb, va >= x > vb
            if not (up or down):
                continue
            out.append(_message(
                ctx, rule, f"threshold:{code}:{unit}:{last.label}:{x:g}", unit,
                lambda lang, up=up, vb=vb, x=x, kname=kname, value=value: t(
                    "alert.title_threshold_above" if up else "alert.title_threshold_below", lang, kpi=kname(lang),
                    unit=ctx.unit_name(unit, lang), threshold=value(x, lang), period=fmt.period(last.label, lang),
                    value=value(vb, lang)),
                lambda lang: [], link, kpi=code, period=last.label, threshold=x, value=vb, previous=va,
                direction="above" if up else "below"))
    return out


def _rule_kpis(rule: Rule) -> list[str]:
    if rule.kpi:
        return [rule.kpi]
    from metrics import get_registry
    from metrics.registry import KpiType

    reg = get_registry()
    return [c for c, k in reg.kpis.items() if "r57" in k.tags and k.type != KpiType.INDICATOR and not k.auxiliary]


def _overdue(ctx: _Ctx, rule: Rule, viewer: Viewer) -> list[Candidate]:
    rows = ctx.overdue().within(_allowed_units(rule, viewer))
    day = ctx.now.date().isoformat()
    out = []
    if rule.days is not None:
        late = [r for r in rows if r["working_days_overdue"] > rule.days]
        if late:
            label = rule.unit or config.CITY_CODE
            out.append(_message(
                ctx, rule, f"overdue_days:{label}:{rule.days}:{day}", rule.unit,
                lambda lang: t("alert.title_overdue_days", lang, unit=ctx.unit_name(label, lang),
                               n=_number(len(late), lang), days=rule.days),
                lambda lang: _dossier_lines(ctx, late, lang, "overdue", True), _ward_link(rule.unit),
                day=day, days=rule.days, count=len(late), dossiers=_dossier_items(late, "working_days_overdue")))
    if rule.threshold is not None or rule.days is None:
        n_max = rule.threshold or 0
        per_unit: dict[str, list[dict]] = {}
        for r in rows:
            per_unit.setdefault(r["unit_code"], []).append(r)
        for code, part in sorted(per_unit.items()):
            if len(part) <= n_max:
                continue
            out.append(_message(
                ctx, rule, f"backlog:{code}:{day}", code,
                lambda lang, code=code, part=part: t("alert.title_backlog", lang, unit=ctx.unit_name(code, lang),
                                                     n=_number(len(part), lang), threshold=fmt.number(n_max, lang=lang)),
                lambda lang, part=part: _dossier_lines(ctx, part, lang, "overdue", False), _ward_link(code),
                day=day, threshold=n_max, count=len(part), dossiers=_dossier_items(part, "working_days_overdue")))
    return out


def _escalation(ctx: _Ctx, rule: Rule, viewer: Viewer) -> list[Candidate]:
    m = rule.days if rule.days is not None else DEFAULTS["escalation_days"]
    late = [r for r in ctx.overdue().within(_allowed_units(rule, viewer)) if r["working_days_overdue"] > m]
    if not late:
        return []
    day = ctx.now.date().isoformat()
    codes = sorted({r["unit_code"] for r in late})
    label = rule.unit or config.CITY_CODE

    def units_text(lang):
        names = [ctx.unit_name(c, lang) for c in codes[:3]]
        return ", ".join(names) + (f" +{len(codes) - 3}" if len(codes) > 3 else "")
    return [_message(
        ctx, rule, f"escalation:{label}:{m}:{day}", rule.unit,
        lambda lang: t("alert.title_escalation", lang, n=_number(len(late), lang), days=m, units=units_text(lang)),
        lambda lang: _dossier_lines(ctx, late, lang, "overdue", True),
        _ward_link(codes[0] if len(codes) == 1 else rule.unit),
        day=day, days=m, count=len(late), units=codes, dossiers=_dossier_items(late, "working_days_overdue"))]


def _due_soon(ctx: _Ctx, rule: Rule, viewer: Viewer) -> list[Candidate]:
    if not ctx.digest_due():
        return []
    within = rule.days if rule.days is not None else DEFAULTS["due_soon_days"]
    rows = ctx.due_soon(within).within(_allowed_units(rule, viewer))
    if not rows:
        return []
    day = ctx.now.date().isoformat()
    label = rule.unit or config.CITY_CODE
    return [_message(
        ctx, rule, f"due_soon:{label}:{within}:{day}", rule.unit,
        lambda lang: t("alert.title_due_soon", lang, unit=ctx.unit_name(label, lang), n=_number(len(rows), lang),
                       days=within),
        lambda lang: _dossier_lines(ctx, rows, lang, "due_soon", True), _ward_link(rule.unit),
        day=day, days=within, count=len(rows), digest=True, dossiers=_dossier_items(rows, "working_days_left"))]


def working_hours(start: datetime, end: datetime, working: Iterable[date]) -> float:
    """Hours of 08:00-12:00 and 13:00-17:00 on the given working days between start and end."""
    total = 0.0
    for d in working:
        for a, b in WORK_WINDOWS:
            lo, hi = max(start, datetime.combine(d, a)), min(end, datetime.combine(d, b))
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
    return total


def _data_stale(ctx: _Ctx, rule: Rule, viewer: Viewer) -> list[Candidate]:
    """A unit whose newest receipt is more than N working hours old; a unit that sent nothing in the window
    (STALE_WINDOW_DAYS), or never, counts from the earliest receipt of any unit in it (so a new warehouse
    is not one alert per unit) and is reported once (key stale:<unit>:none) until it sends again."""
    from warehouse.health import last_received, working_days

    hours = rule.threshold if rule.threshold is not None else DEFAULTS["stale_hours"]
    window = ctx.now.date() - timedelta(days=STALE_WINDOW_DAYS)
    df = ctx.once("last_received", lambda: last_received(ctx.con, ctx.now, since=window))
    units = _allowed_units(rule, viewer)
    if units is not None:
        df = df[df["unit_code"].isin(units)]
    if df.empty or pd.isna(df["data_since"].iloc[0]):  # no dossier of any unit in the window: nothing to judge
        return []
    data_since = pd.Timestamp(df["data_since"].iloc[0]).to_pydatetime()
    days = ctx.once(("working_days", window), lambda: working_days(ctx.con, window, ctx.now.date()))
    out = []
    for code, last_at in zip(df["unit_code"], df["last_received_at"], strict=True):
        never = pd.isna(last_at)
        last = data_since if never else pd.Timestamp(last_at).to_pydatetime()
        h = working_hours(last, ctx.now, [d for d in days if d >= last.date()])
        if h <= hours:
            continue
        if never:
            key, seen = f"stale:{code}:none", {"last_received_at": None, "since": last.isoformat(timespec="minutes")}

            def lines(lang, last=last):
                return [t("alert.line_stale_never", lang, since=fmt.moment(last, lang))]
        else:
            key, seen = f"stale:{code}:{last.isoformat(timespec='minutes')}", {
                "last_received_at": last.isoformat(timespec="minutes")}

            def lines(lang, last=last):
                return [t("alert.line_stale", lang, last=fmt.moment(last, lang))]
        out.append(_message(
            ctx, rule, key, code,
            lambda lang, code=code: t("alert.title_data_stale", lang, unit=ctx.unit_name(code, lang),
                                      hours=fmt.number(hours, lang=lang)),
            lines, "/health", **seen, hours=hours, working_hours=round(h, 1)))
    return out


def _ingest_failed(ctx: _Ctx, rule: Rule, viewer: Viewer) -> list[Candidate]:
    from warehouse.health import ingest_runs

    runs = ctx.once("runs", lambda: ingest_runs(ctx.con, limit=500))
    lo = pd.Timestamp(ctx.now - timedelta(days=7))
    out = []
    for r in runs.to_dict("records"):
        started = r.get("started_at")
        if started is None or pd.isna(started) or pd.Timestamp(started) < lo or pd.Timestamp(started) > pd.Timestamp(ctx.now):
            continue
        file = str(r.get("file_name") or r.get("source"))
        read, quarantined = int(r.get("rows_read") or 0), int(r.get("quarantined") or 0)
        share = 100.0 * quarantined / read if read else 0.0

        def run_line(lang, r=r):
            return [t("alert.line_run", lang, source=r["source"], run=r["run_id"], at=fmt.moment(r["started_at"], lang),
                      status=r["status"])]
        if r.get("status") == "failed":
            out.append(_message(ctx, rule, f"run:{r['run_id']}", None,
                                lambda lang, file=file: t("alert.title_ingest_failed", lang, file=file),
                                run_line, "/health", run_id=int(r["run_id"]), source=r["source"], status="failed"))
        elif rule.threshold is not None and share > rule.threshold:
            out.append(_message(
                ctx, rule, f"quarantine:{r['run_id']}", None,
                lambda lang, file=file, share=share: t("alert.title_quarantine", lang, file=file,
                                                       pct=fmt.percent(share, lang),
                                                       threshold=fmt.percent(rule.threshold, lang)),
                run_line, "/health", run_id=int(r["run_id"]), source=r["source"], quarantined_pct=round(share, 2)))
    return out


def _report_ready(ctx: _Ctx, rule: Rule, viewer: Viewer) -> list[Candidate]:
    from reports import manifest

    unit = rule.unit or config.CITY_CODE
    if not viewer.sees(unit):
        return []
    records = ctx.once("manifest", lambda: manifest.read_runs(ctx.settings))
    lo = (ctx.now - timedelta(days=45)).isoformat()
    by_month: dict[str, list[dict]] = {}
    for r in records:
        if r.get("status") == "ok" and r.get("unit_code") == unit and str(r.get("finished_at") or "") >= lo[:10]:
            by_month.setdefault(str(r.get("month")), []).append(r)
    out = []
    for month, recs in sorted(by_month.items()):
        files = sorted({f for r in recs for f in (r.get("files") or [])})
        links = [ctx.link(f"/reports/files/{f}") for f in files]
        out.append(_message(
            ctx, rule, f"report:{month}:{unit}", unit,
            lambda lang, month=month: t("alert.title_report_ready", lang, month=fmt.period(month, lang),
                                        unit=ctx.unit_name(unit, lang)),
            lambda lang, links=links: [t("alert.line_file", lang, name=x) for x in links], "/reports",
            month=month, files=files, file_links=links))
    return out


HANDLERS: dict[str, Callable[[_Ctx, Rule, Viewer], list[Candidate]]] = {
    "overdue": _overdue, "escalation": _escalation, "due_soon": _due_soon, "data_stale": _data_stale,
    "ingest_failed": _ingest_failed, "report_ready": _report_ready,
}
assert set(HANDLERS) | {"status_change", "threshold"} == set(RULES)


def rules_with_owners(db, settings=None, rule_ids: Iterable[int] | None = None) -> list[tuple[Rule, Viewer]]:
    """The enabled rules of enabled accounts, each with its owner's viewer (scope as the account has it now)."""
    q = (select(AlertRule, User).join(User, User.id == AlertRule.user_id)
         .where(AlertRule.enabled.is_(True), User.disabled.is_(False)).order_by(AlertRule.id))
    if rule_ids is not None:
        q = q.where(AlertRule.id.in_(list(rule_ids)))
    out = []
    with db.session(readonly=True) as s:
        for r, u in s.execute(q):
            rule = Rule(id=r.id, username=u.username, rule=r.rule, unit=r.unit_code, kpi=r.kpi,
                        threshold=r.threshold, days=r.days, channel=r.channel, enabled=True, created_at=r.created_at)
            out.append((rule, viewer_of(u, settings)))
    return out


def candidates(con: duckdb.DuckDBPyConnection, rules: list[tuple[Rule, Viewer]], now: datetime,
               settings=None) -> list[tuple[Rule, Candidate]]:
    """What every rule would send now (before deduplication). A failing rule is logged and skipped."""
    ctx = _Ctx(con, local_naive(now), settings, S.public_url(settings))
    needed: dict[str, set[str]] = {}
    for rule, viewer in rules:
        if rule.rule in ("status_change", "threshold") and viewer.sees(rule.unit):
            needed.setdefault(rule.unit or config.CITY_CODE, set()).update(_rule_kpis(rule))
    rows: dict = {}
    if needed:
        try:
            rows = ctx.kpi_rows(needed)
        except Exception:
            log.exception("alerts: the KPI query failed; status_change and threshold rules skipped this run")
    out = []
    for rule, viewer in rules:
        try:
            if rule.rule in ("status_change", "threshold"):
                found = _kpi_candidates(ctx, rule, viewer, rows)
            else:
                found = HANDLERS[rule.rule](ctx, rule, viewer)
        except Exception:
            log.exception("alerts: rule %d (%s of %s) failed; the others still run", rule.id, rule.rule,
                          rule.username)
            continue
        out.extend((rule, c) for c in found)
    return out


def record(db, found: list[tuple[Rule, Candidate]], now: datetime | None = None) -> list[Event]:
    """Record the candidates not recorded before (unique per rule and dedupe key); returns the new events."""
    if not found:
        return []
    keys = {(rule.id, c.key[:255]) for rule, c in found}
    with db.session(readonly=True) as s:
        have = set(s.execute(select(AlertEvent.rule_id, AlertEvent.dedupe_key)
                             .where(AlertEvent.rule_id.in_({k[0] for k in keys}))
                             .where(AlertEvent.dedupe_key.in_({k[1] for k in keys}))).all())
    created_at = None if now is None else (now if now.tzinfo else now.replace(tzinfo=config.TZ))
    new: list[tuple[Rule, Candidate, str]] = []
    for rule, c in found:
        key = c.key[:255]
        if (rule.id, key) not in have:
            have.add((rule.id, key))
            new.append((rule, c, key))
    if not new:
        return []

    def event(rule: Rule, c: Candidate, key: str) -> dict:
        return {"rule_id": rule.id, "dedupe_key": key, "payload": c.payload,
                **({"created_at": created_at} if created_at else {})}
    try:  # every new event in one bulk insert (ids returned in the rows' order)
        with db.session() as s:
            ids = list(s.scalars(insert(AlertEvent).returning(AlertEvent.id, sort_by_parameter_order=True),
                                 [event(rule, c, key) for rule, c, key in new]))
        return [Event(i, rule.id, rule.username, rule.rule, c.unit, rule.channel, key, c.payload)
                for i, (rule, c, key) in zip(ids, new, strict=True)]
    except IntegrityError:  # another process recorded some of them a moment ago: one at a time, skipping those
        pass
    out: list[Event] = []
    with db.session() as s:
        for rule, c, key in new:
            e = AlertEvent(**event(rule, c, key))
            try:
                with s.begin_nested():
                    s.add(e)
                    s.flush()
            except IntegrityError:
                continue
            out.append(Event(e.id, rule.id, rule.username, rule.rule, c.unit, rule.channel, key, c.payload))
    return out


def evaluate(con: duckdb.DuckDBPyConnection, db, now: datetime | None = None, settings=None, *,
             rule_ids: Iterable[int] | None = None) -> list[Event]:
    """Every enabled rule (or those of `rule_ids`) over the warehouse at `now`: the new events, recorded."""
    now = local_naive(now)
    return record(db, candidates(con, rules_with_owners(db, settings, rule_ids), now, settings), now)

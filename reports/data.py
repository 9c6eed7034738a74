"""Everything a report shows, collected through the metrics API (no SQL here), as plain tables.

PDF and Excel render the same `ReportData`, so both show the same numbers, and the tests compare
those numbers with `metrics.query` for the same filters.

A report covers a complete month only, judged at its end J = the 1st of the next month, 00:00: every
figure is the one the overview shows on the 1st at any hour (and later, until a correction arrives).

Which query feeds which table:
- targets: `metrics.standing(kpis with a target, unit, now=J)`: each target on its basis (annual
  targets on the year to date of complete months, indicators on their latest publication), the same
  call as the overview's cards on the 1st; beside it the month's own value, n and change from
  `metrics.query(dossier and catalogue KPIs, grain='month', periods=<month>, units=<unit>, now=J)`;
- trend: `metrics.query(TREND_KPIS, grain='month', periods=(12 months), units=<unit>)`, and the city's
  series beside a ward's;
- ranking: `metrics.query(RANK_KPIS + the backlog, periods=<month>, by='unit_code')` over every unit, '01'
  (city departments) left out; ordered by the headline KPI, worst first; a unit whose headline rate is
  few_data is listed apart, after the ranked ones, unranked;
- overdue: the `backlog` KPI (kpis.yaml display.show) from the ranking query (by unit, at the month's
  judgement time) and
  `metrics.overdue_list(units, now)` for the longest-overdue ids at generation time.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

import duckdb
import pandas as pd

import clock
import config
import metrics
from presentation import surfaces, tables
from presentation.ranking import best_first_position, rank_records, target_row
from presentation.surfaces import SurfaceCodes
from presentation.words import lang_of, localised, localised_column, mid_sentence, n_word
from warehouse.health import freshness, is_demo

from .fmt import fmt_count, fmt_date, is_na, local, month_label
from .text import t

# the trend chart's KPIs: kpis.yaml display.show `report_trend` (the target table's: `report`)
TREND_KPIS = SurfaceCodes("report_trend")
# the ranking table's KPI columns: kpis.yaml display.show `ranking` (the dashboard's), the headline first
RANK_KPIS = SurfaceCodes("ranking", first="headline")


def ranking_query_kpis() -> list[str]:
    """Queried by unit: the ranking's KPIs and the backlog the overdue tables count."""
    return list(dict.fromkeys([*RANK_KPIS, surfaces.one("backlog")]))


def ranked_kpis() -> list[str]:
    """The rates the report draws a ranking chart of and ranks a ward on ("xếp thứ 3/120 về …"): kpis.yaml
    display.show `report_ranking`, the headline first."""
    return surfaces.codes("report_ranking", first="headline")
OLDEST_OVERDUE = 20          # dossier ids listed in the overdue summary
TREND_MONTHS = 12
TWO_TIER_START = date(2025, 7, 1)   # marked on trend charts (the start of the two-tier government)


class ReportError(ValueError):
    """A report that cannot be made as asked (bad month, unknown unit, no data to read)."""


# the reports' column kinds, in the one model's words (presentation.tables)
_KINDS = {"pct": "percent"}


def Column(key: str, header: str, kind: str = "text", width: float = 1.0,  # noqa: N802
           decimals: int | None = None) -> tables.Column:
    """A report column (presentation.tables.Column): value, change and target columns take each row's unit."""
    per_row = kind in ("value", "change", "target")
    return tables.Column(key, header, _KINDS.get(kind, kind), decimals, unit_field="unit" if per_row else None,
                         width=width)


class Table(tables.Table):
    """A report table (presentation.tables.Table), built key first."""

    def __init__(self, key: str, title: str, columns: list[tables.Column], rows: list[dict], note: str | None = None,
                 total: dict | None = None) -> None:
        super().__init__(title, list(columns), list(rows), key, note=note, total=total)


@dataclass
class ReportData:
    month: str                      # '2026-10'
    unit_code: str                  # '01' for the city report
    unit_name: str
    lang: str
    generated_at: datetime          # Hanoi wall-clock time, naive
    as_of: datetime                 # judgement time of the month: its end (a report covers a complete month)
    demo: bool
    data_updated: datetime | None
    targets: Table
    trend: pd.DataFrame             # kpi, period, value, numerator, denominator, target, series ('unit'|'city')
    ranking: Table
    overdue_units: Table
    overdue_oldest: Table
    definitions: Table
    kpi_names: dict[str, str] = field(default_factory=dict)
    ranks: dict[str, tuple[int, int] | None] = field(default_factory=dict)   # kpi -> (rank, of) for a ward
    plan_groups: Table | None = None    # the city report's plan section (issue 12): None without a plan
    plan_tasks: Table | None = None     # its late and at-risk tasks, worst first

    @property
    def is_city(self) -> bool:
        return self.unit_code == config.CITY_CODE


@cache
def units_reference() -> pd.DataFrame:
    """The 126 units and the city from the shipped reference file (the warehouse's `units` is a copy of it)."""
    with (config.REFERENCE_DIR / "units.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return pd.DataFrame(rows, columns=["unit_code", "name", "name_en", "unit_type", "parent_code"]).astype(str)


def unit_name(code: str, lang: str = "vi") -> str:
    """A unit's name ('Phường Cửa Nam' / 'Cua Nam Ward'); the city for '01'."""
    ref = units_reference()
    row = ref[ref["unit_code"] == code]
    if row.empty:
        raise ReportError(f"unknown unit '{code}': expected a 5-digit code of one of Hanoi's 126 wards/communes "
                          f"(data/reference/units.csv) or {config.CITY_CODE} for the city")
    return str(localised(row.iloc[0], "name", lang))


def parse_month(month: str) -> tuple[date, date]:
    """'2026-10' -> (first day, first day of the next month)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(month).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ReportError(f"month '{month}' is not like 2026-10 (YYYY-MM)")
    start = date(int(m.group(1)), int(m.group(2)), 1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def previous_month(now: datetime) -> str:
    """The month before the one containing `now` (Hanoi time): what the scheduled report covers."""
    first = local(now).date().replace(day=1)
    prev = first - timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


def _months_back(start: date, n: int) -> date:
    y, m = start.year, start.month - (n - 1)
    while m <= 0:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def collect(con: duckdb.DuckDBPyConnection, month: str, unit_code: str | None = None, lang: str = "vi",
            now: datetime | None = None, plan: dict | None = None) -> ReportData:
    """Query everything the report for `month` and `unit_code` (None or '01' = the city) shows. `plan`: the
    implementation plan as it stood at the month's end (plan.store.load_plan(db, before=J)), for the city's
    report."""
    lang = lang_of(lang)
    now = local(now or clock.wall())
    start, end = parse_month(month)
    if start > now.date():
        raise ReportError(f"month {month} has not started yet (now {now:%d/%m/%Y})")
    judged = datetime.combine(end, time())   # J: the month's end, the 1st of the next month at 00:00
    if now < judged:
        last = previous_month(now)
        raise ReportError(f"month {month} is not over yet (now {now:%d/%m/%Y %H:%M}): a monthly report covers a "
                          f"complete month; the last complete one is {last}")
    code = unit_code or config.CITY_CODE
    name = unit_name(code, lang)
    units = None if code == config.CITY_CODE else code
    as_of = judged
    reg = metrics.get_registry()
    names = {c: k.name(lang) for c, k in reg.kpis.items()}

    targets = _targets(con, reg, month, units, lang, judged)
    trend = _trend(con, start, units, now)
    by_unit = metrics.query(con, ranking_query_kpis(), grain="month", periods=month, by="unit_code", now=now)
    ranking, ranks = _ranking(by_unit, code, lang)
    overdue_units = _overdue_units(con, by_unit, code, lang, now, month, as_of)
    overdue_oldest = _overdue_oldest(con, units, lang, now)
    fresh = freshness(con, now)
    upd = fresh.loc[fresh["source"] == "dossiers", "last_load"]
    updated = None if upd.empty or is_na(upd.iloc[0]) else pd.Timestamp(upd.iloc[0]).to_pydatetime()
    plan_groups, plan_tasks = _plan(con, plan, lang, judged) if plan and code == config.CITY_CODE else (None, None)
    return ReportData(month=month, unit_code=code, unit_name=name, lang=lang, generated_at=now, as_of=as_of,
                      demo=is_demo(con), data_updated=updated, targets=targets, trend=trend, ranking=ranking,
                      overdue_units=overdue_units, overdue_oldest=overdue_oldest,
                      definitions=_definitions(lang), kpi_names=names, ranks=ranks,
                      plan_groups=plan_groups, plan_tasks=plan_tasks)


def _plan(con, plan: dict, lang: str, judged: datetime) -> tuple[Table, Table]:
    """The plan section: each task group's status and counts, then the late and at-risk tasks with their
    owners, judged at J like every figure of the report (metrics.plan_status, the plan page's rules)."""
    from metrics import plan_status as ps
    from plan import units as plan_units

    ev = ps.evaluate_plan(con, plan, judged)
    status = {s: t(f"plan.status_{s}", lang) for s in ("done", "on_track", "at_risk", "late", "not_started")}
    g_rows = [{"code": g["code"], "name": localised(g, "name_vi", lang), "tasks": g["tasks"],
               "late": g["counts"].get("late", 0), "at_risk": g["counts"].get("at_risk", 0),
               "done": g["counts"].get("done", 0), "percent": g["percent"], "status": status[g["status"]]}
              for g in ev["groups"]]
    g_cols = [Column("code", t("pl_col_code", lang), "text", 0.5), Column("name", t("pl_col_task", lang), "text", 3.2),
              Column("tasks", t("rp_plan_tasks", lang), "count", 0.7),
              Column("late", status["late"], "count", 0.7), Column("at_risk", status["at_risk"], "count", 0.8),
              Column("done", status["done"], "count", 0.8),
              Column("percent", t("pl_col_progress", lang), "pct", 0.8, 0),
              Column("status", t("pl_col_status", lang), "text", 1.0)]
    late = [x for x in ev["tasks"] if x["status"] in ("late", "at_risk")]
    late.sort(key=lambda x: (ps.severity(x["status"]), x["deadline"], x["code"]))
    t_rows = [{"code": x["code"], "name": localised(x, "name_vi", lang), "lead": plan_units.name(x["lead_unit_code"], lang),
               "responsible": x.get("responsible") or "", "deadline": x["deadline"], "percent": x.get("percent"),
               "status": status[x["status"]]} for x in late]
    t_cols = [Column("code", t("pl_col_code", lang), "text", 0.6), Column("name", t("pl_col_task", lang), "text", 3.0),
              Column("lead", t("pl_col_lead", lang), "text", 1.6),
              Column("responsible", t("pl_col_responsible", lang), "text", 1.6),
              Column("deadline", t("pl_col_deadline", lang), "date", 0.8),
              Column("percent", t("pl_col_progress", lang), "pct", 0.7, 0),
              Column("status", t("pl_col_status", lang), "text", 0.9)]
    note = t("pl_summary", lang, groups=len(g_rows), tasks=len(ev["tasks"]), date=fmt_date(judged.date()))
    if plan.get("demo"):
        note = f"{t('pl_demo', lang)} {note}"
    return (Table("plan_groups", t("pl_title", lang), g_cols, g_rows, note),
            Table("plan_tasks", t("pl_attention", lang, n=len(t_rows)), t_cols, t_rows,
                  None if t_rows else t("pl_attention_none", lang)))


def target_kpis(reg) -> list[str]:
    """The target table's KPIs: kpis.yaml display.show `report` (every KPI with a declared target), registry order."""
    return reg.shown_on("report")


def _basis_text(r: dict, lang: str) -> str:
    period = r.get("period")
    if is_na(period) or not period:
        return ""
    basis, period = r.get("basis"), str(period)
    if basis == "year_to_date" and ".." in period:
        a, b = period.split("..")
        return t("report_basis_year_to_date", lang, start=fmt_date(a), end=fmt_date(b))
    if basis == "last_complete_month":
        return t("report_basis_last_complete_month", lang, month=month_label(period))
    if basis == "latest_publication":
        return t("report_basis_latest_publication", lang, period=period)
    return period


def _targets(con, reg, month: str, units: str | None, lang: str, judged: datetime) -> Table:
    codes = target_kpis(reg)
    # where each target stands on the 1st of the next month: the overview's own call (metrics.standing)
    standing = {r["kpi"]: r for r in metrics.standing(con, codes, unit=units, now=judged)}
    plain = [c for c in codes if reg.kpis[c].type.value != "indicator"]
    by_month: dict[str, dict] = {}
    if plain:
        for r in metrics.query(con, plain, grain="month", periods=month, units=units, now=judged).to_dict("records"):
            by_month[r["kpi"]] = r
    rows = []
    for c in codes:
        r = standing.get(c) or {}
        m = by_month.get(c, {})
        k = reg.kpis[c]
        unit = k.unit_in(lang)
        # the row's own target, or (no data row) the registry's for this unit and year: the overview's rule
        tg = target_row(reg, c, r, units, int(month[:4]))
        target, comparison, deadline = tg["target"], tg["comparison"], tg["deadline"]
        source = r.get("source_period")
        period = source if not is_na(source) else r.get("period", month)
        indicator = k.source == "indicator"
        row = {"kpi": c, "name": k.name(lang), "unit": unit, "decimals": k.decimals, "basis": r.get("basis"),
               "period": period,
               "value": r.get("value"),
               # an indicator's numerator/denominator are population weights, not counts to show
               "numerator": None if indicator else r.get("numerator"),
               "denominator": None if indicator else r.get("denominator"),
               "n": None if is_na(r.get("n")) else r.get("n"), "few_data": bool(r.get("few_data") or False),
               "target": target, "target_comparison": comparison, "target_deadline": deadline,
               "status": r.get("status") or "no_data", "status_reason": r.get("status_reason"),
               "projected": r.get("projected"),
               "month_value": m.get("value"), "month_n": None if is_na(m.get("n")) else m.get("n"),
               "month_few_data": bool(m.get("few_data") or False), "month_status": m.get("status"),
               "change": m.get("change"), "previous": m.get("previous")}
        row["basis_text"] = _basis_text(row, lang)
        rows.append(row)
    cols = [Column("name", t("h_kpi", lang), "text", 3.0), Column("basis_text", t("h_basis", lang), "text", 1.6),
            Column("value", t("h_value", lang), "value", 1.2), Column("nd", t("h_nd", lang), "text", 1.6),
            Column("target", t("h_target", lang), "target", 0.9),
            Column("target_deadline", t("h_deadline", lang), "date", 1.0),
            Column("status", t("h_status", lang), "status", 1.8),
            Column("projected", t("h_projected", lang), "value", 1.1),
            Column("month_value", t("h_month_value", lang, month=month_label(month)), "value", 1.3),
            Column("change", t("h_change", lang), "change", 1.2)]
    return Table("targets", t("sec_targets", lang), cols, rows, t("targets_note", lang))


def _trend(con, start: date, units: str | None, now: datetime) -> pd.DataFrame:
    first = _months_back(start, TREND_MONTHS)
    last = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    keep = ["kpi", "period", "period_start", "value", "numerator", "denominator", "target"]
    df = metrics.query(con, list(TREND_KPIS), grain="month", periods=(first, last), units=units, now=now)[keep]
    df = df.assign(series="unit")
    if units is not None:  # a ward beside the whole city
        city = metrics.query(con, list(TREND_KPIS), grain="month", periods=(first, last), now=now)[keep]
        df = pd.concat([df, city.assign(series="city")], ignore_index=True)
    return df.reset_index(drop=True)


def _unit_type(ut: str, lang: str) -> str:
    return t(ut, lang) if ut in ("phuong", "xa") else ut


RANK_GROUPS = ("ranked", "few_data", "no_data")


def _group(value, few: bool) -> str:
    """Where a unit goes in a ranking: judged ('ranked'), apart after them ('few_data'), or last ('no_data')."""
    return "no_data" if value is None else ("few_data" if few else "ranked")


def _ranking(by_unit: pd.DataFrame, code: str, lang: str) -> tuple[Table, dict[str, tuple[int, int] | None]]:
    """The ranking table: one column per RANK_KPIS KPI, the headline's n, a note naming the rates with
    few data; ordered worst first by the headline (presentation.ranking, the dashboard's order)."""
    ref = units_reference()
    wards = ref[ref["unit_code"] != config.CITY_CODE]
    reg = metrics.get_registry()
    head = surfaces.headline()
    codes = list(RANK_KPIS)
    look = {(r["kpi"], r["unit_code"]): r for r in by_unit.to_dict("records")}
    rows = []
    for u in wards.itertuples(index=False):
        def v(kpi, col="value", _u=u.unit_code):
            r = look.get((kpi, _u))
            return None if r is None or is_na(r.get(col)) else r[col]
        row = {"unit_code": u.unit_code, "unit_name": localised(u, "name", lang),
               "unit_type": _unit_type(u.unit_type, lang)}
        for kpi in codes:
            row[kpi], row[f"n_{kpi}"], row[f"few_{kpi}"] = v(kpi), v(kpi, "n"), bool(v(kpi, "few_data"))
        row["few_data"] = row[f"few_{head}"]
        row["note"] = "; ".join(t("few_data_n", lang, what=mid_sentence(reg.kpi(k).name(lang), lang),
                                  n=fmt_count(row[f"n_{k}"], lang)) for k in codes if row[f"few_{k}"])
        rows.append(row)
    ranks: dict[str, tuple[int, int] | None] = {}
    for kpi in reversed(ranked_kpis() or [head]):  # the table ends in the headline's order
        # the one ranking (presentation.ranking), the dashboard's: worst first, few data apart, no data last
        ordered = rank_records(rows, reg.kpi(kpi).direction, value=kpi, few=f"few_{kpi}", code="unit_code")
        for r in ordered:
            r[f"rank_{kpi}"], r[f"group_{kpi}"] = r.pop("rank"), r.pop("group")
        rows = ordered
        ranked = sum(1 for r in rows if r[f"group_{kpi}"] == "ranked")
        mine = next((r for r in rows if r["unit_code"] == code), None)
        # the ward's sentence counts from the best ("ranks 3rd of 120"), the table from the worst
        ranks[kpi] = ((best_first_position(mine[f"rank_{kpi}"], ranked), ranked)
                      if mine and mine[f"rank_{kpi}"] else None)
    for r in rows:
        r["rank"] = r[f"rank_{head}"]
        r["group"] = r[f"group_{head}"]
        r["highlight"] = r["unit_code"] == code
    kinds = {"percent": "pct", "count": "count", "days": "days", "points": "points", "number": "number"}
    kpi_cols = [Column(k, f"{reg.kpi(k).name(lang)} ({reg.kpi(k).unit_in(lang)})",
                       kinds.get(reg.kpi(k).display.kind or "number", "number"), 1.0, reg.kpi(k).decimals)
                for k in codes]
    cols = [Column("rank", t("h_rank", lang), "count", 0.5), Column("unit_code", t("h_code", lang), "text", 0.6),
            Column("unit_name", t("h_unit", lang), "text", 1.9), *kpi_cols,
            Column(f"n_{head}", t("h_n_of", lang, word=n_word(head, lang)), "count", 0.8),
            Column("note", t("h_note", lang), "text", 1.8)]
    return Table("ranking", t("sec_ranking", lang), cols, rows, t("ranking_note", lang)), ranks


def rank_sentence(unit_name: str, ranks: dict[str, tuple[int, int] | None], lang: str) -> str | None:
    """'Phường X xếp thứ 3/120 về tỷ lệ đúng hạn; thứ 7/120 về …' over the ranked KPIs (None if unranked)."""
    reg = metrics.get_registry()
    parts = [t("rank_part", lang, rank=r[0], n=r[1], kpi=mid_sentence(reg.kpi(k).name(lang), lang))
             for k in ranked_kpis() if (r := ranks.get(k))]
    return t("rank_of", lang, unit=unit_name, parts="; ".join(parts)) if parts else None


def _overdue_units(con, by_unit: pd.DataFrame, code: str, lang: str, now: datetime, month: str,
                   as_of: datetime) -> Table:
    from .fmt import fmt_datetime

    ref = units_reference().set_index("unit_code")
    backlog = surfaces.one("backlog")
    df = by_unit[(by_unit["kpi"] == backlog)]
    if code != config.CITY_CODE:
        df = df[df["unit_code"] == code]
    rows = []
    for r in df.to_dict("records"):
        if is_na(r["value"]) or r["value"] <= 0:
            continue
        u = r["unit_code"]
        nm = t("city_depts", lang) if u == config.CITY_CODE else (
            ref.loc[u, localised_column("name", lang)] if u in ref.index else u)
        rows.append({"unit_code": u, "unit_name": nm, backlog: r["value"]})
    rows.sort(key=lambda r: (-r[backlog], r["unit_code"]))
    cols = [Column("unit_code", t("h_code", lang), "text", 0.8), Column("unit_name", t("h_unit", lang), "text", 3.0),
            Column(backlog, t("h_overdue", lang), "count", 1.2)]
    total = None
    if code == config.CITY_CODE and len(rows) > 1:
        q = metrics.query(con, backlog, grain="month", periods=month, now=now)
        if not q.empty:
            total = {"unit_code": "", "unit_name": t("total", lang), backlog: q["value"].iloc[0]}
    return Table("overdue_units", t("sec_overdue", lang), cols, rows,
                 t("overdue_units_note", lang, as_of=fmt_datetime(as_of)), total)


def _overdue_oldest(con, units: str | None, lang: str, now: datetime) -> Table:
    from .fmt import fmt_datetime

    df = metrics.overdue_list(con, units=units, now=now, limit=OLDEST_OVERDUE)
    # ids, codes, dates and counts only: the overdue list carries no personal data, and none is added here
    rows = [{"dossier_id": r["dossier_id"], "unit_code": r["unit_code"], "procedure_code": r["procedure_code"],
             "received_at": r["received_at"], "effective_due_at": r["effective_due_at"],
             "working_days_overdue": r["working_days_overdue"]} for r in df.to_dict("records")]
    cols = [Column("dossier_id", t("h_dossier", lang), "text", 2.4), Column("unit_code", t("h_code", lang), "text", 0.8),
            Column("procedure_code", t("h_procedure", lang), "text", 1.1),
            Column("received_at", t("h_received_at", lang), "date", 1.1),
            Column("effective_due_at", t("h_due", lang), "date", 1.1),
            Column("working_days_overdue", t("h_days_overdue", lang), "count", 1.2)]
    return Table("overdue_oldest", t("sec_overdue", lang), cols, rows,
                 t("overdue_oldest_note", lang, now=fmt_datetime(now)))


def _definitions(lang: str) -> Table:
    from metrics.doc import formula_text

    reg = metrics.get_registry()
    kp = metrics.list_kpis(lang)
    rows = []
    for r in kp[~kp["auxiliary"].astype(bool)].to_dict("records"):
        rows.append({"kpi": r["kpi"], "name": r["name"], "definition": r["description"],
                     "formula": formula_text(reg, r["kpi"]), "unit": r["unit"], "legal_basis": r["legal_basis"]})
    cols = [Column("name", t("h_name", lang), "text", 2.0), Column("definition", t("h_definition", lang), "text", 3.6),
            Column("formula", t("h_formula", lang), "text", 2.4), Column("unit", t("h_unit_of", lang), "text", 0.9),
            Column("legal_basis", t("h_legal", lang), "text", 1.6)]
    return Table("definitions", t("sec_defs", lang), cols, rows)

"""The `kpis` command's report: every KPI with value, numerator/denominator, n, target, deadline, status, projection, change.

Default period: the last complete one of the grain (on 1 December: November), whose figures do not
move without a data change. `--period current` gives the period containing now, labelled as partial
with its date ("Tháng 12/2026 — tạm tính đến 01/12") and never judged (status 'partial'). A rate over
fewer than its KPI's min_n is 'few_data' ("Ít dữ liệu"): shown with its n, not judged. In JSON every
row carries `partial` (true/false), `as_of`, `n`, `few_data` and `status_reason`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime

import duckdb
import pandas as pd

import config
from presentation.words import LANGS, localised, t

from .engine import local_now, query
from .periods import resolve
from .registry import get_registry

STATUSES = ("achieved", "on_track", "needs_acceleration", "limited", "deteriorating", "no_data", "few_data",
            "partial")
HEADER_KEYS = ("kpi", "period", "value", "fraction", "n", "target", "deadline", "status", "projected", "change")


class _ByLanguage(Mapping):
    """A read-only view over the one word catalogue (presentation.words): view[lang] -> the words in `lang`."""

    def __init__(self, build) -> None:
        self._build = build

    def __getitem__(self, lang: str):
        if lang not in LANGS:
            raise KeyError(lang)
        return self._build(lang)

    def __iter__(self):
        return iter(LANGS)

    def __len__(self) -> int:
        return len(LANGS)


# the status words and the column headers, from the catalogue (status_*, cli_h_*)
STATUS_WORDS = _ByLanguage(lambda lang: {s: t(f"status_{s}", lang) for s in STATUSES})
HEADERS = _ByLanguage(lambda lang: [t(f"cli_h_{h}", lang) for h in HEADER_KEYS])


def _na(x) -> bool:
    return x is None or x is pd.NaT or (isinstance(x, float) and x != x)


def fmt_number(x, decimals: int = 0, lang: str = "vi") -> str:
    """Thousands and decimal separators as the language writes them (vi: 1.234,5; en: 1,234.5); N/A for None.

    The CLI is a surface: it writes numbers with presentation.fmt (imported here, not at the top, so the
    metrics package never imports the layer above it at import time)."""
    from presentation.fmt import number

    return number(x, decimals, lang)


def _value(x, k, lang: str, signed: bool = False) -> str:
    """A KPI value (or, signed, a change) as the CLI table writes it, to the KPI's display decimals."""
    from presentation.fmt import change, value

    if _na(x):
        return "N/A"
    unit = k.unit_in(lang)
    if signed:
        return change(x, unit, lang, kpi=k)
    return value(x, unit, lang, kpi=k)


def _date(d) -> str:
    from presentation.fmt import day

    return "" if _na(d) else day(d)


def period_text(label: str, lang: str = "vi", partial: bool = False, as_of=None) -> str:
    """A period as people write it: 'Tháng 11/2026', 'Quý 4/2026', 'Năm 2026'; a partial one with its
    date: 'Tháng 12/2026 — tạm tính đến 01/12' ('Month 12/2026 — partial, to 01/12')."""
    text = str(label)
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    q = re.fullmatch(r"(\d{4})-Q([1-4])", text)
    if m:
        text = t("cli_period_month", lang, month=m.group(2), year=m.group(1))
    elif q:
        text = t("cli_period_quarter", lang, quarter=q.group(2), year=q.group(1))
    elif re.fullmatch(r"\d{4}", text):
        text = t("cli_period_year", lang, year=text)
    if partial:
        text = t("cli_period_partial", lang, period=text,
                 date="?" if _na(as_of) else pd.Timestamp(as_of).strftime("%d/%m"))
    return text


def kpis_report(con: duckdb.DuckDBPyConnection, period: str | None = None, grain: str | None = "month",
                unit: str | None = None, fmt: str = "table", lang: str = "vi", now: datetime | None = None) -> str:
    """Every KPI for a unit (default the city) and period (default the last complete one; 'current' =
    the period to date, partial), as table, csv or json."""
    reg = get_registry()
    now = now or local_now()  # clock.now(): R57_NOW, the dashboard's frozen clock, here too
    unit_code = unit or config.CITY_CODE
    row = con.execute("SELECT name, name_en FROM units WHERE unit_code = ?", [unit_code]).fetchone()
    unit_name = localised({"name": row[0], "name_en": row[1]}, "name", lang) if row else unit_code
    df = query(con, None, grain=grain, periods=period, units=unit, now=now)
    df.insert(2, "unit_name", unit_name)
    df.insert(1, "name", [reg.kpis[k].name(lang) for k in df["kpi"]])
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        def plain(v):
            if _na(v):
                return None
            if isinstance(v, datetime | date | pd.Timestamp):
                return v.isoformat()
            return v.item() if hasattr(v, "item") else v
        return json.dumps([{k: plain(v) for k, v in r.items()} for r in df.to_dict("records")],
                          ensure_ascii=False, indent=2)
    return _table(df, unit_name, unit_code, _title_period(df, grain, period, now, lang), lang)


def _title_period(df: pd.DataFrame, grain: str | None, period: str | None, now: datetime, lang: str) -> str:
    """The period(s) the table shows, as the title names them (the partial one labelled with its date)."""
    if df.empty:
        labels = [(p.label, p.is_current(now), p.judged_at(now)) for p in resolve(grain, period, now)]
    else:
        seen = df.drop_duplicates("period")
        labels = [(r["period"], bool(r["partial"]), r["as_of"]) for r in seen.to_dict("records")]
    if not labels:
        return "—"
    if len(labels) > 2:
        return f"{period_text(labels[0][0], lang)} … {period_text(labels[-1][0], lang, labels[-1][1], labels[-1][2])}"
    return ", ".join(period_text(label, lang, partial, as_of) for label, partial, as_of in labels)


def _table(df: pd.DataFrame, unit_name: str, unit_code: str, period: str, lang: str) -> str:
    reg = get_registry()
    words = STATUS_WORDS[lang]
    lines = []
    for r in df.to_dict("records"):
        r = {key: (None if _na(v) else v) for key, v in r.items()}
        k = reg.kpis[r["kpi"]]
        nd = ""
        if r["numerator"] is not None and r["denominator"] is not None:
            nd = f"{fmt_number(r['numerator'], 0 if float(r['numerator']).is_integer() else 1, lang)} / " \
                 f"{fmt_number(r['denominator'], 0, lang)}"
        elif r["denominator"] is not None:
            nd = f"n = {fmt_number(r['denominator'], 0, lang)}"
        target = f"{r['target_comparison']} {_value(r['target'], k, lang)}" if r["target"] is not None else ""
        n = "" if r.get("n") is None else fmt_number(r["n"], 0, lang) + (" *" if r.get("few_data") else "")
        label = period_text(r["period"], lang, bool(r.get("partial")), r.get("as_of"))
        lines.append([k.name(lang), label, _value(r["value"], k, lang),
                      nd, n, target, _date(r["target_deadline"]), words.get(r["status"], "") if r["status"] else "",
                      _value(r["projected"], k, lang) if r["projected"] is not None else "",
                      # a partial period against a whole one is no change: not shown
                      _value(r["change"], k, lang, signed=True)
                      if r["change"] is not None and not r.get("partial") else ""])
    head = HEADERS[lang]
    widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h) for i, h in enumerate(head)]
    title = t("cli_kpis_title", lang, unit=unit_name, code=unit_code, period=period)
    right = {2, 3, 4, 8, 9}

    def fmt_row(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    out = [title, "", fmt_row(head), "  ".join("-" * w for w in widths)]
    out += [fmt_row(x) for x in lines]
    if not lines:
        out.append(t("cli_no_data", lang))
    if any(r.get("few_data") for r in df.to_dict("records")):
        out.append("")
        out.append(t("cli_few_note", lang))
    if any(bool(r.get("partial")) for r in df.to_dict("records")):
        out.append(t("cli_partial_note", lang))
    return "\n".join(out) + "\n"

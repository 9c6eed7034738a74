"""The metric dictionary (Markdown), generated from the registries: definition, formula, SQL, targets, source."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from presentation.fmt import number
from presentation.words import localised, n_word, t  # noqa: F401  (n_word: the one rule, re-exported)

from .engine import explain
from .registry import KpiType, Registry, get_registry

# The SQL shown is for one fixed past month, so the dictionary does not change from day to day.
EXAMPLE_PERIOD, EXAMPLE_NOW = "2026-03", datetime(2026, 4, 1, 0, 0)

# The dictionary's own words are in the one word catalogue (presentation.words, keys doc_*).
INTRO = ("doc_intro_range", "doc_intro_period", "doc_intro_sql")


def formula_text(reg: Registry, code: str) -> str:
    """The KPI's formula in words and measure names, as the dictionary and reports show it."""
    k = reg.kpis[code]
    if k.type == KpiType.DERIVED:
        return f"`{k.formula}`"
    if k.type == KpiType.CATALOGUE:
        return f"100 × count(procedures WHERE {k.numerator_filter}) / count(procedures WHERE {k.denominator_filter})"
    if k.type == KpiType.INDICATOR:
        how = " (population-weighted mean over units)" if k.aggregation != "none" else ""
        return f"indicator `{k.indicator}`, latest publication{how}"
    num = " + ".join(k.numerator)
    den = " + ".join(k.denominator)
    text = {"count": num, "ratio": f"100 × ({num}) / ({den})", "mean": f"({num}) / ({den})",
            "median": f"median of {num} (n = {den})"}[k.type.value]
    if k.current_numerator:
        text += f"; judged now: {' + '.join(k.current_numerator)}"
    return text


class _Rules:
    """How a KPI counts, in words (the catalogue's `rule_*` entries); `reading_rules` picks them from the
    KPI's declaration and measures."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return t(f"rule_{key}", self.lang)

    def format(self, key: str, **kw) -> str:
        return t(f"rule_{key}", self.lang, **kw)


def _measures(reg: Registry, code: str) -> list:
    """The measures a dossier KPI is built from (through derived formulas too)."""
    from .evaluate import formula_names

    k = reg.kpi(code)
    if k.formula:
        plain, base = formula_names(k.formula, code=code)
        return [m for dep in sorted(plain | base) for m in _measures(reg, dep)]
    return [reg.measures[m] for m in (*k.numerator, *k.denominator, *k.current_numerator) if m in reg.measures]


def reading_rules(code: str, lang: str = "vi") -> list[tuple[str, str]]:
    """How a KPI counts, as (aspect, words), from its declaration and its measures — never written per
    KPI: the cohort (by receipt date, by finish date, in flight at T), whether supplement days are net,
    how withdrawn and waiting dossiers count, the small-n rule. The dictionary and the KPI page show it."""
    reg, w = get_registry(), _Rules(lang)
    k = reg.kpi(code)
    if k.source == "catalogue":
        return [(w["kp_cohort"], w["cohort_catalogue"])]
    if k.source == "indicator":
        return [(w["kp_cohort"], w["cohort_indicator"])]
    ms = _measures(reg, code)
    times = {m.time for m in ms if m.kind in ("flow", "histogram") and m.time}
    stock = [m for m in ms if m.kind in ("stock", "current")]
    cohort = [w[f"cohort_{x}"] for x in ("received_date", "finished_date") if x in times]
    if stock:
        cohort.append(w["cohort_stock"])
    text = " ".join(f"{m.filter or ''} {m.at or ''} {m.expr or ''}" for m in ms)
    supplement = (w["supplement_net_days"] if "processing_wd" in text
                  else w["supplement_due"] if "effective_due_at" in text else w["supplement_na"])
    if "supplement_count" in text:
        supplement += " " + w["supplement_count_rule"]
    withdrawn = [w[key] for key, on in (("withdrawn_received", "received_date" in times),
                                        ("withdrawn_finished", "finished_date" in times),
                                        ("withdrawn_stock", bool(stock))) if on]
    if any("supplement_requested" in f"{m.filter or ''} {m.at or ''}" for m in stock):
        waiting = w["waiting_not_overdue"]
    else:
        waiting = w["waiting_in_flight"] if stock else w["waiting_na"]
    small = w.format("small_n_rule", n=number(k.min_n, 0, lang), word=n_word(code, lang)) if k.min_n \
        else w["small_n_na"]
    return [(w["kp_cohort"], "; ".join(cohort) + "." if cohort else w["cohort_derived"]),
            (w["kp_supplement"], supplement), (w["kp_withdrawn"], " ".join(withdrawn) or w["waiting_na"]),
            (w["kp_waiting"], waiting), (w["kp_small_n"], small)]


def metric_dictionary(lang: str = "vi") -> str:
    """The whole dictionary as Markdown: every KPI, the measures it is built from, and the 766 index layout."""
    reg = get_registry()

    def w(key: str) -> str:
        return t(f"doc_{key}", lang)

    intro = [t(key, lang, period=EXAMPLE_PERIOD) for key in INTRO]
    out = [f"# {w('title')}", "", *[f"- {line}" for line in intro], ""]
    for code, k in reg.kpis.items():
        out += [f"## `{code}` — {k.name(lang)}", "", f"**{w('def')}.** {k.description(lang)}", "",
                f"- {w('formula')}: {formula_text(reg, code)}",
                f"- {w('type')}: {k.type.value}; {w('unit')}: {k.unit_in(lang)}; "
                f"{w('direction')}: {w(k.direction)}",
                f"- {w('time')}: {k.time}; {w('dims')}: {', '.join(k.dimensions) or '—'}",
                f"- {w('source')}: {k.source}; {w('legal')}: {k.legal_basis}", "",
                f"**{_Rules(lang)['rules']}.**", "", *[f"- {a}: {r}" for a, r in reading_rules(code, lang)], ""]
        targets = reg.targets_for(code)
        out.append(f"**{w('targets')}:** {'' if targets else w('none')}")
        if targets:
            out += ["", w("target_cols"), "|---|---|---|---|---|---|"]
            for tg in targets:
                b = tg.baseline
                base = "" if b is None else (str(b.period) if b.period else
                                             (f"{b.start}..{b.end}" if b.start else f"{b.value} ({b.date})"))
                scope = ", ".join(x for x in (tg.unit_code, str(tg.year) if tg.year else None) if x) or "—"
                doc = localised(tg, "document_vi", lang)
                out.append(f"| {tg.comparison} {tg.value:g} | {tg.deadline} | {base} | {doc} | {tg.accountable_unit} | {scope} |")
        out += ["", "```sql", explain(code, periods=EXAMPLE_PERIOD, now=EXAMPLE_NOW).strip(), "```", ""]
    out += [f"## {w('measures')}", "", "| measure | kind | time | filter / condition |", "|---|---|---|---|"]
    for name, m in reg.measures.items():
        cond = m.at or m.filter or ""
        if m.kind == "stock":
            cond = f"{m.filter} AND {m.at} (enters {'/'.join(m.enters)}, leaves {'/'.join(m.leaves)})"
        elif m.kind == "current":
            cond = f"{m.filter} AND {m.at}"
        elif m.kind == "staff_days":
            cond = f"sum over working days (calendar) before T of indicator {m.indicator} in force"
        elif m.kind == "unit_median":
            cond = f"median over the city's staffed units of {m.ratio[0]} / {m.ratio[1]}"
        expr = f"{m.agg}({m.expr})" if m.expr else ""
        out.append(f"| `{name}` | {m.kind} | {m.time or 'T'} | {expr} {('`' + cond + '`') if cond else ''} |")
    lay = reg.index766
    out += ["", f"## {w('index')}", "", f"{localised(lay, 'name_vi', lang)} ({lay.legal_basis}). {w('index_note')}",
            "", "| group | KPI | threshold | max points |", "|---|---|---|---|"]
    for g in lay.groups:
        for c in g.components:
            thr = "points" if c.points else f"{c.threshold:g} %"
            out.append(f"| {g.group}. {localised(g, 'name_vi', lang)} ({g.points:g}) | `{c.kpi}` | {thr} | {c.max_points:g} |")
    return "\n".join(out) + "\n"


def write_dictionary(path: Path | str, lang: str = "vi") -> Path:
    """Write the metric dictionary to `path` (folders created); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(metric_dictionary(lang), encoding="utf-8")
    return p

"""The metric dictionary (Markdown), generated from the registries: definition, formula, SQL, targets, source."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .engine import explain
from .registry import KpiType, Registry, get_registry

# The SQL shown is for one fixed past month, so the dictionary does not change from day to day.
EXAMPLE_PERIOD, EXAMPLE_NOW = "2026-03", datetime(2026, 4, 1, 0, 0)

TEXT = {
    "vi": {
        "title": "Từ điển chỉ tiêu (tạo tự động từ metrics/definitions)",
        "intro": [
            "Giá trị của chỉ tiêu % nằm trong 0..100. Mẫu số bằng 0 hoặc không có dữ liệu: N/A (không bao giờ là 0 %).",
            "Kỳ là khoảng ngày [bắt đầu, kết thúc). Thời điểm đánh giá T = min(cuối kỳ, hiện tại): hồ sơ đang giải "
            "quyết và quá hạn được đếm tại T.",
            f"SQL dưới đây là định nghĩa trên dữ liệu gốc (bảng dossiers), ví dụ cho kỳ {EXAMPLE_PERIOD}; "
            "đường nhanh (bảng tổng hợp) được kiểm thử cho kết quả giống hệt.",
        ],
        "def": "Định nghĩa", "formula": "Công thức", "type": "Loại", "unit": "Đơn vị", "direction": "Chiều tốt",
        "higher": "càng cao càng tốt", "lower": "càng thấp càng tốt", "time": "Mốc thời gian", "dims": "Chiều phân tích",
        "legal": "Căn cứ", "source": "Nguồn", "targets": "Mục tiêu", "none": "không có", "measures": "Đại lượng",
        "index": "Bộ chỉ số Quyết định 766",
        "index_note": "Bố cục này xấp xỉ danh mục đầy đủ hơn của Quyết định 766: chỉ gồm các thành phần mà dữ liệu hồ sơ, "
                      "danh mục thủ tục và nguồn chỉ tiêu cung cấp được.",
        "target_cols": "| Giá trị | Hạn | Kỳ gốc | Văn bản | Đơn vị chịu trách nhiệm | Phạm vi |",
    },
    "en": {
        "title": "Metric dictionary (generated from metrics/definitions)",
        "intro": [
            "Values of % KPIs are in 0..100. A zero denominator or no data is N/A (never 0 %).",
            "A period is a date range [start, end). The judgement time T = min(end of period, now): dossiers in "
            "flight and overdue are counted at T.",
            f"The SQL below is the definition over raw rows (table dossiers), shown for the period {EXAMPLE_PERIOD}; "
            "the fast path (aggregate tables) is tested to give identical results.",
        ],
        "def": "Definition", "formula": "Formula", "type": "Type", "unit": "Unit", "direction": "Better when",
        "higher": "higher", "lower": "lower", "time": "Time dimension", "dims": "Dimensions", "legal": "Legal basis",
        "source": "Source", "targets": "Targets", "none": "none", "measures": "Measures",
        "index": "Decision 766 index",
        "index_note": "This layout approximates Decision 766's fuller list of components: it keeps those the dossier "
                      "data, the procedure catalogue and the indicator feed can feed.",
        "target_cols": "| Value | Deadline | Baseline | Document | Accountable unit | Scope |",
    },
}


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


def metric_dictionary(lang: str = "vi") -> str:
    """The whole dictionary as Markdown: every KPI, the measures it is built from, and the 766 index layout."""
    reg = get_registry()
    t = TEXT[lang]
    out = [f"# {t['title']}", "", *[f"- {line}" for line in t["intro"]], ""]
    for code, k in reg.kpis.items():
        out += [f"## `{code}` — {k.name(lang)}", "", f"**{t['def']}.** {k.description(lang)}", "",
                f"- {t['formula']}: {formula_text(reg, code)}",
                f"- {t['type']}: {k.type.value}; {t['unit']}: {k.unit if lang == 'vi' else k.unit_en}; "
                f"{t['direction']}: {t[k.direction]}",
                f"- {t['time']}: {k.time}; {t['dims']}: {', '.join(k.dimensions) or '—'}",
                f"- {t['source']}: {k.source}; {t['legal']}: {k.legal_basis}", ""]
        targets = reg.targets_for(code)
        out.append(f"**{t['targets']}:** {'' if targets else t['none']}")
        if targets:
            out += ["", t["target_cols"], "|---|---|---|---|---|---|"]
            for tg in targets:
                b = tg.baseline
                base = "" if b is None else (str(b.period) if b.period else
                                             (f"{b.start}..{b.end}" if b.start else f"{b.value} ({b.date})"))
                scope = ", ".join(x for x in (tg.unit_code, str(tg.year) if tg.year else None) if x) or "—"
                doc = tg.document_vi if lang == "vi" else tg.document_en
                out.append(f"| {tg.comparison} {tg.value:g} | {tg.deadline} | {base} | {doc} | {tg.accountable_unit} | {scope} |")
        out += ["", "```sql", explain(code, periods=EXAMPLE_PERIOD, now=EXAMPLE_NOW).strip(), "```", ""]
    out += [f"## {t['measures']}", "", "| measure | kind | time | filter / condition |", "|---|---|---|---|"]
    for name, m in reg.measures.items():
        cond = m.at or m.filter or ""
        if m.kind == "stock":
            cond = f"{m.filter} AND {m.at} (enters {'/'.join(m.enters)}, leaves {'/'.join(m.leaves)})"
        elif m.kind == "current":
            cond = f"{m.filter} AND {m.at}"
        expr = f"{m.agg}({m.expr})" if m.expr else ""
        out.append(f"| `{name}` | {m.kind} | {m.time or 'T'} | {expr} {('`' + cond + '`') if cond else ''} |")
    lay = reg.index766
    out += ["", f"## {t['index']}", "", f"{lay.name_vi if lang == 'vi' else lay.name_en} ({lay.legal_basis}). {t['index_note']}",
            "", "| group | KPI | threshold | max points |", "|---|---|---|---|"]
    for g in lay.groups:
        for c in g.components:
            thr = "points" if c.points else f"{c.threshold:g} %"
            out.append(f"| {g.group}. {g.name_vi if lang == 'vi' else g.name_en} ({g.points:g}) | `{c.kpi}` | {thr} | {c.max_points:g} |")
    return "\n".join(out) + "\n"


def write_dictionary(path: Path | str, lang: str = "vi") -> Path:
    """Write the metric dictionary to `path` (folders created); returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(metric_dictionary(lang), encoding="utf-8")
    return p

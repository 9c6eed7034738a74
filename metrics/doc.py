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


RULES = {
    "vi": {
        "received_date": "Nhóm hồ sơ: theo ngày tiếp nhận (hồ sơ tiếp nhận trong kỳ, kể cả hồ sơ sau đó bị rút).",
        "finished_date": "Nhóm hồ sơ: theo ngày kết thúc (hồ sơ hoàn thành, trả kết quả hoặc từ chối trong kỳ; "
                         "hồ sơ rút không bao giờ kết thúc).",
        "snapshot": "Đếm tại thời điểm đánh giá T: cuối kỳ với kỳ đã qua, hiện tại với kỳ đang diễn ra.",
        "catalogue": "Danh mục thủ tục tại thời điểm đánh giá của kỳ, theo lịch sử mức độ trực tuyến của từng thủ tục.",
        "indicator": "Số liệu công bố của kỳ; lần công bố sau thay thế lần trước (vẫn lưu, có đánh dấu sửa đổi).",
        "net": "Số ngày làm việc sau ngày tiếp nhận đến hết ngày kết thúc, trừ số ngày chờ công dân bổ sung "
               "(thời gian của cơ quan giải quyết).",
        "due": "Hạn trả được lùi thêm số ngày chờ bổ sung.",
        "supp": "Quá 1 lần yêu cầu bổ sung tính là trễ hạn.",
        "withdrawn": "Hồ sơ rút trước T không tính; hồ sơ rút sau T là đang giải quyết tại T (kỳ đã đóng không đổi).",
        "waiting": "Hồ sơ đang chờ công dân bổ sung không tính là quá hạn, ở mọi thời điểm đánh giá.",
        "small": "Tỷ lệ trên ít hơn {n} {what} được đánh dấu “ít dữ liệu”: không đánh giá tiến độ, không tô màu, "
                 "xếp riêng.",
        "what_ratings": "lượt đánh giá", "what_dossiers": "hồ sơ",
        "partial": "Kỳ chưa kết thúc được hiển thị là tạm tính, không bao giờ dùng để đánh giá tiến độ.",
        "rules": "Cách tính",
    },
    "en": {
        "received_date": "Cohort: by receipt date (dossiers received in the period, withdrawn ones included).",
        "finished_date": "Cohort: by finish date (dossiers completed, returned or rejected in the period; a "
                         "withdrawn dossier never finishes).",
        "snapshot": "Counted at the judgement time T: the end of a past period, now for the current one.",
        "catalogue": "The procedure catalogue as of the period's judgement time, from each procedure's level history.",
        "indicator": "The period's published figure; a later publication replaces an earlier one (kept, marked revised).",
        "net": "Working days after the receipt day up to the finish day, minus the days waiting for the citizen's "
               "supplement (the office's time).",
        "due": "The due time is pushed back by the supplement waiting days.",
        "supp": "More than one supplement request counts as late.",
        "withdrawn": "Dossiers withdrawn before T do not count; one withdrawn after T was in flight at T (a closed "
                     "period does not change).",
        "waiting": "Dossiers waiting for the citizen's supplement are not overdue, at every judgement time.",
        "small": "A rate over fewer than {n} {what} is marked “few data”: not judged, not coloured, ranked apart.",
        "what_ratings": "ratings", "what_dossiers": "dossiers",
        "partial": "A period not yet over is shown as to date and never judged.",
        "rules": "How it counts",
    },
}


def reading_rules(code: str, lang: str = "vi") -> list[str]:
    """How a KPI counts, in words, from its declaration: cohort, net supplement days, withdrawn and
    waiting dossiers, the small-n rule. The dictionary and the KPI page show these."""
    from .evaluate import measures_for

    reg = get_registry()
    k, w = reg.kpi(code), RULES[lang]
    if k.type == KpiType.CATALOGUE:
        return [w["catalogue"], w["partial"]]
    if k.type == KpiType.INDICATOR:
        return [w["indicator"]]
    used = [reg.measures[m] for m in measures_for(reg, [code])]
    out = [w[k.time]] if k.type != KpiType.DERIVED else []
    if k.type == KpiType.DERIVED:
        out += sorted({w[reg.kpis[d].time] for d in _inputs(reg, code)})
    if any("processing_wd" in (m.expr or "") for m in used):
        out.append(w["net"])
    if any("effective_due_at" in (m.at or "") + (m.filter or "") for m in used):
        out.append(w["due"])
    if any("supplement_count <= 1" in (m.filter or "") for m in used):
        out.append(w["supp"])
    if any(m.kind == "stock" for m in used):
        out.append(w["withdrawn"])
    if any(m.kind == "stock" and "supplement_requested" in (m.filter or "") for m in used):
        out.append(w["waiting"])
    if k.min_n:
        rated = any((m.filter or "").startswith("rating") for m in used)
        out.append(w["small"].format(n=k.min_n, what=w["what_ratings" if rated else "what_dossiers"]))
    out.append(w["partial"])
    return out


def _inputs(reg: Registry, code: str) -> set[str]:
    from .evaluate import dependency_order

    return {c for c in dependency_order(reg, [code]) if reg.kpis[c].type != KpiType.DERIVED}


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
                f"- {t['source']}: {k.source}; {t['legal']}: {k.legal_basis}", "",
                f"**{RULES[lang]['rules']}.**", "", *[f"- {r}" for r in reading_rules(code, lang)], ""]
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

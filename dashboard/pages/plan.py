"""The plan (issue 12): the city's Resolution 57 implementation plan — its 20 task groups with progress and
status, the late and at-risk tasks first with who owns them, each task a link to its drill-down.

URL: /plan
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, html

from presentation.words import localised

from .. import data, ids
from ..components import empty_state, section
from ..i18n import lang_of, request_lang, t
from . import plan_parts as parts
from . import title

dash.register_page(__name__, path="/plan", name="Kế hoạch", title=title("nav_plan"), order=9)


def layout(**_):
    lang = request_lang()
    return html.Div([
        html.H1(t("pl_title", lang), id="pl-title", className="page-title"),
        html.P(t("pl_note", lang), id="pl-note", className="muted"),
        html.Div(id="pl-body", **{"aria-live": "polite"}),
    ], className="page page-plan")


def group_block(g: dict, tasks: list[dict], lang: str) -> html.Details:
    """One task group: its status, progress and counts in the summary; its tasks (worst first) inside."""
    c = g["counts"]
    pct = g.get("percent")
    summary = html.Summary([
        html.Span(g["code"], className="pl-gcode"),
        html.Span(localised(g, "name_vi", lang), className="pl-gname"),
        parts.badge(g["status"], lang),
        parts.progress_bar(pct, lang, t("pl_group_progress", lang, group=g["code"])),
        html.Span(t("pl_group_counts", lang, n=g["tasks"], late=c["late"], at_risk=c["at_risk"], done=c["done"],
                    percent="—" if pct is None else f"{pct:.0f}"), className="pl-gcounts"),
    ], className="pl-gsummary")
    return html.Details([summary, parts.task_table(parts.worst_first(tasks), lang, f"pl-group-{g['code']}",
                                                   t("pl_group_tasks", lang, group=g["code"]))],
                        className=f"pl-group pl-group-{g['status']}", id=f"pl-g-{g['code']}")


def body(con, lang: str, now) -> list:
    plan = parts.evaluated(con, now)
    if plan is None:
        return [empty_state(t("plan.none", lang), "info")]
    tasks = plan["tasks"]
    attention = parts.worst_first([x for x in tasks if x["status"] in ("late", "at_risk")])
    out = []
    if plan.get("demo"):
        out.append(empty_state(t("pl_demo", lang), "warning"))
    out.append(html.Div([html.P(t("pl_summary", lang, groups=len(plan["groups"]), tasks=len(tasks),
                                  date=parts.fmt.day(now)), className="pl-summary"),
                         parts.counts_line(tasks, lang), parts.downloads(lang)], className="panel mb-3"))
    out.append(section(t("pl_attention", lang, n=len(attention)),
                       parts.task_table(attention, lang, "pl-attention", t("pl_attention_caption", lang))
                       if attention else empty_state(t("pl_attention_none", lang)), title_id="pl-attention-title"))
    out.append(section(t("pl_groups", lang, n=len(plan["groups"])), html.Div(
        [group_block(g, [x for x in tasks if x["group_code"] == g["code"]], lang) for g in plan["groups"]],
        className="pl-groups"), title_id="pl-groups-title"))
    return out


@callback(Output("pl-title", "children"), Output("pl-note", "children"), Output("pl-body", "children"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def fill(lang, _version):
    lang = lang_of(lang)
    now = data.local_now()
    return t("pl_title", lang), t("pl_note", lang), parts.safely(lang, lambda con: body(con, lang, now))


"""One dossier (the ward page's action lists link here): its ids, unit, procedure, channel, dates in Hanoi
time, status, supplement days, and the history of its stored versions (metrics.dossier.dossier_detail: the
versions an upsert replaced, from the warehouse's dossier_changes). Never personal data: the warehouse holds
none. Scoped: another unit's dossier gives the out-of-scope explanation, an unknown id the not-found one.
Each view is audited (dossier_view).

URL: /dossier?id=<dossier id>
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from access import roles as access_roles
from access import web as access_web
from metrics.dossier import dossier_detail

from .. import data, fmt, ids
from ..callbacks import render
from ..components import empty_state, out_of_scope, section
from ..i18n import lang_of, request_lang, t
from . import title

dash.register_page(__name__, path="/dossier", name="Hồ sơ", title=title("do_page"), order=9)

OPEN = ("received", "processing", "supplement_requested")


def layout(id: str | None = None, **_):  # noqa: A002  (the address's ?id=)
    lang = request_lang()
    return html.Div([
        html.H1(t("do_page", lang), id=ids.DO_TITLE, className="page-title"),
        html.Div(id=ids.DO_BODY),
        dcc.Store(id=ids.DO_ID, data=id if isinstance(id, str) else None),
    ], className="page page-dossier")


def when(value) -> str:
    """'16/03/2026 09:05' (dd/mm/yyyy HH:MM, Hanoi time); '' when missing."""
    if value is None or fmt.is_na(value):
        return ""
    return f"{fmt.day(value)} {fmt.clock(value)}"


def status_text(status: str | None, lang: str) -> str:
    return t(f"dossier_{status}", lang) if status else ""


def _facts(f: dict, lang: str) -> html.Dl:
    names = data.procedure_names(lang)
    proc = f["procedure_code"]
    rows = [
        ("do_id", f["dossier_id"]),
        ("do_unit", f"{data.unit_name(f['unit_code'], lang)} ({f['unit_code']})"),
        ("do_procedure", f"{names.get(proc, proc)} ({proc})"),
        ("do_channel", t(f"channel_{f['channel']}", lang) if f.get("channel") else ""),
        ("do_status", status_text(f.get("status"), lang)),
        ("do_received", when(f.get("received_at"))),
        ("do_due", when(f.get("due_at"))),
        ("do_effective_due", when(f.get("effective_due_at"))),
        ("do_completed", when(f.get("completed_at")) or t("do_not_completed", lang)),
        ("do_supplement", t("do_supplement_value", lang, times=f.get("supplement_count") or 0,
                            days=f.get("supplement_days") or 0)),
        ("do_processing", "" if f.get("processing_wd") is None else
         t("do_working_days", lang, n=fmt.number(f["processing_wd"], 0, lang), count=int(f["processing_wd"]))),
        ("do_updated", when(f.get("updated_at"))),
        ("do_loaded", when(f.get("loaded_at"))),
    ]
    items = []
    for key, value in rows:
        if value == "":
            continue
        items += [html.Dt(t(key, lang)), html.Dd(value, id=f"do-{key[3:]}")]
    return html.Dl(items, className="defs")


def _history(d, lang: str) -> html.Div:
    f = d.fields
    names = data.procedure_names(lang)

    def unit(code):
        return f"{data.unit_name(code, lang)} ({code})" if code else t("do_other_unit", lang)

    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("do_h_version", "do_h_unit", "do_h_procedure",
                                                             "do_h_received", "do_h_finished", "do_h_due")]))
    current = html.Tr([html.Td(t("do_h_current", lang, time=when(f.get("loaded_at")))),
                       html.Td(unit(f["unit_code"])), html.Td(names.get(f["procedure_code"], f["procedure_code"])),
                       html.Td(fmt.day(f.get("received_at"))),
                       html.Td(fmt.day(f.get("completed_at")) if f.get("status") not in OPEN else ""),
                       html.Td(when(f.get("effective_due_at")))], className="history-current")
    older = [html.Tr([html.Td(t("do_h_replaced", lang, time=when(h.get("replaced_at")))), html.Td(unit(h["unit_code"])),
                      html.Td(names.get(h["procedure_code"], h["procedure_code"])), html.Td(fmt.day(h["received_date"])),
                      html.Td(fmt.day(h["finished_date"])), html.Td(when(h["effective_due_at"]))])
             for h in d.history]
    note = t("do_history_note", lang) if d.history else t("do_history_none", lang)
    return html.Div([html.P(note, className="note"),
                     html.Div(html.Table([head, html.Tbody([current, *older])], className="kpi-table history-table"),
                              className="table-scroll")])


@callback(Output(ids.DO_TITLE, "children"), Output(ids.DO_BODY, "children"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"), Input(ids.DO_ID, "data"))
def fill(lang, _version, dossier_id):
    lang = lang_of(lang)
    dossier_id = dossier_id if isinstance(dossier_id, str) else None
    if not dossier_id:
        return t("do_page", lang), empty_state(t("do_no_id", lang))
    if not data.viewer().may(access_roles.DOSSIER_LISTS):
        return t("do_page", lang), empty_state(t("dossier_lists_no_right", lang), "warning")

    def build(con):
        d = dossier_detail(con, dossier_id)
        if d.state == "out_of_scope":  # another unit's dossier: the explanation, nothing of it (issue 10)
            access_web.audit("dossier_view", outcome="denied", target=dossier_id[:120])
            return t("do_page", lang), html.Div([out_of_scope(lang),
                                                 html.P(dcc.Link(t("auth_own_unit", lang), href="/ward"))])
        if d.state != "ok":
            return t("do_page", lang), html.Div([empty_state(t("do_not_found", lang), "warning"),
                                                 html.P(dcc.Link(t("do_back", lang), href="/ward"))])
        access_web.audit("dossier_view", target=d.dossier_id)
        f = d.fields
        back = dcc.Link(t("do_back_unit", lang, unit=data.unit_name(f["unit_code"], lang)),
                        href=f"/ward?unit={f['unit_code']}", id="do-back")
        return (t("do_title", lang, id=d.dossier_id),
                html.Div([html.P(back), section(t("do_facts", lang), _facts(f, lang), class_name="mb-3"),
                          section(t("do_history", lang), _history(d, lang))]))

    return render(lang, build, lambda s: (t("do_page", lang), s))

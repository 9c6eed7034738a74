"""The audit log (administrators): who signed in, looked at dossier lists, downloaded, made reports, used a
token or changed an account — when (Hanoi time), what, scope and address. Read from the application
database (access.audit), newest first; append-only, nothing here edits it.

URL: /audit
"""

from __future__ import annotations

import json

import dash
from dash import Input, Output, callback, html

from access import audit as audit_store
from access import roles as access_roles
from access import web as access_web

from .. import data, ids
from ..components import empty_state, grid, section
from ..i18n import lang_of, request_lang, t
from . import title

dash.register_page(__name__, path="/audit", name="Nhật ký truy cập", title=title("nav_audit"), order=7)

GRID = "au-grid"
LIMIT = 1000


def columns(lang: str) -> list[dict]:
    return [
        {"field": "at", "headerName": t("au_col_at", lang), "width": 170, "sort": "desc"},
        {"field": "actor", "headerName": t("au_col_actor", lang), "minWidth": 150, "flex": 1},
        {"field": "action", "headerName": t("au_col_action", lang), "minWidth": 150, "flex": 1},
        {"field": "outcome", "headerName": t("au_col_outcome", lang), "width": 110},
        {"field": "target", "headerName": t("au_col_target", lang), "minWidth": 180, "flex": 2},
        {"field": "scope", "headerName": t("au_col_scope", lang), "width": 130},
        {"field": "client", "headerName": t("au_col_client", lang), "width": 130},
        {"field": "detail", "headerName": t("au_col_detail", lang), "minWidth": 200, "flex": 2, "tooltipField": "detail"},
    ]


def rows() -> list[dict]:
    out = []
    for e in audit_store.events(access_web.state().db, limit=LIMIT):
        at = str(e.get("at") or "")
        out.append({"at": f"{at[8:10]}/{at[5:7]}/{at[:4]} {at[11:19]}" if len(at) >= 19 else at,
                    "actor": e.get("actor"), "action": e.get("action"), "outcome": e.get("outcome"),
                    "target": e.get("target") or "", "scope": e.get("scope") or "", "client": e.get("client") or "",
                    "detail": json.dumps(e["detail"], ensure_ascii=False) if e.get("detail") else ""})
    return out


def layout(**_):
    lang = request_lang()
    return html.Div([
        html.H1(t("au_title", lang), id="au-title", className="page-title"),
        html.P(t("au_note", lang), id="au-note", className="muted"),
        html.Div(id="au-body"),
    ])


@callback(Output("au-title", "children"), Output("au-note", "children"), Output("au-body", "children"),
          Input(ids.LANG, "data"), Input(ids.VERSION, "data"))
def fill(lang, _version):
    lang = lang_of(lang)
    if not data.viewer().may(access_roles.AUDIT):
        return t("au_title", lang), "", empty_state(t("au_no_right", lang), "warning")
    if not access_web.guarded() or not access_web.state().settings.auth_enabled:
        return t("au_title", lang), t("au_note", lang), empty_state(t("au_auth_off", lang), "warning")
    body = section(t("au_title", lang), grid(GRID, lang, height="640px", rowData=rows(), columnDefs=columns(lang)))
    return t("au_title", lang), t("au_note", lang), body

"""Alerts (issue 11): the signed-in user's in-app notifications (newest first, 'Đánh dấu đã đọc'), their alert
rules (list, add one from a form within their scope, remove), and the delivery log (sent, failed, why) — an
administrator's log holds every user's deliveries, anyone else's their own.

Everything is read from and written to the application database through alerts.store; the store refuses a
unit outside the account's scope (a ward user cannot subscribe to another ward), and the page says why. The
rules are evaluated and delivered by the scheduler process, never here.

URL: /alerts
"""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlsplit

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

import config
from access import roles as access_roles
from access import web as access_web

from .. import data, fmt, ids
from ..components import empty_state, grid, unit_options
from ..i18n import lang_of, request_lang, t
from . import title

dash.register_page(__name__, path="/alerts", name="Cảnh báo", title=title("nav_alerts"), order=8)

# which fields of the form each rule reads (the others are hidden and sent as nothing)
FIELDS = {"status_change": {"unit", "kpi"}, "threshold": {"unit", "kpi", "threshold"},
          "overdue": {"unit", "threshold", "days"}, "escalation": {"unit", "days"}, "due_soon": {"unit", "days"},
          "data_stale": {"unit", "days"}, "ingest_failed": set(), "report_ready": {"unit"}}
CHANNELS = ("inapp", "email", "webhook")
NOTIFICATIONS = 50
DELIVERIES = 500
HIDDEN = {"display": "none"}


def _store():
    from alerts import store

    return store


def rule_names() -> tuple[str, ...]:
    return tuple(_store().RULES)


def _username() -> str | None:
    """The signed-in account's name; None with sign-in off (the developer has no account) or for a token."""
    v = data.viewer()
    return v.name if v.kind == "user" else None


def _available() -> bool:
    return access_web.guarded() and access_web.state().settings.auth_enabled and _username() is not None


def _field(label_id: str, label_key: str, control, lang: str, field_id: str, wide: bool = False):
    return html.Div([html.Label(t(label_key, lang), id=label_id, htmlFor=control.id, className="control-label"),
                     control], className="control" + (" control-wide" if wide else ""), id=field_id)


def _form(lang: str) -> html.Div:
    v = data.viewer()
    rules = rule_names()
    return html.Div([
        html.Div([
            _field(ids.AL_RULE_LABEL, "al_f_rule", dcc.Dropdown(
                id=ids.AL_RULE, value="due_soon", clearable=False, searchable=False,
                options=[{"label": t(f"alert.rule_{r}", lang), "value": r} for r in rules]), lang, "al-f-rule", True),
            _field(ids.AL_UNIT_LABEL, "al_f_unit", dcc.Dropdown(
                id=ids.AL_UNIT, value=v.home_unit, clearable=True, placeholder=t("al_f_unit_all", lang),
                options=unit_options(data.units(), lang)), lang, "al-f-unit", True),
            _field(ids.AL_KPI_LABEL, "al_f_kpi", dcc.Dropdown(
                id=ids.AL_KPI, value=None, clearable=True, placeholder=t("al_f_kpi_any", lang),
                options=[{"label": data.kpi_name(c, lang), "value": c} for c in data.visible_codes()]),
                lang, "al-f-kpi", True),
            _field(ids.AL_THRESHOLD_LABEL, "al_f_threshold", dcc.Input(
                id=ids.AL_THRESHOLD, type="number", value=None, className="form-control", debounce=True),
                lang, "al-f-threshold"),
            _field(ids.AL_DAYS_LABEL, "al_f_days", dcc.Input(
                id=ids.AL_DAYS, type="number", min=0, max=3650, step=1, value=2, className="form-control",
                debounce=True), lang, "al-f-days"),
        ], className="filters controls al-form-row"),
        html.Div([
            html.Div([html.Span(t("al_f_channel", lang), id=ids.AL_CHANNEL_LABEL, className="control-label"),
                      dbc.RadioItems(id=ids.AL_CHANNEL, value="inapp", inline=True, className="btn-group",
                                     inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-sm",
                                     labelCheckedClassName="active",
                                     options=[{"label": t(f"al_channel_{c}", lang), "value": c} for c in CHANNELS])],
                     className="control", role="group", **{"aria-labelledby": ids.AL_CHANNEL_LABEL}),
            _field(ids.AL_TARGET_LABEL, "al_f_target", dcc.Input(
                id=ids.AL_TARGET, type="text", value="", className="form-control", debounce=False,
                placeholder=t("al_f_target_hint", lang)), lang, "al-f-target", True),
            html.Div(dbc.Button(t("al_add", lang), id=ids.AL_ADD, n_clicks=0, color="primary", size="sm"),
                     className="control control-button"),
        ], className="filters controls al-form-row"),
        html.P(t("al_f_help_due_soon", lang), id="al-f-help", className="note"),
        html.Div(id=ids.AL_MESSAGE, className="rp-message", role="status", **{"aria-live": "polite"}),
    ], className="al-form")


def layout(**_):
    lang = request_lang()
    if not _available():
        return html.Div([html.H1(t("nav_alerts", lang), id=ids.AL_TITLE, className="page-title"),
                         empty_state(t("al_need_sign_in", lang), "info")], className="page page-alerts")
    return html.Div([
        html.H1(t("nav_alerts", lang), id=ids.AL_TITLE, className="page-title"),
        html.Section([
            html.Div([html.H2(t("al_notifs", lang), id=ids.AL_NOTIFS_TITLE, className="section-title"),
                      dbc.Button(t("al_mark_read", lang), id=ids.AL_MARK_READ, n_clicks=0, color="secondary",
                                 outline=True, size="sm")], className="section-head"),
            html.Div(id=ids.AL_NOTIFS)], className="panel mb-3"),
        html.Section([
            html.Div([html.H2(t("al_rules", lang), id=ids.AL_RULES_TITLE, className="section-title"),
                      dbc.Button(t("al_remove", lang), id=ids.AL_REMOVE, n_clicks=0, color="danger", outline=True,
                                 size="sm")], className="section-head"),
            grid(ids.AL_RULES, lang, height=None, page_size=10, getRowId="params.data.id",
                 dashGridOptions={"rowSelection": {"mode": "singleRow", "checkboxes": True,
                                                   "enableClickSelection": True}}),
            html.H3(t("al_form", lang), id=ids.AL_FORM_TITLE, className="sub-title"),
            _form(lang)], className="panel mb-3"),
        html.Section([
            html.H2(t("al_log", lang), id=ids.AL_LOG_TITLE, className="section-title"),
            html.P(id="al-log-note", className="note"),
            grid(ids.AL_LOG, lang, height=None, page_size=15, getRowId="params.data.id")], className="panel mb-3"),
    ], className="page page-alerts")


# --- what the lists show ---------------------------------------------------------------------------------

def when(iso: str | None) -> str:
    """'16/03/2026 07:30' from the store's Hanoi ISO time."""
    if not iso:
        return ""
    return f"{fmt.day(iso[:10])} {iso[11:16]}"


def channel_text(channel: str | None, lang: str) -> str:
    """'Trong ứng dụng', 'E-mail: a@b.vn', 'Webhook: hooks.example.vn' (a webhook's host only: its path and
    query may carry a secret)."""
    kind, _, target = (channel or "").partition(":")
    if kind == "webhook":
        target = urlsplit(target).hostname or ""
    return t(f"al_channel_{kind}", lang) + (f": {target}" if target else "") if kind in CHANNELS else (channel or "")


def _hanoi(t):
    """A stored time (UTC; SQLite gives it back naive) in Hanoi wall-clock time."""
    if t is None:
        return None
    return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).astimezone(config.TZ).replace(tzinfo=None)


def unit_text(code: str | None, lang: str) -> str:
    return t("al_f_unit_all", lang) if not code else f"{data.unit_name(code, lang)} ({code})"


def _local_link(link: str | None) -> str | None:
    """A notification's link as a path inside the dashboard ('https://r57.hanoi.gov.vn/ward?unit=00073' ->
    '/ward?unit=00073'): messages carry the public address (R57_PUBLIC_URL), the page links within itself."""
    if not link or not isinstance(link, str):
        return None
    parts = urlsplit(link)
    if parts.scheme not in ("", "http", "https") or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def notification_list(rows: list[dict], lang: str):
    if not rows:
        return empty_state(t("al_notifs_none", lang))
    items = []
    for n in rows:
        href = _local_link(n.get("link"))
        head = (dcc.Link(n["title"], href=href, className="al-n-title") if href
                else html.Span(n["title"], className="al-n-title"))
        items.append(html.Li([
            html.Div([html.Span(t("al_unread", lang), className="al-n-new") if not n["read"] else None, head,
                      html.Span(when(n.get("created_at")), className="al-n-time")], className="al-n-head"),
            html.Div(n.get("body") or "", className="al-n-body"),
        ], className="al-n" + ("" if n["read"] else " al-n-unread")))
    return html.Ul(items, className="al-notifs")


def rule_columns(lang: str) -> list[dict]:
    return [
        {"field": "rule_label", "headerName": t("al_col_rule", lang), "minWidth": 200, "flex": 2},
        {"field": "unit", "headerName": t("al_col_unit", lang), "minWidth": 200, "flex": 2},
        {"field": "kpi", "headerName": t("al_col_kpi", lang), "minWidth": 160, "flex": 1},
        {"field": "threshold", "headerName": t("al_col_threshold", lang), "width": 110, "type": "numericColumn"},
        {"field": "days", "headerName": t("al_col_days", lang), "width": 90, "type": "numericColumn"},
        {"field": "channel", "headerName": t("al_col_channel", lang), "minWidth": 160, "flex": 1},
        {"field": "enabled", "headerName": t("al_col_enabled", lang), "width": 110},
        {"field": "created", "headerName": t("al_col_created", lang), "width": 150},
    ]


def rule_rows(rules, lang: str) -> list[dict]:
    out = []
    for r in rules:
        created = _hanoi(r.created_at)
        out.append({"id": r.id, "rule": r.rule, "rule_label": t(f"alert.rule_{r.rule}", lang),
                    "unit": unit_text(r.unit, lang), "kpi": data.kpi_name(r.kpi, lang) if r.kpi else "",
                    "threshold": r.threshold, "days": r.days, "channel": channel_text(r.channel, lang),
                    "enabled": t("al_on", lang) if r.enabled else t("al_off", lang),
                    "created": f"{fmt.day(created)} {fmt.clock(created)}" if created else ""})
    return out


def log_columns(lang: str, every_user: bool) -> list[dict]:
    cols = [{"field": "at", "headerName": t("al_col_at", lang), "width": 150},
            *([{"field": "username", "headerName": t("al_col_user", lang), "width": 130}] if every_user else []),
            {"field": "rule_label", "headerName": t("al_col_rule", lang), "minWidth": 170, "flex": 1},
            {"field": "unit", "headerName": t("al_col_unit", lang), "minWidth": 170, "flex": 1},
            {"field": "channel", "headerName": t("al_col_channel", lang), "minWidth": 150, "flex": 1},
            {"field": "status_label", "headerName": t("al_col_status", lang), "width": 130,
             "cellRenderer": "StatusBadge"},
            {"field": "attempts", "headerName": t("al_col_attempts", lang), "width": 100, "type": "numericColumn"},
            {"field": "error", "headerName": t("al_col_error", lang), "minWidth": 220, "flex": 2,
             "tooltipField": "error"}]
    return cols


STATUS_ICON = {"sent": "achieved", "failed": "deteriorating", "retrying": "needs_acceleration", "suppressed": "partial"}


def log_rows(rows: list[dict], lang: str) -> list[dict]:
    return [{"id": d["id"], "at": when(d.get("at")), "username": d.get("username"),
             "rule_label": t(f"alert.rule_{d['rule']}", lang) if d.get("rule") else "",
             "unit": unit_text(d.get("unit"), lang) if d.get("unit") else "",
             "channel": channel_text(d.get("channel"), lang), "status": STATUS_ICON.get(d.get("status"), "no_data"),
             "status_label": t(f"alert.status_{d['status']}", lang) if d.get("status") in STATUS_ICON else
             str(d.get("status") or ""), "attempts": d.get("attempts"), "error": d.get("error") or ""}
            for d in rows]


# --- callbacks -------------------------------------------------------------------------------------------

@callback(Output(ids.AL_TITLE, "children"), Output(ids.AL_NOTIFS_TITLE, "children"), Output(ids.AL_NOTIFS, "children"),
          Output(ids.AL_MARK_READ, "children"), Output(ids.AL_MARK_READ, "disabled"),
          Output(ids.AL_RULES_TITLE, "children"), Output(ids.AL_RULES, "columnDefs"), Output(ids.AL_RULES, "rowData"),
          Output(ids.AL_REMOVE, "children"), Output(ids.AL_LOG_TITLE, "children"), Output("al-log-note", "children"),
          Output(ids.AL_LOG, "columnDefs"), Output(ids.AL_LOG, "rowData"),
          Input(ids.LANG, "data"), Input(ids.TICK, "n_intervals"), Input(ids.BELL_BUMP, "data"))
def fill(lang, _tick, _bump):
    """The user's notifications, rules and delivery log (an administrator's log: every user's)."""
    lang = lang_of(lang)
    name = _username()
    if not _available() or name is None:
        return (t("nav_alerts", lang), t("al_notifs", lang), empty_state(t("al_need_sign_in", lang)),
                t("al_mark_read", lang), True, t("al_rules", lang), rule_columns(lang), [], t("al_remove", lang),
                t("al_log", lang), "", log_columns(lang, False), [])
    store, db = _store(), access_web.state().db
    notes = store.notifications(db, name, limit=NOTIFICATIONS, lang=lang)  # in the reader's language
    every = data.viewer().may(access_roles.AUDIT)  # administrators read every user's deliveries
    log = store.deliveries(db, None if every else name, limit=DELIVERIES)
    unread = sum(1 for n in notes if not n["read"])
    return (t("nav_alerts", lang), t("al_notifs_n", lang, n=unread) if unread else t("al_notifs", lang),
            notification_list(notes, lang), t("al_mark_read", lang), unread == 0, t("al_rules", lang),
            rule_columns(lang), rule_rows(store.list_rules(db, name), lang), t("al_remove", lang), t("al_log", lang),
            t("al_log_all" if every else "al_log_own", lang), log_columns(lang, every), log_rows(log, lang))


@callback([Output(f, "style") for f in ("al-f-unit", "al-f-kpi", "al-f-threshold", "al-f-days", "al-f-target")]
          + [Output("al-f-help", "children"), Output(ids.AL_DAYS, "value")],
          Input(ids.AL_RULE, "value"), Input(ids.AL_CHANNEL, "value"), Input(ids.LANG, "data"),
          State(ids.AL_DAYS, "value"))
def form_fields(rule, channel, lang, days):
    """Only the fields the chosen rule reads; the address field for e-mail and webhook; the rule in words."""
    lang = lang_of(lang)
    used = FIELDS.get(rule, set())
    styles = [None if f in used else HIDDEN for f in ("unit", "kpi", "threshold", "days")]
    styles.append(None if channel in ("email", "webhook") else HIDDEN)
    default_days = 2 if rule == "due_soon" and dash.ctx.triggered_id == ids.AL_RULE and days is None else no_update
    return [*styles, t(f"al_f_help_{rule}", lang) if rule in FIELDS else "", default_days]


def _number(x, whole: bool = False):
    if x is None or x == "":
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError("number") from None
    if whole:
        if v != int(v):
            raise ValueError("number")
        return int(v)
    return v


@callback(Output(ids.AL_MESSAGE, "children"), Output(ids.BELL_BUMP, "data"),
          Input(ids.AL_ADD, "n_clicks"), Input(ids.AL_REMOVE, "n_clicks"), Input(ids.AL_MARK_READ, "n_clicks"),
          State(ids.LANG, "data"), State(ids.AL_RULE, "value"), State(ids.AL_UNIT, "value"), State(ids.AL_KPI, "value"),
          State(ids.AL_THRESHOLD, "value"), State(ids.AL_DAYS, "value"), State(ids.AL_CHANNEL, "value"),
          State(ids.AL_TARGET, "value"), State(ids.AL_RULES, "selectedRows"), State(ids.BELL_BUMP, "data"),
          prevent_initial_call=True)
def act(add, remove, mark, lang, rule, unit, kpi, threshold, days, channel, target, selected, bump):
    """Add a rule from the form, remove the selected rule, or mark every notification read; the store decides
    (scope, rule, channel) and the message says what happened or why not."""
    lang = lang_of(lang)
    name = _username()
    trigger = dash.ctx.triggered_id
    if not _available() or name is None:
        return t("al_need_sign_in", lang), no_update
    if not (dash.ctx.triggered and dash.ctx.triggered[0].get("value")):  # the buttons appearing, not a click
        return no_update, no_update
    store, db = _store(), access_web.state().db
    bumped = (bump or 0) + 1 if isinstance(bump, int) else 1
    if trigger == ids.AL_MARK_READ:
        n = store.mark_read(db, name)
        return t("al_marked", lang, n=n, count=n), bumped
    if trigger == ids.AL_REMOVE:
        rows = selected if isinstance(selected, list) else []
        rid = rows[0].get("id") if rows and isinstance(rows[0], dict) else None
        if not isinstance(rid, int):
            return t("al_remove_none", lang), no_update
        try:
            store.remove_rule(db, rid, actor=name, username=name)  # only the user's own rule
        except store.AlertError:
            return t("al_remove_none", lang), no_update
        return t("al_removed", lang), bumped
    if trigger != ids.AL_ADD:
        return no_update, no_update
    if rule not in FIELDS:
        return t("al_err_rule", lang), no_update
    used = FIELDS[rule]
    try:
        thr = _number(threshold) if "threshold" in used else None
        nd = _number(days, whole=True) if "days" in used else None
    except ValueError:
        return t("al_err_number", lang), no_update
    unit = unit if "unit" in used and isinstance(unit, str) and unit else None
    kpi = kpi if "kpi" in used and isinstance(kpi, str) and kpi else None
    chan = "inapp" if channel not in ("email", "webhook") else f"{channel}:{(target or '').strip()}"
    try:
        store.add_rule(db, username=name, rule=rule, unit=unit, kpi=kpi, threshold=thr, days=nd, channel=chan,
                       actor=name, settings=access_web.state().settings)
    except store.AlertError as exc:
        if unit is not None and not data.sees(unit):  # the store refused another unit: say so, never name it
            scope = ", ".join(data.unit_name(u, lang) for u in sorted(data.viewer().units)) or "—"
            return html.Span(t("al_err_scope", lang, scope=scope), className="text-danger"), no_update
        return html.Span(t("al_err", lang, reason=str(exc)), className="text-danger"), no_update
    return t("al_added", lang, rule=t(f"alert.rule_{rule}", lang), unit=unit_text(unit, lang)), bumped

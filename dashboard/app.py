"""The Dash app: pages from dashboard/pages, the shell around them, and the shell's callbacks.

The shell holds what every page shares: navigation, the language (a dcc.Store in localStorage,
Vietnamese by default), one dcc.Interval that checks for a new snapshot (default 30 s, R57_REFRESH_S)
and bumps a version store the pages listen to (so they refresh without reload, keeping their
filters), the data freshness line, and the demo-data and stale-data banners. Everything is served
locally (Bootstrap is vendored in assets/, plotly.js comes with Dash): no CDN, no internet.
"""

from __future__ import annotations

from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, dcc, html, no_update

from access import web as access_web
from config import Settings, load_settings
from presentation.words import localised_column

from . import data, downloads, fmt, ids, kept, live, timing, version
from .i18n import COOKIE, DEFAULT_LANG, LANGS, request_lang, t
from .version import POLL_JS, VERSION_URL  # noqa: F401  (VERSION_URL: imported from here by tests)

HERE = Path(__file__).resolve().parent

NAV = (("/", "nav_overview", "nav-overview"), ("/wards", "nav_wards", "nav-wards"), ("/ward", "nav_ward", "nav-ward"),
       ("/kpi", "nav_kpi", "nav-kpi"), ("/economy", "nav_economy", "nav-economy"),
       ("/health", "nav_health", "nav-health"), ("/reports", "nav_reports", "nav-reports"),
       ("/audit", "nav_audit", "nav-audit"), ("/alerts", "nav_alerts", "nav-alerts"), ("/plan", "nav_plan", "nav-plan"),
       ("/accountability", "nav_accountability", "nav-accountability"))
ADMIN_ONLY = {"/audit": "audit"}  # links shown only to roles with this permission (access.roles)
ACCOUNT_ONLY = {"/alerts"}  # links shown only to a signed-in account (alerts belong to accounts, issue 11)

# Keeps the address bar in step with a page's filters without a reload or a history entry (so a
# view can be bookmarked and shared); Dash Pages re-reads the query string on the next visit.
URL_STATE_JS = """
function(states) {
    const s = (states || []).filter(Boolean)[0];
    if (!s) { return window.dash_clientside.no_update; }
    const params = new URLSearchParams();
    Object.keys(s).forEach(function(k) {
        const v = s[k];
        if (v !== null && v !== undefined && v !== '') { params.set(k, v); }
    });
    const q = params.toString();
    const url = window.location.pathname + (q ? '?' + q : '');
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, '', url);
    }
    return q;
}
"""

# `<html lang>`, the cookie and the browser title in step with the language. Inputs: the store (a click on
# VI/EN) and the switch (on load, sync_language sets it from the stored choice while leaving the store as
# it is, so the store alone never fires this on load).
HTML_LANG_JS = """
function(stored, switched) {
    const lang = (switched === 'en' || switched === 'vi') ? switched : (stored === 'en' ? 'en' : 'vi');
    document.documentElement.lang = lang;
    document.cookie = 'r57_lang=' + lang + '; path=/; max-age=31536000; SameSite=Lax';
    // AG Grid takes its words (pager, filters, "no rows") only when it is created, and a grid's box id ends
    // in the language it was made in (components.grid): a page holding a grid in the other language is
    // loaded again, drawn in the new one from the cookie just set (its state is in the address)
    const boxes = Array.from(document.querySelectorAll('.grid-box[id]'));
    if (boxes.some(function (b) { return !b.id.endsWith('--' + lang); })) {
        window.location.reload();
        return window.dash_clientside.no_update;
    }
    const titles = %s;
    const path = window.location.pathname.replace(/\\/+$/, '') || '/';
    // the page, then what it shows: the unit on /ward (?unit=), the KPI on /kpi (?kpi=), as page_title does
    const query = new URLSearchParams(window.location.search);
    const what = path === '/ward' ? titles.units[query.get('unit')] : path === '/kpi' ? titles.kpis[query.get('kpi')]
        : null;
    const title = (titles[path] || titles['*'])[lang] + (what ? ' · ' + what[lang] : '');
    document.title = title;
    // Dash Pages sets the page's bare title when it routes (its own clientside callback, in no set order
    // with this one): set ours again after it
    window.setTimeout(function () { if (document.title !== title) { document.title = title; } }, 0);
    return lang;
}
"""


def page_title(path: str, lang: str, query: dict | None = None) -> str:
    """'R57 · Chỉ tiêu' / 'R57 · KPI': the browser title of a page in the language; with the query, what the
    page shows too: 'R57 · Đơn vị · Phường Cửa Nam' (/ward?unit=00073), 'R57 · KPI · On-time rate'
    (/kpi?kpi=on_time_rate). An unknown unit or KPI leaves the page's title alone."""
    from .pages import title_text

    path = path.rstrip("/") or "/"
    query = query or {}
    for href, key, _ in NAV:
        if href == path:
            what = _title_names(lang)
            name = (what["units"].get(query.get("unit")) if path == "/ward" else
                    what["kpis"].get(query.get("kpi")) if path == "/kpi" else None)
            return title_text(key, lang) + (f" · {name}" if name else "")
    return t("page_title_brand", lang)


def _title_names(lang: str) -> dict[str, dict[str, str]]:
    """The names a title can carry: every ward and commune (the ward page's choices), every visible KPI."""
    units = data.wards()
    return {"units": dict(zip(units["unit_code"], units[localised_column("name", lang)], strict=True)),
            "kpis": {code: data.kpi_name(code, lang) for code in data.visible_codes()}}


def _titles_js() -> str:
    import json

    titles = {href: {lang: page_title(href, lang) for lang in LANGS} for href, _, _ in NAV}
    titles["*"] = {lang: page_title("", lang) for lang in LANGS}
    names = {lang: _title_names(lang) for lang in LANGS}
    for what in ("units", "kpis"):
        titles[what] = {code: {lang: names[lang][what][code] for lang in LANGS} for code in names[LANGS[0]][what]}
    return json.dumps(titles, ensure_ascii=False)


def _navbar(lang: str) -> html.Header:
    v = data.viewer()

    def shown(href: str) -> bool:
        return ((href not in ADMIN_ONLY or v.may(ADMIN_ONLY[href])) and (href not in ACCOUNT_ONLY or v.kind == "user"))

    links = [dbc.NavItem(dbc.NavLink(t(key, lang), href=href, active="exact", id=nid),
                         className=None if shown(href) else "d-none")
             for href, key, nid in NAV]
    switch = html.Div([
        html.Span(t("lang_label", lang), id="shell-lang-label", className="visually-hidden"),
        dbc.RadioItems(id=ids.LANG_SWITCH, name=ids.LANG_SWITCH, value=lang, inline=True,
                       className="btn-group lang-switch",
                       inputClassName="btn-check", labelClassName="btn btn-outline-light btn-sm",
                       labelCheckedClassName="active",
                       options=[{"label": "VI", "value": "vi"}, {"label": "EN", "value": "en"}]),
    ], role="group", **{"aria-labelledby": "shell-lang-label"})
    return html.Header(html.Nav([
        dcc.Link([html.Span("R57", className="brand-mark"),
                  html.Span(t("app_title", lang), id=ids.BRAND, className="brand-text")],
                 href="/", className="brand"),
        dbc.Nav(links, id=ids.NAV_LINKS, className="shell-links", navbar=True),
        html.Div([html.Span(id=ids.FRESHNESS, className="freshness"), switch, _bell(lang), _account(lang)],
                 className="shell-right"),
    ], className="shell-nav", id=ids.NAV, **{"aria-label": "R57"}), className="shell-header")


def bell_label(n: int, lang: str) -> str:
    """'3 thông báo chưa đọc' / '3 unread notifications'; 'Không có thông báo chưa đọc' for none."""
    return t("bell_unread", lang, n=n, count=n) if n else t("bell_none", lang)


def unread(v=None) -> int | None:
    """The signed-in account's unread in-app notifications (alerts.store); None with sign-in off or for a token."""
    v = v or data.viewer()
    if v.kind != "user" or not access_web.guarded():
        return None
    from alerts import store

    try:
        return store.unread_count(access_web.state().db, v.name)
    except Exception:  # the application database not migrated yet (no alerts tables): no bell, the page works
        import logging

        logging.getLogger(__name__).warning("unread notifications of %s could not be read", v.name, exc_info=True)
        return None


def _badge(n: int) -> str:
    return "" if not n else str(n) if n < 100 else "99+"


def _badge_class(n: int) -> str:
    return "shell-bell-count" + ("" if n else " d-none")


def _bell(lang: str):
    """The bell (issue 11): a link to /alerts with the unread count as a badge, beside the account; refreshed
    by the shell's tick. With sign-in off, or for a token, nothing here."""
    n = unread()
    if n is None:
        return html.Span(html.Span(id=ids.BELL_COUNT), id=ids.BELL, hidden=True)
    return html.A([html.Span(className="status-icon icon-bell", **{"aria-hidden": "true"}),
                   html.Span(_badge(n), id=ids.BELL_COUNT, className=_badge_class(n), **{"aria-hidden": "true"})],
                  href="/alerts", id=ids.BELL, className="shell-bell", title=bell_label(n, lang),
                  **{"aria-label": bell_label(n, lang)})


def _account(lang: str):
    """Who is signed in (name, role, scope), a link to change the password, and sign-out (a POST with the CSRF
    token); with sign-in off, nothing here (the banner says so)."""
    from access import pages as words
    from access import roles as access_roles

    v = data.viewer()
    if v.kind != "user":
        return html.Span()
    try:
        role = access_roles.get_role(v.role).label(lang)
    except access_roles.RoleError:
        role = v.role
    scope = (words.w("scope_all", lang) if v.scope is None else
             ", ".join(data.unit_name(u, lang) for u in sorted(v.units)))
    return html.Div([
        html.A(v.display_name or v.name, href="/account/password", className="shell-user",
               title=words.w("signed_in_as", lang, name=v.display_name or v.name, role=role, scope=scope)),
        html.Span(f"{role} · {scope}", className="visually-hidden"),
        html.Form([dcc.Input(type="hidden", name="csrf_token", value=access_web.csrf_token()),
                   html.Button(words.w("sign_out", lang), type="submit", className="btn btn-outline-light btn-sm")],
                  action="/logout", method="POST", className="shell-signout"),
    ], className="shell-account")


def _auth_off_banner(lang: str):
    from access import pages as words

    if not access_web.auth_off_banner():
        return None
    return html.Div(words.w("auth_off", lang), className="banner banner-auth-off", role="alert")


def _layout(ctx: data.Context):
    def layout():
        lang = request_lang()
        return html.Div([
            html.A(t("skip", lang), href=f"#{ids.MAIN}", className="skip-link", id=ids.SKIP),
            _navbar(lang),
            html.Aside(id=ids.BANNERS, className="banners"),  # a landmark (axe: region)
            html.Div(_auth_off_banner(lang), className="banners", role="region",
                     **{"aria-label": "R57_AUTH"}),
            html.Main(dash.page_container, id=ids.MAIN, className="shell-main", tabIndex="-1"),
            dcc.Store(id=ids.LANG, storage_type="local", data=lang),
            dcc.Store(id=ids.VERSION, data=data.current_version(ctx.reader, data.local_now())),
            # server push of new versions (dashboard.live); the poll below asks only while it is not open
            dcc.Store(id=ids.LIVE, data=live.LIVE_URL if ctx.settings.live_streams > 0 else None),
            dcc.Store(id=ids.LIVE_SINK),
            dcc.Store(id=ids.URL_SINK),
            dcc.Store(id="shell-html-lang"),
            dcc.Store(id=ids.IMAGE_SINK),
            dcc.Store(id=ids.BELL_BUMP, data=0),
            dcc.Download(id=ids.IMAGE_DOWNLOAD),
            dcc.Interval(id=ids.TICK, interval=int(ctx.refresh_s * 1000), n_intervals=0),
            # a new snapshot reaches the page within poll_s: a 304 from /_r57/version when nothing changed
            dcc.Interval(id=ids.POLL, interval=int(max(ctx.settings.poll_s, 0.5) * 1000), n_intervals=0,
                         disabled=ctx.settings.poll_s <= 0),
        ], className="shell")
    return layout


def _banners(con, now, lang: str) -> tuple[list, str]:
    """Demo and stale banners, and the freshness line ('cập nhật 14:32, 40 giây trước')."""
    from warehouse import health

    banners = []
    # the snapshot's facts, once per snapshot (every page asks at each tick); the ages from the clock, each time
    demo, loads = data.memo("shell.loads", lambda: (health.is_demo(con), health.load_times(con)), per="%Y")
    if demo:
        banners.append(html.Div([html.Span(className="status-icon icon-info", **{"aria-hidden": "true"}),
                                 t("demo_banner", lang)], className="banner banner-demo", role="note"))
    fr = health.freshness(con, now, loads=loads)
    dossiers = fr[fr["source"] == "dossiers"].iloc[0] if (fr["source"] == "dossiers").any() else None
    if dossiers is not None and bool(dossiers["stale"]):
        text = (t("stale_never", lang) if fmt.is_na(dossiers["last_load"]) else
                t("stale_banner", lang, time=fmt.moment(dossiers["last_load"]), ago=fmt.ago(dossiers["age_s"], lang)))
        banners.append(html.Div([html.Span(className="status-icon icon-warning", **{"aria-hidden": "true"}), text],
                                className="banner banner-stale", role="status"))
    loads = fr.dropna(subset=["last_load"])
    if loads.empty:
        return banners, t("never_updated", lang)
    last = loads.sort_values("last_load").iloc[-1]
    return banners, t("updated", lang, time=fmt.clock(last["last_load"]), ago=fmt.ago(last["age_s"], lang))


def _register_shell_callbacks(app: dash.Dash, ctx: data.Context) -> None:
    @app.callback(Output(ids.LANG, "data"), Output(ids.LANG_SWITCH, "value"),
                  Input(ids.LANG_SWITCH, "value"), Input(ids.LANG, "data"))
    def sync_language(chosen, stored):
        """The switch writes the store; on load the stored choice sets the switch."""
        if dash.ctx.triggered_id == ids.LANG_SWITCH:
            return (chosen if chosen in ("vi", "en") else DEFAULT_LANG), no_update
        stored = stored if stored in ("vi", "en") else DEFAULT_LANG
        return no_update, stored

    @app.callback([Output(nid, "children") for _, _, nid in NAV] + [Output(ids.BRAND, "children"),
                                                                    Output(ids.SKIP, "children"),
                                                                    Output("shell-lang-label", "children")],
                  Input(ids.LANG, "data"))
    def shell_words(lang):
        lang = lang if lang in ("vi", "en") else DEFAULT_LANG
        return [t(key, lang) for _, key, _ in NAV] + [t("app_title", lang), t("skip", lang), t("lang_label", lang)]

    @app.callback(Output(ids.VERSION, "data"), Input(ids.TICK, "n_intervals"), State(ids.VERSION, "data"))
    def tick(_n, old):
        """Every refresh interval: the version (a new snapshot, or the hour turned: overdue counts move with the
        clock). The version endpoint's poll (POLL_JS) usually learns of a snapshot first."""
        new = data.published_version(ctx.reader, data.local_now())
        return no_update if new == old else new

    app.clientside_callback(POLL_JS, Output(ids.VERSION, "data", allow_duplicate=True),
                            Input(ids.POLL, "n_intervals"), State(ids.VERSION, "data"), prevent_initial_call=True)
    # opens the page's event stream once; its events write the version store themselves (set_props)
    app.clientside_callback(live.LIVE_JS, Output(ids.LIVE_SINK, "data"), Input(ids.LIVE, "data"), State(ids.VERSION, "data"))

    @app.callback(Output(ids.FRESHNESS, "children"), Output(ids.BANNERS, "children"),
                  Input(ids.TICK, "n_intervals"), Input(ids.VERSION, "data"), Input(ids.LANG, "data"))
    def freshness(_n, _version, lang):
        """The freshness line and banners: every interval and whenever the data changed."""
        lang = lang if lang in ("vi", "en") else DEFAULT_LANG
        now = data.local_now()
        with data.cursor() as con:
            if con is None:
                return t("never_updated", lang), []
            banners, line = _banners(con, now, lang)
        return line, banners

    @app.callback(Output(ids.BELL, "aria-label"), Output(ids.BELL, "title"), Output(ids.BELL_COUNT, "children"),
                  Output(ids.BELL_COUNT, "className"),
                  Input(ids.TICK, "n_intervals"), Input(ids.LANG, "data"), Input(ids.BELL_BUMP, "data"))
    def bell(_n, lang, _bump):
        """The bell's unread count, every tick and after the alerts page marks, adds or removes something."""
        lang = lang if lang in ("vi", "en") else DEFAULT_LANG
        n = unread()
        if n is None:
            return no_update, no_update, no_update, no_update
        label = bell_label(n, lang)
        return label, label, _badge(n), _badge_class(n)

    app.clientside_callback(URL_STATE_JS, Output(ids.URL_SINK, "data"),
                            Input({"type": ids.URL_STATE, "page": ALL}, "data"))
    # the title follows the page's filters too: URL_STATE_JS writes the address (?unit=, ?kpi=) first
    app.clientside_callback(HTML_LANG_JS % _titles_js(), Output("shell-html-lang", "data"), Input(ids.LANG, "data"),
                            Input(ids.LANG_SWITCH, "value"), Input(ids.URL_SINK, "data"))

    # every page's download menus: their label follows the language
    @app.callback(Output({"type": ids.DL_MENU, "page": ALL, "name": ALL}, "label"), Input(ids.LANG, "data"))
    def download_labels(lang):
        lang = lang if lang in ("vi", "en") else DEFAULT_LANG
        return [t("download", lang)] * len(dash.ctx.outputs_list)

    downloads.register_images(app)  # a chart item: the figure on screen, made into a file on the server


def _register_report_files(server, settings: Settings) -> None:
    """GET /reports/files/<name>: a PDF or Excel report from settings.reports_dir, nothing else (views.reports.file_path
    refuses path parts, '..', hidden files and anything resolving outside the folder)."""
    import flask

    from access import roles as access_roles

    from .views.reports import FILES_URL, file_path, file_unit, visible

    def report_file(name: str):
        denied = access_web.require(access_roles.DOWNLOAD)
        if denied is not None:
            return denied
        path = file_path(settings, name)
        if path is None:
            flask.abort(404)
        if not visible(file_unit(path)):
            access_web.audit("report_download", outcome="denied", target=path.name)
            flask.abort(404)  # another unit's report: as if it did not exist
        access_web.audit("report_download", target=path.name)
        return flask.send_file(path, as_attachment=True, download_name=path.name, max_age=0)

    server.add_url_rule(FILES_URL + "<path:name>", "r57_report_file", report_file, methods=["GET"])


class _App(dash.Dash):
    """Dash with the page's language on its first response: `<html lang>` and the title (from the cookie,
    then Accept-Language; i18n.request_lang), so a screen reader and the browser tab are right before any
    script runs."""

    def interpolate_index(self, **kwargs):
        import flask

        lang = request_lang()
        kwargs["title"] = page_title(flask.request.path, lang, flask.request.args)
        return super().interpolate_index(**kwargs).replace("<html>", f'<html lang="{lang}">', 1)


def _remember_language(response):
    """The first page load sets the language cookie (what request_lang chose), so every later request, the
    layout's and the callbacks', sees the same language."""
    import flask

    if (response.mimetype == "text/html" and COOKIE not in flask.request.cookies
            and not flask.request.path.startswith(("/_dash", "/assets", "/_favicon"))):
        response.set_cookie(COOKIE, request_lang(), max_age=31536000, path="/", samesite="Lax")
    return response


ASSET_MAX_AGE_S = 3600  # an asset without its fingerprint (icons named in the style sheets)


def _cache_assets(response):
    """Browser caching of the app's own assets: Dash names each script and style sheet with its file's time
    (`?m=`), so that name never changes content (a year, immutable: a page view asks nothing for them); the
    icons the style sheets name have no fingerprint (an hour). Without this every page view revalidated ~17
    files (Flask's default: no-cache), a request each."""
    import flask

    if response.status_code == 200 and flask.request.path.startswith("/assets/"):
        cc = response.cache_control
        cc.no_cache = None
        cc.public = True
        if "m" in flask.request.args:
            cc.max_age, cc.immutable = 31536000, True
        else:
            cc.max_age = ASSET_MAX_AGE_S
    return response


def create_app(settings: Settings | None = None, refresh_s: float | None = None) -> dash.Dash:
    """The dashboard over `settings.warehouse`'s published snapshots (read-only; never writes)."""
    settings = settings or load_settings()
    ctx = data.build_context(settings, refresh_s)
    app = _App(
        "dashboard",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        serve_locally=True,
        suppress_callback_exceptions=True,
        update_title=None,
        title="R57 · Hà Nội",
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.config[data.CONTEXT_KEY] = ctx
    timing.install(app.server, settings.slow_request_ms)  # first: it times the guard and the limiter too
    app.layout = _layout(ctx)
    app.server.after_request(_remember_language)
    app.server.after_request(_cache_assets)
    access_web.install(app.server, settings, app)  # sign-in, scope, security headers, rate limit (issue 10)
    _register_shell_callbacks(app, ctx)
    _register_report_files(app.server, settings)  # a Flask route: before warm_up (no set-up after the first request)
    version.register(app, ctx)  # the version endpoint and its 304 fast path in front of Flask (issue 15)
    live.register(app, ctx)  # server push of new versions to open pages (issue 15)
    kept.install(app.server, settings.view_cache_mb * 2**20)  # page parts kept per snapshot (issue 13)
    return app


def warm_up(app: dash.Dash) -> dash.Dash:
    """Finish Dash's set-up now, after everything else is registered on app.server.

    Dash completes its set-up (script registry, the pages' callbacks) on the first request; a worker
    that gets several at once (gunicorn threads, a browser's parallel script requests) can serve a
    script before that is done and answer HTTP 500. Call this last, before serving; Flask allows no
    more set-up (blueprints) afterwards.
    """
    app.server.test_client().get("/_dash-dependencies")
    return app

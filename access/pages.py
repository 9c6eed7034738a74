"""The sign-in pages: /login (form: username, password, a CSRF token as a hidden field), /logout (POST),
/account/password (change one's password). Plain HTML from Flask, Vietnamese first, the dashboard's
stylesheets; no script, so the strict CSP holds.
"""

from __future__ import annotations

from urllib.parse import urlencode

import flask
from flask import Blueprint, request
from markupsafe import escape

from config import Settings
from presentation.words import t


def w(key: str, lang: str, **kw) -> str:
    """The sign-in pages' words: the one catalogue (presentation/locale), keys `auth_<key>`."""
    return t(f"auth_{key}", lang, **kw)


def _lang() -> str:
    choice = request.args.get("lang")
    if choice in ("vi", "en"):
        return choice
    from dashboard.i18n import request_lang

    return request_lang()


def login_url(next_path: str | None, signed_out: bool = False) -> str:
    q = {}
    if next_path and next_path != "/":
        q["next"] = next_path
    if signed_out:
        q["signed_out"] = "1"
    return "/login" + (f"?{urlencode(q)}" if q else "")


def _page(lang: str, title: str, body: str, status: int = 200) -> flask.Response:
    other = {"vi": "en", "en": "vi"}[lang]
    here = request.path + "?" + urlencode({**{k: v for k, v in request.args.items() if k != "lang"}, "lang": other})
    html = f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/assets/00_bootstrap.min.css"><link rel="stylesheet" href="/assets/10_r57.css">
<link rel="stylesheet" href="/assets/20_a11y.css"></head>
<body><header class="shell-header"><nav class="shell-nav" aria-label="R57"><span class="brand">
<span class="brand-mark">R57</span><span class="brand-text">{escape(w_app(lang))}</span></span>
<a class="btn btn-outline-light btn-sm ms-auto" href="{escape(here)}" lang="{other}">{escape(w("lang_other", lang))}</a>
</nav></header>
<main id="main" class="container auth-main" style="max-width:28rem">{body}</main></body></html>"""
    resp = flask.Response(html, status=status, mimetype="text/html")
    resp.set_cookie("r57_lang", lang, max_age=31536000, path="/", samesite="Lax")
    return resp


def w_app(lang: str) -> str:
    return t("app_title", lang)


def _alert(text: str, kind: str = "danger") -> str:
    return f'<div class="alert alert-{kind}" role="{"alert" if kind == "danger" else "status"}">{escape(text)}</div>'


def _login_form(lang: str, message: str = "", username: str = "", status: int = 200, sso: bool = False):
    from .web import csrf_token

    nxt = request.values.get("next", "")
    sso_link = (f'<p class="mt-3"><a class="btn btn-outline-primary w-100" href="/login/oidc?'
                f'{escape(urlencode({"next": nxt}))}">{escape(w("sso", lang))}</a></p>') if sso else ""
    body = f"""<h1 class="h4 mt-4 mb-3">{escape(w("heading", lang))}</h1>{message}
<form method="post" action="/login" class="card card-body">
<input type="hidden" name="csrf_token" value="{escape(csrf_token())}">
<input type="hidden" name="next" value="{escape(nxt)}">
<label class="form-label" for="username">{escape(w("username", lang))}</label>
<input class="form-control mb-3" id="username" name="username" autocomplete="username" required
 value="{escape(username)}" autocapitalize="none" spellcheck="false">
<label class="form-label" for="password">{escape(w("password", lang))}</label>
<input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required>
<button class="btn btn-primary" type="submit">{escape(w("submit", lang))}</button>
</form>{sso_link}"""
    return _page(lang, w("title", lang), body, status)


def blueprint(settings: Settings) -> Blueprint:
    from . import web

    bp = Blueprint("r57_access", __name__)
    sso = bool(settings.oidc_issuer)

    @bp.get("/login")
    def login_form():
        lang = _lang()
        if request.args.get("signed_out"):
            return _login_form(lang, _alert(w("signed_out", lang), "info"), sso=sso)
        if request.args.get("sso_error"):
            return _login_form(lang, _alert(w("sso_failed", lang, why=request.args["sso_error"][:120])), sso=sso)
        return _login_form(lang, sso=sso)

    @bp.post("/login")
    def login():
        from .users import authenticate

        lang = _lang()
        username = (request.form.get("username") or "").strip().lower()[:64]
        if not web.csrf_ok():
            return _login_form(lang, _alert(w("csrf", lang)), username, 400, sso)
        if not web.state().settings.auth_enabled:
            return flask.redirect(web.safe_next(request.form.get("next")))
        if web.throttled(username):
            web.audit("login", outcome="denied", actor=username or "?", detail={"why": "throttled"}, scope="-")
            resp = _login_form(lang, _alert(w("throttled", lang)), username, 429, sso)
            resp.headers["Retry-After"] = str(int(web.LOGIN_WINDOW.total_seconds()))
            return resp
        account = authenticate(web.state().db, username, request.form.get("password") or "")
        if account is None:
            web.audit("login", outcome="failed", actor=username or "?", scope="-")
            return _login_form(lang, _alert(w("bad", lang)), username, 401, sso)
        web.audit("login", actor=account.username, scope=",".join(account.units) or "*")
        return web.start_session(account)

    @bp.post("/logout")
    def logout():
        if not web.csrf_ok():
            return flask.redirect("/")
        v = web.current_viewer()
        if v is not None:
            web.audit("logout")
        return web.end_session()

    @bp.get("/account/password")
    def password_form():
        return _password_page(_lang())

    @bp.post("/account/password")
    def password_change():
        from .passwords import check_password_policy
        from .users import authenticate, set_password

        lang = _lang()
        v = web.current_viewer()
        if v is None or v.kind != "user":
            return flask.redirect(login_url("/account/password"))
        if not web.csrf_ok():
            return _password_page(lang, _alert(w("csrf", lang)), 400)
        db = web.state().db
        current, new, repeat = (request.form.get(k) or "" for k in ("current", "new", "repeat"))
        if authenticate(db, v.name, current) is None:
            web.audit("password_change", outcome="failed", target=v.name)
            return _password_page(lang, _alert(w("pw_wrong", lang)), 400)
        if new != repeat:
            return _password_page(lang, _alert(w("pw_mismatch", lang)), 400)
        if check_password_policy(new) is not None:
            return _password_page(lang, _alert(w("pw_weak", lang)), 400)
        set_password(db, v.name, new, actor=v.name)
        return _password_page(lang, _alert(w("pw_done", lang), "success"))

    return bp


def _password_page(lang: str, message: str = "", status: int = 200):
    from .web import csrf_token

    body = f"""<h1 class="h4 mt-4 mb-3">{escape(w("pw_heading", lang))}</h1>{message}
<form method="post" action="/account/password" class="card card-body">
<input type="hidden" name="csrf_token" value="{escape(csrf_token())}">
<label class="form-label" for="current">{escape(w("pw_current", lang))}</label>
<input class="form-control mb-3" id="current" name="current" type="password" autocomplete="current-password" required>
<label class="form-label" for="new">{escape(w("pw_new", lang))}</label>
<input class="form-control mb-3" id="new" name="new" type="password" autocomplete="new-password" minlength="10" required>
<label class="form-label" for="repeat">{escape(w("pw_repeat", lang))}</label>
<input class="form-control mb-3" id="repeat" name="repeat" type="password" autocomplete="new-password" required>
<button class="btn btn-primary" type="submit">{escape(w("pw_submit", lang))}</button>
</form><p class="mt-3"><a href="/">{escape(w("back", lang))}</a></p>"""
    return _page(lang, w("pw_title", lang), body, status)

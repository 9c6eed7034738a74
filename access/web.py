"""The web guard: every request to the Flask server (dashboard pages, Dash callbacks, /api/v1, report files)
passes here first.

- Who: a session cookie (`r57_session`, an opaque token resolved in the application database), or an
  `Authorization: Bearer` API token, or nobody (-> /login for a page, 401 for anything else). R57_AUTH=off
  (development only) serves everyone as a developer with every right, with a banner and a log warning.
- What they may see: the viewer's unit scope is handed to the metrics layer (metrics.scope), which narrows
  every query that is not a city-level aggregate; routes check permissions (access.roles).
- Sign-in: /login (form with a CSRF token, argon2 passwords, throttled by failed attempts per username and
  per address, counted in the audit log), /logout, /account/password, and OpenID Connect (/login/oidc) when
  R57_OIDC_ISSUER is set.
- Every answer carries security headers (CSP with the hashes of Dash's inline scripts, frame-ancestors,
  nosniff, Referrer-Policy; HSTS behind TLS); dynamic requests are rate limited (Flask-Limiter, per signed-in
  user or token, else per address; static files exempt).
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import flask
from flask import Response, g, request

import clock
import config
import metrics.scope
from config import Settings

from . import pages
from . import roles as R
from . import viewer as V

log = logging.getLogger(__name__)

SESSION_COOKIE = "r57_session"
SETTINGS_KEY = "R57_ACCESS"
# no sign-in needed: the sign-in pages themselves, the stylesheet and icons they use, the API's description
PUBLIC = ("/login", "/assets/", "/_favicon.ico", "/api/v1/openapi.json")
STATIC = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILED_PER_USER = 5
MAX_FAILED_PER_ADDRESS = 20


class _State:
    """What the guard of one server needs: settings, the application database (opened on first use), the
    Dash app (for its CSP hashes)."""

    def __init__(self, settings: Settings, dash_app=None) -> None:
        self.settings = settings
        self.dash_app = dash_app
        self._db = None
        self._csp: str | None = None

    @property
    def db(self):
        if self._db is None:
            from .db import get_appdb

            self._db = get_appdb(self.settings)
        return self._db

    def csp(self) -> str:
        if self._csp is None:
            hashes = list(self.dash_app.csp_hashes()) if self.dash_app is not None else []  # already quoted
            self._csp = "; ".join([
                "default-src 'self'",
                "script-src 'self' " + " ".join(hashes),
                "style-src 'self' 'unsafe-inline'",   # Plotly and Dash components set inline styles
                "img-src 'self' data: blob:",
                "font-src 'self' data:",
                "connect-src 'self'",
                "worker-src 'self' blob:",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ])
        return self._csp


def state() -> _State:
    return flask.current_app.config[SETTINGS_KEY]


# --- who is asking -----------------------------------------------------------------------------------

def client_address() -> str:
    return request.remote_addr or "-"


def current_viewer() -> V.Viewer | None:
    """The viewer of this request (None: not signed in). Resolved once per request."""
    if "r57_viewer" not in g:
        g.r57_viewer = _resolve()
    return g.r57_viewer


def viewer_or_nobody() -> V.Viewer:
    """For code that runs inside a request: the viewer, or NOBODY (sees no unit's rows, may do nothing)."""
    if not flask.has_request_context():  # outside a request: the system (CLI, scheduler, report jobs)
        return V.DEV
    if not guarded():  # a server without the guard (a bare API server in tests): nothing to narrow
        return V.DEV
    v = current_viewer()
    return v if v is not None else V.NOBODY


def guarded() -> bool:
    return flask.has_app_context() and SETTINGS_KEY in flask.current_app.config


def _resolve() -> V.Viewer | None:
    st = state()
    if not st.settings.auth_enabled:
        return V.DEV
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return _token_viewer(st, header[7:].strip())
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    from .sessions import resolve_session

    account = resolve_session(st.db, raw)
    if account is None:
        return None
    try:
        return V.for_account(account.username, account.role, account.units, account.display_name, st.settings)
    except R.RoleError:  # a role removed from the roles file: no rights until an admin fixes the account
        log.warning("account %s has unknown role %s: refused", account.username, account.role)
        return None


def _token_viewer(st: _State, raw: str) -> V.Viewer | None:
    from .tokens import resolve_token

    info = resolve_token(st.db, raw) if raw else None
    if info is not None:
        g.r57_token = info.name
        return V.for_token(info.name, info.units, info.push)
    legacy = st.settings.api_token
    if legacy and raw and hmac.compare_digest(raw.encode(), legacy.encode()):
        g.r57_token = "R57_API_TOKEN"
        return V.Viewer("token:R57_API_TOKEN", "token", (), frozenset({R.PUSH}), True, "token")
    g.r57_bad_token = True
    return None


def _request_scope() -> frozenset[str] | None:
    """metrics.scope's provider: the scope of the request being served; None outside a request."""
    if not flask.has_request_context() or SETTINGS_KEY not in flask.current_app.config:
        return None
    v = current_viewer()
    return frozenset() if v is None else v.scope


# --- the audit log -----------------------------------------------------------------------------------

def audit(action: str, *, outcome: str = "ok", target: str | None = None, detail: dict | None = None,
          actor: str | None = None, scope: str | None = None) -> None:
    """One row of the audit log for this request: who (the viewer, or `actor`), what, scope, address."""
    from . import audit as store

    if not guarded():
        return
    v = viewer_or_nobody()
    store.record(state().db, action, actor=actor or v.name, outcome=outcome, target=target,
                 scope=scope if scope is not None else v.describe_scope(), detail=detail, client=client_address())


# --- the guard ---------------------------------------------------------------------------------------

def _public(path: str) -> bool:
    return path == "/login" or path.startswith(PUBLIC)


def _wants_json(path: str) -> bool:
    return path.startswith(("/api/", "/_dash-", "/_r57/", "/reports/files/")) or request.method != "GET"


def _guard() -> Response | None:
    path = request.path
    if _public(path):
        return None
    v = current_viewer()
    if v is None:
        if g.get("r57_bad_token"):
            audit("token_use", outcome="denied", actor="token:?", target=path, scope="-")
            return _json_error(401, "invalid or revoked API token")
        if _wants_json(path):
            return _json_error(401, "sign-in required: /login, or 'Authorization: Bearer <token>' for the API")
        return flask.redirect(pages.login_url(_next_target()))
    if v.kind == "token":
        if not path.startswith("/api/"):
            return _json_error(403, "API tokens are for /api/v1 only")
        audit("token_use", target=path, detail={"method": request.method})
    return None


def _next_target() -> str:
    full = request.full_path.rstrip("?")
    return full if full.startswith("/") and not full.startswith("//") else "/"


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a local path only (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _json_error(status: int, message: str) -> Response:
    import json

    resp = Response(json.dumps({"error": message}), status=status, mimetype="application/json")
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="r57"'
    return resp


def forbidden(message: str = "outside your scope") -> Response:
    return _json_error(403, message)


def require(permission: str) -> Response | None:
    """A 403 answer when the viewer lacks `permission` (audited), else None."""
    v = viewer_or_nobody()
    if v.may(permission):
        return None
    audit("denied", outcome="denied", target=request.path, detail={"permission": permission})
    return forbidden(f"your role ({v.role}) may not do this ({permission})")


def _headers(resp: Response) -> Response:
    st = state()
    h = resp.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    h.setdefault("Content-Security-Policy", st.csp())
    if st.settings.tls:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith(("/api/", "/_dash-update-component", "/reports/files/", "/login", "/account")):
        h.setdefault("Cache-Control", "no-store")
    return resp


# --- sessions ----------------------------------------------------------------------------------------

def start_session(account) -> Response:
    from .sessions import start_session as start

    st = state()
    raw = start(st.db, account.id, client=client_address(), hours=st.settings.session_hours)
    flask.session.clear()  # a new CSRF token after sign-in (session fixation)
    resp = flask.redirect(safe_next(request.args.get("next") or request.form.get("next")))
    resp.set_cookie(SESSION_COOKIE, raw, max_age=int(st.settings.session_hours * 3600), path="/", httponly=True,
                    samesite="Lax", secure=st.settings.tls)
    return resp


def end_session() -> Response:
    from .sessions import end_session as end

    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        end(state().db, raw)
    flask.session.clear()
    resp = flask.redirect(pages.login_url(None, signed_out=True))
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


def csrf_token() -> str:
    token = flask.session.get("csrf")
    if not token:
        token = flask.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok() -> bool:
    sent, kept = request.form.get("csrf_token", ""), flask.session.get("csrf", "")
    return bool(sent) and bool(kept) and hmac.compare_digest(sent, kept)


def throttled(username: str) -> bool:
    """Too many failed sign-ins for this username or from this address in the last 15 minutes."""
    from . import audit as store

    since = clock.utc() - LOGIN_WINDOW
    db = state().db
    return (store.count_recent(db, "login", since=since, actor=username, outcome="failed") >= MAX_FAILED_PER_USER
            or store.count_recent(db, "login", since=since, client=client_address(), outcome="failed")
            >= MAX_FAILED_PER_ADDRESS)


# --- installing it on a server -----------------------------------------------------------------------

def _secret_key(settings: Settings) -> str:
    """R57_SECRET_KEY, or a random key kept in a 0600 file beside the warehouse, shared by every worker.

    The file appears whole or not at all: the key is written to a private temporary file first and
    hard-linked into place (the link fails if another worker got there first, and then its key is read).
    Workers starting together on a new warehouse used to see the file created but still empty, and ran
    with no key (every sign-in form a 500)."""
    if settings.secret_key:
        return settings.secret_key
    assert settings.warehouse is not None
    path = Path(settings.warehouse).parent / (Path(settings.warehouse).stem + ".secret")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_urlsafe(48))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another worker's key is in place: use it
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it (a new key is made at the next start) or set R57_SECRET_KEY")
    return key


def _rate_key() -> str:
    v = current_viewer() if not _public(request.path) else None
    return f"who:{v.name}" if v is not None and v.kind != "dev" else f"addr:{client_address()}"


def install(server: flask.Flask, settings: Settings, dash_app=None) -> None:
    """Put the guard, sign-in routes, security headers and rate limit in front of `server`."""
    from flask_limiter import Limiter

    if settings.proxy_hops > 0:  # the client's address and scheme from a trusted reverse proxy (README)
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
                                   x_host=settings.proxy_hops)
    server.config[SETTINGS_KEY] = _State(settings, dash_app)
    server.secret_key = _secret_key(settings)
    server.config.update(SESSION_COOKIE_NAME="r57_csrf", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.tls)
    metrics.scope.set_provider(_request_scope)
    limiter = Limiter(_rate_key, app=server, default_limits=[settings.rate_limit], storage_uri="memory://",
                      headers_enabled=True, strategy="fixed-window")

    @limiter.request_filter
    def _static() -> bool:
        return request.path.startswith(STATIC)

    server.config["R57_LIMITER"] = limiter

    @server.errorhandler(429)
    def _too_many(exc):
        resp = _json_error(429, f"too many requests ({getattr(exc, 'description', '')}); retry after the "
                                "Retry-After header's seconds")
        return resp
    server.before_request(_guard)
    server.after_request(_headers)
    server.register_blueprint(pages.blueprint(settings))
    if settings.auth_enabled:
        from . import oidc

        oidc.install(server, settings)
    else:
        log.warning("R57_AUTH=off: sign-in is OFF, every visitor has every right on every unit. "
                    "Development only; never expose this server.")


def auth_off_banner() -> bool:
    """Whether pages must carry the loud 'sign-in is off' banner."""
    try:
        return not state().settings.auth_enabled
    except (RuntimeError, KeyError):
        return False


def when(dt: datetime | None) -> str:
    return "" if dt is None else dt.astimezone(config.TZ).strftime("%d/%m/%Y %H:%M")

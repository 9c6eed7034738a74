"""OpenID Connect sign-in (the city's single sign-on), with Authlib's Flask client.

Configured by R57_OIDC_ISSUER (discovery at <issuer>/.well-known/openid-configuration), R57_OIDC_CLIENT_ID and
R57_OIDC_CLIENT_SECRET. The ID token's claims name the official (`sub`, `preferred_username`, `name`) and
their rights: R57_OIDC_ROLE_CLAIM (default `r57_role`) a role of access.roles, R57_OIDC_UNITS_CLAIM (default
`r57_units`) a list of unit codes (or one string, comma or space separated). The account is created on first
sign-in and its role and units are updated from the claims at every sign-in: the identity provider is the
source of truth.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import flask
from flask import request

from config import Settings

from . import roles as R

log = logging.getLogger(__name__)


def _units(claim) -> list[str]:
    if claim is None:
        return []
    if isinstance(claim, str):
        return [u for u in re.split(r"[\s,;]+", claim) if u]
    if isinstance(claim, (list, tuple)):
        return [str(u) for u in claim if str(u).strip()]
    return []


def _username(claims: dict) -> str:
    raw = str(claims.get("preferred_username") or claims.get("sub") or "").strip().lower()
    clean = re.sub(r"[^a-z0-9._-]", "-", raw)[:64]
    return clean if len(clean) >= 3 else f"sso-{clean}".ljust(3, "-")


def install(server: flask.Flask, settings: Settings) -> None:
    if not settings.oidc_issuer:
        return
    from authlib.integrations.flask_client import OAuth

    from . import web

    oauth = OAuth(server)
    client = oauth.register(
        "city",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile"},
    )

    def fail(why: str):
        web.audit("login", outcome="failed", actor="sso:?", detail={"via": "oidc", "why": why[:200]}, scope="-")
        return flask.redirect("/login?" + urlencode({"sso_error": why[:120]}))

    def start():
        flask.session["oidc_next"] = web.safe_next(request.args.get("next"))
        return client.authorize_redirect(flask.url_for("r57_oidc_callback", _external=True))

    def callback():
        from .users import AccountError, upsert_oidc_user

        if request.args.get("error"):
            return fail(str(request.args.get("error")))
        try:
            token = client.authorize_access_token()
        except Exception as exc:  # a bad state, code or signature: refused, never half signed in
            log.warning("OIDC sign-in refused: %s", type(exc).__name__)
            return fail(type(exc).__name__)
        claims = token.get("userinfo") or {}
        subject = str(claims.get("sub") or "")
        role = str(claims.get(settings.oidc_role_claim) or "")
        if not subject:
            return fail("no subject")
        try:
            R.get_role(role, settings)
            account = upsert_oidc_user(web.state().db, subject, _username(claims), role,
                                       _units(claims.get(settings.oidc_units_claim)),
                                       display_name=str(claims.get("name") or "") or None)
        except (R.RoleError, AccountError) as exc:
            return fail(str(exc))
        if account.disabled:
            return fail("account disabled")
        web.audit("login", actor=account.username, detail={"via": "oidc"}, scope=",".join(account.units) or "*")
        nxt = flask.session.pop("oidc_next", "/")
        resp = web.start_session(account)
        resp.headers["Location"] = web.safe_next(nxt)
        return resp

    server.add_url_rule("/login/oidc", "r57_oidc_start", start, methods=["GET"])
    server.add_url_rule("/login/oidc/callback", "r57_oidc_callback", callback, methods=["GET"])

"""A small OpenID Connect provider for the tests: discovery, JWKS, authorize and token endpoints, RS256 ID
tokens signed with a key made at start. The client under test (Authlib's, in access/oidc.py) is the real one
and talks to it over HTTP on loopback.
"""

from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


class StubIssuer:
    def __init__(self, claims: dict) -> None:
        self.claims = dict(claims)       # what the next sign-in's ID token says (tests change it)
        self.key = RSAKey.generate_key(2048, parameters={"kid": "stub-1", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, dict] = {}
        self.app = self._app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubIssuer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()

    def _app(self) -> Flask:
        app = Flask("oidc-stub")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({
                "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": request.args.get("nonce"), "client_id": request.args.get("client_id"),
                                "redirect_uri": request.args["redirect_uri"]}
            return redirect(request.args["redirect_uri"] + "?" + urlencode({"code": code,
                                                                            "state": request.args.get("state", "")}))

        @app.post("/token")
        def token():
            grant = self.codes.pop(request.form.get("code", ""), None)
            if grant is None:
                return jsonify({"error": "invalid_grant"}), 400
            now = int(time.time())
            claims = {"iss": self.url, "aud": grant["client_id"] or "r57-dashboard", "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"], **self.claims}
            id_token = jwt.encode({"alg": "RS256", "kid": "stub-1"}, claims, self.key)
            return jsonify({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                            "id_token": id_token})

        return app

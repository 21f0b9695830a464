"""A local OAuth 2.0 provider that speaks the protocol, in Google's and GitHub's shapes.

It checks what a real provider checks: the client id and secret, the registered
redirect_uri, single-use authorization codes, and the PKCE S256 verifier against the
challenge sent to /authorize. Served over real HTTP by uvicorn, so the code under test
uses its real HTTP client.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class ProviderState:
    shape: str  # "google" | "github"
    client: Client
    # what the next person to "consent" looks like (set by the test)
    profile: dict[str, Any] = field(default_factory=dict)
    emails: list[dict[str, Any]] = field(default_factory=list)  # GitHub's /user/emails
    deny: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    consented: set[str] = field(default_factory=set)  # users who got a refresh token already
    token_requests: list[dict[str, str]] = field(default_factory=list)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _error(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": error.replace("_", " ")}, status_code=status)


def build_app(providers: dict[str, ProviderState]) -> Starlette:
    async def authorize(request: Request) -> Response:
        state = providers[request.path_params["shape"]]
        q = request.query_params
        if q.get("client_id") != state.client.client_id:
            return _error("invalid_client")
        if q.get("redirect_uri") != state.client.redirect_uri:
            return _error("redirect_uri_mismatch")
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return _error("invalid_request")
        if not q.get("state"):
            return _error("invalid_request")
        if state.deny:
            return RedirectResponse(
                f"{q['redirect_uri']}?{urlencode({'error': 'access_denied', 'state': q['state']})}", 302
            )
        code = secrets.token_urlsafe(16)
        state.codes[code] = {
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
            "client_id": q["client_id"],
            "profile": dict(state.profile),
            "emails": list(state.emails),
            "scope": q.get("scope", ""),
        }
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def token(request: Request) -> Response:
        state = providers[request.path_params["shape"]]
        form = dict(await request.form())
        state.token_requests.append(form)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != state.client.client_id or not secrets.compare_digest(
            client_secret or "", state.client.client_secret
        ):
            return _error("invalid_client", 401)
        if form.get("grant_type") != "authorization_code":
            return _error("unsupported_grant_type")
        grant = state.codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant["client_id"] != client_id:
            return _error("invalid_grant")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _error("invalid_grant")
        verifier = form.get("code_verifier") or ""
        if not 43 <= len(verifier) <= 128 or _s256(verifier) != grant["challenge"]:
            return _error("invalid_grant")
        access = secrets.token_urlsafe(24)
        state.tokens[access] = grant
        user_key = str(grant["profile"].get("sub") or grant["profile"].get("id"))
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "scope": grant["scope"]}
        if state.shape == "google":
            body["expires_in"] = 3599
            body["id_token"] = "eyJ.fake-id-token." + secrets.token_urlsafe(8)
            if user_key not in state.consented:  # like Google: a refresh token on first consent only
                body["refresh_token"] = "1//refresh-" + secrets.token_urlsafe(12)
                state.consented.add(user_key)
        else:
            body["token_type"] = "bearer"
        return JSONResponse(body)

    def _grant(request: Request) -> dict[str, Any] | None:
        state = providers[request.path_params["shape"]]
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token"):
            return None
        return state.tokens.get(value)

    async def userinfo(request: Request) -> Response:
        grant = _grant(request)
        if grant is None:
            return _error("invalid_token", 401)
        return JSONResponse(grant["profile"])

    async def emails(request: Request) -> Response:
        grant = _grant(request)
        if grant is None:
            return _error("invalid_token", 401)
        return JSONResponse(grant["emails"])

    return Starlette(
        routes=[
            Route("/{shape}/authorize", authorize),
            Route("/{shape}/token", token, methods=["POST"]),
            Route("/{shape}/userinfo", userinfo),  # Google's OpenID userinfo
            Route("/{shape}/user", userinfo),  # GitHub's /user
            Route("/{shape}/user/emails", emails),
        ]
    )


class ProviderServer:
    """Runs the app on 127.0.0.1 on a free port in a background thread."""

    def __init__(self, providers: dict[str, ProviderState]) -> None:
        self.providers = providers
        # Bound here and handed to uvicorn, so no other process can take the port in between.
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(build_app(providers), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> ProviderServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the local OAuth server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

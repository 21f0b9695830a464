"""OAuth sign-in routes: ``/auth/oauth/{provider}/start`` and ``/auth/oauth/{provider}/callback``.

The app mounts ``routes`` and provides ``app.state.settings``, ``.session_factory`` and
``.redis``. ``start`` keeps the PKCE verifier in Redis under the ``state`` (ten minutes,
single use) and binds the state to the browser with an HttpOnly cookie, so a callback
forged in another browser (login CSRF) is refused. ``callback`` exchanges the code, signs
the user in (linking or creating the account) and hands over a session token: a redirect
to ``settings.oauth_success_url#token=...`` when that is set, else JSON.
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..config import Settings, get_settings
from ..errors import AuthError, DomainError, ErrorCode
from . import oauth, revocations
from .client_ip import client_ip
from .service import sign_in_with_oauth
from .tokens import hash_token

STATE_COOKIE = "cf_oauth_state"
STATE_TTL_SECONDS = 600


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


def _state_key(state: str) -> str:
    return f"clipflow:oauth_state:{hash_token(state)}"


def _failure(settings: Settings, code: ErrorCode, message: str, status: int = 400) -> Response:
    if settings.oauth_success_url:
        response: Response = RedirectResponse(
            f"{settings.oauth_success_url}#error={quote(code.value)}", status_code=303
        )
    else:
        response = JSONResponse({"error": {"code": code.value, "message": message}}, status_code=status)
    response.delete_cookie(STATE_COOKIE, path="/auth/oauth")
    return response


async def oauth_start(request: Request) -> Response:
    """Send the browser to the provider's consent page."""
    settings = _settings(request)
    provider = oauth.get_provider(request.path_params["provider"], settings)
    if provider is None:
        return JSONResponse({"error": {"code": "NOT_FOUND", "message": "Unknown sign-in provider."}}, status_code=404)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: within PKCE's 43-128
    await request.app.state.redis.set(
        _state_key(state), json.dumps({"provider": provider.name, "verifier": verifier}), ex=STATE_TTL_SECONDS
    )
    response = RedirectResponse(
        oauth.authorization_url(provider, settings, state=state, code_verifier=verifier), status_code=302
    )
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=STATE_TTL_SECONDS,
        path="/auth/oauth",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.startswith("https://"),
    )
    return response


async def oauth_callback(request: Request) -> Response:
    """Finish the flow: check state, exchange the code, sign in, hand over a session token."""
    settings = _settings(request)
    provider = oauth.get_provider(request.path_params["provider"], settings)
    if provider is None:
        return JSONResponse({"error": {"code": "NOT_FOUND", "message": "Unknown sign-in provider."}}, status_code=404)
    params = request.query_params
    state = params.get("state") or ""
    cookie = request.cookies.get(STATE_COOKIE) or ""
    if not state or not cookie or not hmac.compare_digest(state.encode(), cookie.encode()):
        return _failure(settings, ErrorCode.OAUTH_FAILED, "The sign-in request expired or came from another browser.")
    stored = await request.app.state.redis.getdel(_state_key(state))  # single use
    if stored is None:
        return _failure(settings, ErrorCode.OAUTH_FAILED, "The sign-in request expired; please start again.")
    pending: dict[str, Any] = json.loads(stored)
    if pending.get("provider") != provider.name:
        return _failure(settings, ErrorCode.OAUTH_FAILED, "The sign-in request does not match this provider.")
    if params.get("error"):
        return _failure(settings, ErrorCode.OAUTH_FAILED, f"{provider.name.title()} sign-in was cancelled.")
    code = params.get("code")
    if not code:
        return _failure(settings, ErrorCode.OAUTH_FAILED, "The provider sent no authorization code.")

    try:
        token, profile = await oauth.exchange_code(provider, settings, code=code, code_verifier=pending["verifier"])
        async with request.app.state.session_factory() as session:
            user, session_token, created = await sign_in_with_oauth(
                session, profile=profile, token=token, ip=client_ip(request), user_agent=request.headers.get("user-agent")
            )
            await session.commit()
        # Signing in may have claimed an unverified account (its sessions and keys ended):
        # the user's open sockets re-check now rather than on their next operation.
        await revocations.announce(request.app.state.redis, user_id=user.id)
    except AuthError as exc:
        return _failure(settings, exc.code, exc.message, status=401)
    except DomainError as exc:
        return _failure(settings, exc.code, exc.message)

    if settings.oauth_success_url:
        response: Response = RedirectResponse(
            f"{settings.oauth_success_url}#token={quote(session_token)}", status_code=303
        )
    else:
        response = JSONResponse({"token": session_token, "user_id": str(user.id), "created": created})
    response.delete_cookie(STATE_COOKIE, path="/auth/oauth")
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    Route("/auth/oauth/{provider}/start", oauth_start, methods=["GET"]),
    Route("/auth/oauth/{provider}/callback", oauth_callback, methods=["GET"]),
]

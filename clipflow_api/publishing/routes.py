"""``GET /oauth/social/{platform}/callback``: where a platform sends the browser back after consent.

The app provides ``app.state.settings``, ``.session_factory`` and ``.redis``. The ``state``
names the connect a user started (``accounts.start_connect``). The route exchanges the code
and reads the profile, but stores no account: the consent link may have been forwarded to
someone else, whose approval comes back with the starter's state (a bearer-token API has no
cookie to tell the two browsers apart). It parks the result (``accounts.finish_consent``) and
sends the browser to ``SOCIAL_CONNECT_RETURN_URL`` with
``?platform=<platform>&pending=<id>&workspace=<workspace id>``; the signed-in app then calls
``socialAccountConnectComplete(pendingId:)``, which stores the account only for the user (and
workspace) who started. A failure of the platform step reads ``?platform=<platform>&error=<CODE>``.
Unset, the route answers JSON instead. The pending id works only for that user, once, for
SOCIAL_CONNECT_PENDING_TTL_S; it goes only to the browser that approved. No token goes in the URL.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..auth.client_ip import client_ip
from ..config import Settings, get_settings
from ..errors import DomainError, ErrorCode, PermissionDenied
from ..graphql.relay import global_id
from . import accounts
from .oauth import PlatformUnavailable

log = logging.getLogger(__name__)

_STATUS = {PermissionDenied: 403, PlatformUnavailable: 503}


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or get_settings()


def _answer(settings: Settings, params: dict[str, str], body: dict[str, object], status: int) -> Response:
    if settings.social_connect_return_url:
        base = settings.social_connect_return_url
        response: Response = RedirectResponse(f"{base}{'&' if '?' in base else '?'}{urlencode(params)}", status_code=303)
    else:
        response = JSONResponse(body, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the pending id stays out of Referer headers
    return response


def _failure(settings: Settings, platform: str, exc: DomainError) -> Response:
    status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    return _answer(settings, {"platform": platform, "error": exc.code.value},
                   {"error": {"code": exc.code.value, "message": exc.message}}, status)


async def social_callback(request: Request) -> Response:
    """The platform step of a connect: check the state, exchange the code, park the result for the app to finish."""
    settings = _settings(request)
    platform = request.path_params["platform"]
    params = request.query_params
    try:
        if params.get("error"):
            # the user declined (or the platform refused): use the state up, say so
            await accounts.take_pending(request.app.state.redis, platform, params.get("state") or "")
            raise DomainError(ErrorCode.OAUTH_FAILED, "Connecting the account was cancelled.")
        async with request.app.state.session_factory() as session:
            consented = await accounts.finish_consent(
                session, redis=request.app.state.redis, platform=platform, state=params.get("state") or "",
                code=params.get("code") or "", settings=settings, ip=client_ip(request),
                user_agent=request.headers.get("user-agent"),
            )
    except DomainError as exc:
        return _failure(settings, platform, exc)
    from ..graphql.workspaces.types import Workspace

    workspace_gid = global_id(Workspace, consented.workspace_id)
    return _answer(settings, {"platform": platform, "pending": consented.pending_id, "workspace": workspace_gid},
                   {"platform": platform, "pending": consented.pending_id, "workspace": workspace_gid,
                    "username": consented.profile.username, "displayName": consented.profile.display_name}, 200)


routes = [Route("/oauth/social/{platform}/callback", social_callback, methods=["GET"])]

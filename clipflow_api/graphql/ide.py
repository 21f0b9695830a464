"""GraphiQL (development only) served from files in the package, not from a CDN, so it works offline.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from unpkg.com. The same
files (npm packages, MIT, see ``graphiql/LICENSES.txt``) are kept gzipped in ``graphiql/`` and
served under ``/graphiql/``; the page's ``integrity`` hashes still pin their exact bytes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ASSET_DIR = Path(__file__).parent / "graphiql"
ASSET_PATH = "/graphiql/"
# the page's CDN address -> the gzipped copy here
CDN_ASSETS = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react-18.2.0.production.min.js.gz",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom-18.2.0.production.min.js.gz",
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js-cookie-3.0.5.min.js.gz",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql-3.8.3.min.css.gz",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql-3.8.3.min.js.gz",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer-1.0.2.css.gz",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "plugin-explorer-1.0.2.umd.js.gz",
}
_SERVED = {name.removesuffix(".gz"): name for name in CDN_ASSETS.values()}


def offline_page(html: str) -> str:
    """Strawberry's GraphiQL page with every CDN address replaced by the local copy's."""
    for url, name in CDN_ASSETS.items():
        html = html.replace(url, ASSET_PATH + name.removesuffix(".gz"))
    return html


@cache
def _gzipped(name: str) -> bytes:
    return (ASSET_DIR / name).read_bytes()


async def asset(request: Request) -> Response:
    """One of the page's files, gzip-encoded as stored (every browser accepts gzip)."""
    stored = _SERVED.get(request.path_params["name"])
    if stored is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    media_type = "text/css" if stored.endswith(".css.gz") else "text/javascript"
    # versioned names: a browser may keep them for good
    return Response(_gzipped(stored), media_type=media_type,
                    headers={"Content-Encoding": "gzip", "Cache-Control": "public, max-age=31536000, immutable"})


routes = [Route(ASSET_PATH + "{name:str}", asset, methods=["GET"])]

"""URL import: public addresses only, checked on every connection, redirects included.

The "public" server for these tests listens on 127.0.0.2 and is the one network the
importer is told to allow; everything else on loopback stays refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from clipflow_api.processing.importer import ImportRefused, download, is_public_address

ALLOW = [ipaddress.ip_network("127.0.0.2/32")]
PRIVATE = "This URL points to a private or local network address; only public web addresses can be imported."
BODY = b"\x00\x00\x00\x18ftypmp42" + b"x" * 50_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
async def server():
    port = _port()
    routes = [
        Route("/video.mp4", lambda r: Response(BODY, media_type="video/mp4")),
        Route("/to-private", lambda r: RedirectResponse(f"http://127.0.0.1:{port}/video.mp4")),
        Route("/to-metadata", lambda r: RedirectResponse("http://169.254.169.254/latest/meta-data/")),
        Route("/to-self", lambda r: RedirectResponse("/video.mp4")),
        Route("/loop", lambda r: RedirectResponse("/loop")),
        Route("/missing", lambda r: Response("no", status_code=404)),
    ]
    config = uvicorn.Config(Starlette(routes=routes), host="127.0.0.2", port=port, log_level="error", lifespan="off")
    srv = uvicorn.Server(config)
    task = asyncio.ensure_future(srv.serve())
    while not srv.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.2:{port}"
    srv.should_exit = True
    await task


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1",
                                     "::ffff:127.0.0.1", "224.0.0.1"])
def test_private_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_are(address: str) -> None:
    assert is_public_address(address)


async def test_downloads_a_public_url(server: str, tmp_path) -> None:
    size = await download(f"{server}/video.mp4", tmp_path / "v.mp4", max_bytes=10**6, allow=ALLOW)
    assert size == len(BODY) and (tmp_path / "v.mp4").read_bytes() == BODY


async def test_follows_a_redirect_within_public_space(server: str, tmp_path) -> None:
    assert await download(f"{server}/to-self", tmp_path / "v.mp4", max_bytes=10**6, allow=ALLOW) == len(BODY)


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata"])
async def test_a_redirect_into_private_space_is_refused(server: str, path: str, tmp_path) -> None:
    with pytest.raises(ImportRefused, match=f"^{PRIVATE}$"):
        await download(f"{server}{path}", tmp_path / "v.mp4", max_bytes=10**6, allow=ALLOW)
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x.mp4", "http://localhost/x.mp4", "http://[::1]/x.mp4",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/v.mp4"])
async def test_private_urls_are_refused_before_connecting(url: str, tmp_path) -> None:
    with pytest.raises(ImportRefused, match=f"^{PRIVATE}$"):
        await download(url, tmp_path / "v.mp4", max_bytes=10**6)


@pytest.mark.parametrize(("url", "message"), [
    ("file:///etc/passwd", "Only http and https URLs can be imported."),
    ("ftp://example.com/v.mp4", "Only http and https URLs can be imported."),
    ("http://user:pw@example.com/v.mp4", "URLs with a user name or password cannot be imported."),
])
async def test_other_schemes_and_credentials_are_refused(url: str, message: str, tmp_path) -> None:
    with pytest.raises(ImportRefused, match=f"^{message}$"):
        await download(url, tmp_path / "v.mp4", max_bytes=10**6)


async def test_size_cap_redirect_loops_and_errors(server: str, tmp_path) -> None:
    with pytest.raises(ImportRefused, match="larger than your plan's upload limit of 0 MB"):
        await download(f"{server}/video.mp4", tmp_path / "v.mp4", max_bytes=1000, allow=ALLOW)
    assert not (tmp_path / "v.mp4").exists()
    with pytest.raises(ImportRefused, match="redirects too many times"):
        await download(f"{server}/loop", tmp_path / "v.mp4", max_bytes=10**6, allow=ALLOW)
    with pytest.raises(ImportRefused, match="answered with HTTP 404"):
        await download(f"{server}/missing", tmp_path / "v.mp4", max_bytes=10**6, allow=ALLOW)

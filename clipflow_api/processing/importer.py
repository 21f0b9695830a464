"""Importing a video from an http(s) URL without letting the URL reach our own network.

The check happens where the connection is made: every TCP connection (the first one and
one per redirect hop) resolves the host once, refuses if ANY resolved address is private,
loopback, link-local (169.254.169.254 included), CGNAT, multicast, reserved, unique-local,
site-local, or an IPv6 form that carries an IPv4 address (mapped, 6to4, NAT64) of those,
and then connects to exactly the address it checked, so DNS rebinding between check and
connect is impossible. Redirects are followed by hand (at most five, http/https only) and
the body is streamed to disk with a size cap, a total deadline and a minimum rate (after a
grace period), so a server that trickles bytes cannot hold a worker for hours.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx


MAX_REDIRECTS = 5
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that are not the public internet, beyond what ipaddress flags.
_BLOCKED = [ipaddress.ip_network(n) for n in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "0.0.0.0/8")]
# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052)
# translates to it, so the IPv4 address decides.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Teredo hides its client behind a relay and obfuscation; nothing public needs it.
_TEREDO = ipaddress.ip_network("2001::/32")


class ImportRefused(Exception):
    """The URL may not be fetched; the message is for the user."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str, allow: Iterable[Network] = ()) -> bool:
    """True when ``address`` is on the public internet (or in ``allow``)."""
    ip = ipaddress.ip_address(address)
    if any(ip in net for net in allow):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _TEREDO or ip.is_site_local:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    if any(ip in net for net in allow):
        return True
    if any(ip in net for net in _BLOCKED if net.version == ip.version):
        return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks and connects to the checked address (no second lookup)."""

    def __init__(self, allow: Iterable[Network]) -> None:
        self.allow = tuple(allow)
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001, ANN201
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ImportRefused(f"The address {host} could not be found.") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses or not all(is_public_address(a, self.allow) for a in addresses):
            raise ImportRefused("This URL points to a private or local network address; only public web addresses can be imported.")
        return await self.inner.connect_tcp(addresses[0], port, timeout=timeout, local_address=local_address,
                                            socket_options=socket_options)

    async def connect_unix_socket(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise ImportRefused("Only http and https URLs can be imported.")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allow: Iterable[Network]) -> None:
        super().__init__(retries=0)
        # Same pool httpx builds, with our backend making the connections.
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=_CheckedBackend(allow))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImportRefused("Only http and https URLs can be imported.")
    if parts.username or parts.password:
        raise ImportRefused("URLs with a user name or password cannot be imported.")


async def download(url: str, dest: Path, *, max_bytes: int, timeout: float = 60.0,
                   allow: Iterable[Network] = (), total_timeout: float = 1800.0, min_rate_bps: int = 0,
                   min_rate_grace_s: float = 30.0) -> int:
    """Fetch ``url`` into ``dest`` (at most ``max_bytes``); returns the size written.

    ``timeout`` bounds each read; the whole download must finish within ``total_timeout``
    seconds, and after ``min_rate_grace_s`` it must have averaged ``min_rate_bps``. On any
    refusal ``dest`` is removed: no partial file is left behind.
    """
    # The deadline is also checked between chunks: on Python 3.11 ``wait_for`` can swallow the
    # cancellation ``asyncio.timeout`` relies on when a chunk arrives just as it fires.
    deadline = time.monotonic() + total_timeout
    try:
        async with asyncio.timeout(total_timeout):
            return await _download(url, dest, max_bytes=max_bytes, timeout=timeout, allow=allow,
                                   min_rate_bps=min_rate_bps, min_rate_grace_s=min_rate_grace_s, deadline=deadline)
    except TimeoutError as exc:
        dest.unlink(missing_ok=True)
        raise ImportRefused(f"The download took longer than {_duration(total_timeout)}, so it was stopped; "
                            "use a faster link to the file.") from exc
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


async def _download(url: str, dest: Path, *, max_bytes: int, timeout: float, allow: Iterable[Network],
                    min_rate_bps: int, min_rate_grace_s: float, deadline: float) -> int:
    async with httpx.AsyncClient(transport=_CheckedTransport(allow), follow_redirects=False, timeout=timeout,
                                 headers={"User-Agent": "ClipFlow-Importer/1.0"}) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            _check_url(url)
            try:
                async with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code != 200:
                        raise ImportRefused(f"The URL answered with HTTP {response.status_code}; it must serve the video file.")
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise ImportRefused(_too_big(max_bytes))
                    return await _save(response, dest, max_bytes, min_rate_bps=min_rate_bps, grace_s=min_rate_grace_s,
                                       deadline=deadline)
            except httpx.HTTPError as exc:
                raise ImportRefused(f"The video could not be downloaded ({type(exc).__name__}).") from exc
        raise ImportRefused("The URL redirects too many times.")


async def _save(response: httpx.Response, dest: Path, max_bytes: int, *, min_rate_bps: int, grace_s: float,
                deadline: float) -> int:
    started = time.monotonic()  # the rate is the body's: the total deadline covers connecting and headers
    written = 0
    # no chunk size: bytes as they arrive, or a 64 kB buffer would hide a slow server's progress
    chunks = response.aiter_bytes()
    with dest.open("wb") as out:
        while True:
            # Wait for the next chunk only as long as the average rate since ``started`` can
            # stay at ``min_rate_bps``: a server that sends a byte now and then is cut off
            # when the average falls below, not after a read timeout per byte.
            now = time.monotonic()
            if now >= deadline:
                raise TimeoutError  # the total deadline, answered by download()
            wait = deadline - now
            if min_rate_bps > 0:
                elapsed = now - started
                wait = min(wait, max(grace_s - elapsed, written / min_rate_bps - elapsed, 0.0))
            try:
                chunk = await asyncio.wait_for(anext(chunks), wait)
            except StopAsyncIteration:
                break
            except TimeoutError as exc:
                if time.monotonic() >= deadline:
                    raise
                raise ImportRefused(f"The server sent the video too slowly (under {_rate(min_rate_bps)}), so the "
                                    "download was stopped; use a faster link to the file.") from exc
            written += len(chunk)
            if written > max_bytes:
                raise ImportRefused(_too_big(max_bytes))
            out.write(chunk)
    return written


def _rate(bps: int) -> str:
    return f"{bps / 1000:g} kB/s" if bps >= 1000 else f"{bps} bytes/s"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 120 else f"{seconds:g} seconds"


def _too_big(max_bytes: int) -> str:
    return f"The video is larger than your plan's upload limit of {max_bytes // (1024 * 1024)} MB."

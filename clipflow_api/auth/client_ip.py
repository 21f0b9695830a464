"""The client's address: the connection's peer, or what a trusted proxy says it forwarded.

``X-Forwarded-For`` is believed only when the peer is one of ``FORWARDED_ALLOW_IPS``;
then the list is read from the right, skipping our own proxies, and the first address
that is not one of them is the client (anything left of it was written by the client).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from ..config import get_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: Any, networks: Iterable[Network]) -> bool:
    return address is not None and any(address.version == n.version and address in n for n in networks)


def client_address(peer: str | None, headers: Mapping[str, str], networks: Iterable[Network] | None = None) -> str | None:
    """The client's IP for ``peer`` (the socket's remote address) and the request's headers."""
    networks = list(get_settings().forwarded_allow_ips if networks is None else networks)
    peer_address = _parse(peer) if peer else None
    if not _trusted(peer_address, networks):
        return peer
    forwarded = ",".join(v for k, v in headers.items() if k.lower() == "x-forwarded-for")
    hops = [h for h in (part.strip() for part in forwarded.split(",")) if h]
    client = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # garbage from the client's side of the chain: stop at the last address we trust
        client = str(address)
        if not _trusted(address, networks):
            break
    return client


def client_ip(connection: Any) -> str | None:
    """The client's IP for a Starlette request or websocket (``None`` when unknown)."""
    client = getattr(connection, "client", None)
    headers = getattr(connection, "headers", None) or {}
    state = getattr(getattr(connection, "app", None), "state", None)
    settings = getattr(state, "settings", None) or get_settings()
    return client_address(client.host if client else None, headers, settings.forwarded_allow_ips)

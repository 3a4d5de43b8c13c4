"""Matching a request's Origin against the domains a site allows (docs/contract.md, "A submission")."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_allowed(origin: str | None, domains: Sequence[str]) -> bool:
    """``shop.example.com`` matches that host on any port; ``localhost:3000`` only that port;
    ``*.example.com`` matches its subdomains (not the bare domain)."""
    return _origin_allowed(origin, tuple(domains))


# A site's visitors come from its few origins: each pair is parsed and matched once.
@functools.lru_cache(maxsize=4096)
def _origin_allowed(origin: str | None, domains: tuple[str, ...]) -> bool:
    if not origin or origin == "null":
        return False
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or not host:
        return False
    for domain in domains:
        name, _, wanted_port = domain.partition(":")
        if wanted_port and int(wanted_port) != port:
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]) and host != name[2:]:
                return True
        elif host == name:
            return True
    return False

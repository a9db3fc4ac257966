"""Addresses in settings: which name this machine, and the production rule that refuses them.

A setting other machines act on — a link sent to a citizen, the SMTP relay, the SMS gateway, the
identity provider — must not point at loopback in production: the defaults that run the local
stack (``127.0.0.1``) would otherwise reach production silently and every link would be dead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr


def hosts(address: str) -> list[str]:
    """The hosts named by a URL, a comma-separated list of them (NATS, a MongoDB replica set's
    ``host1:27017,host2:27017``) or a bare host."""
    found = []
    for part in address.split(","):
        part = part.strip()
        if "://" in part:
            part = part.split("://", 1)[1]
        part = part.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
        if part.startswith("["):
            host = part[1:].split("]", 1)[0]
        elif part.count(":") > 1:  # a bare IPv6 address
            host = part
        else:
            host = part.split(":", 1)[0]
        if host:
            found.append(host.lower().rstrip("."))
    return found


def is_local_host(host: str) -> bool:
    """localhost (and *.localhost), 127.0.0.0/8, ::1, and the unspecified 0.0.0.0 / ::."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def is_local(address: str) -> bool:
    """Whether any host the address names is this machine."""
    return any(is_local_host(host) for host in hosts(address))


def refuse_local(settings: BaseModel, names: Iterable[str]) -> None:
    """Raise ValueError naming ``SERAMBI_<NAME>`` when one of those settings points at this machine."""
    for name in names:
        value = getattr(settings, name)
        secret = isinstance(value, SecretStr)
        text = value.get_secret_value() if secret else value
        if isinstance(text, str) and text and is_local(text):
            shown = "" if secret else f"={text!r}"
            raise ValueError(
                f"SERAMBI_{name.upper()}{shown} points at this machine (loopback); production "
                "needs the address other machines and citizens reach it at"
            )


def public_url(value: str, name: str) -> str:
    """An http(s) URL with a host, without a trailing slash; ValueError naming the variable."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"SERAMBI_{name.upper()} must be an http(s) URL with a host, e.g. https://layanan.example.go.id"
        )
    return value.strip().rstrip("/")

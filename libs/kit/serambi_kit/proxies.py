"""Which proxies may name the client: ``SERAMBI_FORWARDED_ALLOW_IPS``.

uvicorn's proxy-headers handling resolves the client before any route runs. When the
connection comes from an address or network on this list, it reads ``X-Forwarded-For`` from
the right, skips every hop that is itself a trusted proxy, and takes the first one that is not
(and ``X-Forwarded-Proto`` for the scheme). A connection from anywhere else keeps its own
address whatever headers it sends, so a client that reaches a port directly cannot choose its
rate-limit bucket, and hops a client wrote to the left of what its proxies added are never
read. Rate limits, the access log and the portal's calls to the services all use the address
it resolves (``request.client.host``).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any

from fastapi import Request
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOOPBACK = ["127.0.0.1", "::1"]


class ProxySettings(BaseSettings):
    """Mixed into the settings of every process that serves HTTP (the services and the portal)."""

    model_config = SettingsConfigDict(env_prefix="SERAMBI_", extra="ignore")
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(LOOPBACK),
        description="addresses or networks of the proxies whose X-Forwarded-For names the client "
        "(the reverse proxy or Ingress, and the portal in front of the services), as a JSON list "
        "or separated by commas as uvicorn's --forwarded-allow-ips: 10.0.0.0/8,127.0.0.1; empty "
        'trusts none; "*" (any) is refused in production',
    )

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _a_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise ValueError(
                        "not a JSON list of strings (or write entries separated by commas)"
                    ) from None
            else:
                value = text.split(",")
        if isinstance(value, list):
            value = [entry.strip() if isinstance(entry, str) else entry for entry in value]
            return [entry for entry in value if entry != ""]
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if entry == "*":
                continue
            try:  # as uvicorn reads them, which would take anything else for a literal host name
                ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or a network (CIDR, host bits 0)") from None
        return entries

    @model_validator(mode="after")
    def _no_wildcard_in_production(self) -> ProxySettings:
        if getattr(self, "environment", "production") == "production" and any(
            entry == "*" or ("/" in entry and ipaddress.ip_network(entry).prefixlen == 0)
            for entry in self.forwarded_allow_ips
        ):
            raise ValueError(
                'SERAMBI_FORWARDED_ALLOW_IPS must not trust every address ("*", a /0 network) in '
                "production: any client could then name its own; list the proxies' addresses"
            )
        return self


def client_of(request: Request) -> str:
    """The client's address as the server resolved it from its trusted proxies."""
    return request.client.host if request.client else "unknown"

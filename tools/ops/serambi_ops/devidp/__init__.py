"""A development OpenID provider for the officer console and the services (``serambi dev up``,
port 8010; tests start it on a free port). See ``provider.py``; refused in production."""

from __future__ import annotations

from pathlib import Path

from joserfc.jwk import RSAKey

PARAMETERS = {"use": "sig", "alg": "RS256"}


def signing_key(path: Path | None) -> RSAKey:
    """The provider's RSA key: kept in ``path`` (created on first use) so that tokens outlive a
    restart, or a new one per process without a path."""
    if path is not None and path.exists():
        key = RSAKey.import_key(path.read_bytes(), parameters=PARAMETERS)
    else:
        key = RSAKey.generate_key(2048, parameters=PARAMETERS, private=True)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_bytes(key.as_pem(private=True))
    key.ensure_kid()
    return key

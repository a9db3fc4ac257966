"""``python -m serambi_ops.devidp --port 8010``: the development OpenID provider.

Starts only when ``SERAMBI_ENVIRONMENT`` is ``development`` or ``test`` (``serambi dev up`` and the
test stacks say so): its accounts share a public password, and an environment left unset is
production.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from werkzeug.serving import make_server

from . import signing_key
from .accounts import DEV_CLIENT_SECRET
from .provider import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="serambi_ops.devidp", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--issuer", help="default http://HOST:PORT")
    parser.add_argument("--key-file", type=Path, help="keep the signing key here across restarts")
    parser.add_argument("--access-token-seconds", type=int, default=300)
    args = parser.parse_args(argv)
    if os.environ.get("SERAMBI_ENVIRONMENT") not in ("development", "test"):
        print(
            "the development OpenID provider is refused in production (SERAMBI_ENVIRONMENT unset "
            "or production): use the organisation's identity provider (deploy/keycloak), or set "
            "SERAMBI_ENVIRONMENT=development on a developer's machine",
            file=sys.stderr,
        )
        return 2
    issuer = args.issuer or f"http://{args.host}:{args.port}"
    secret = os.environ.get("SERAMBI_OIDC_CLIENT_SECRET", DEV_CLIENT_SECRET)
    app = create_app(issuer, signing_key(args.key_file), secret, access_seconds=args.access_token_seconds)
    server = make_server(args.host, args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"development OpenID provider {issuer} (accounts: see README.md)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

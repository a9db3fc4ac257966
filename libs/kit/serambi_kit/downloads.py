"""The headers of every file Serambi hands out: request documents and identity scans, complaint
attachments, answer letters — from the services and relayed by the portal and the console.

A file someone uploaded is untrusted content served from Serambi's own origin. It is sent as a
download (``Content-Disposition: attachment``), never typed by sniffing
(``X-Content-Type-Options: nosniff``), and under a policy that lets it load nothing and run
nothing even if a browser renders it (``Content-Security-Policy: default-src 'none'; sandbox``);
no shared cache keeps it and no referrer leaves with a link out of it.
"""

from __future__ import annotations

import re

SANDBOX_CSP = "default-src 'none'; sandbox"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download_headers(filename: str) -> dict[str, str]:
    """Headers for a file sent as a download named ``filename`` (reduced to ``[A-Za-z0-9._-]``,
    so no quote or line break of a name can reach the header)."""
    safe = _UNSAFE.sub("-", filename).strip("-.") or "berkas"
    return {
        "Content-Disposition": f'attachment; filename="{safe}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX_CSP,
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }

"""Who may open which screen of the console: its areas, the roles that open each, and the signed-in
officer the routes are given (``api/petugas/access.py`` reads the session into one).

The role names are the services' (``serambi_kit.auth.ROLES``; the console checks the two agree
at import), so the console shows exactly what the services will allow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    slug: str
    title: str
    roles: tuple[str, ...]


AREAS = (
    Area("meja", "Meja informasi", ("desk", "admin")),
    Area("penjadwalan", "Penjadwalan", ("scheduler", "admin")),
    Area("pengaduan", "Pengaduan", ("complaint_officer", "complaint_team", "admin")),
    Area("pimpinan", "Pimpinan", ("supervisor", "admin")),
    Area("admin", "Administrasi", ("admin",)),
)
ROLE_NAMES = {
    "desk": "Meja informasi",
    "scheduler": "Penjadwalan",
    "complaint_officer": "Petugas pengaduan",
    "complaint_team": "Tim pengelola pengaduan",
    "supervisor": "Pimpinan",
    "admin": "Administrator",
}


@dataclass(frozen=True)
class Officer:
    subject: str
    name: str
    username: str
    roles: frozenset[str]
    access_token: str

    def may(self, area: Area) -> bool:
        return bool(self.roles & set(area.roles))

    @property
    def areas(self) -> list[Area]:
        return [area for area in AREAS if self.may(area)]

    @property
    def bearer(self) -> dict[str, str]:
        """The header that relays this officer's own token to a service."""
        return {"Authorization": f"Bearer {self.access_token}"}

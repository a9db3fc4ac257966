"""The development provider's accounts: one per Serambi role, one shared development password.

The password is public (README) and the provider refuses to start in production, so these
accounts can never sign anyone in there.
"""

from __future__ import annotations

from dataclasses import dataclass

DEV_PASSWORD = "serambi-dev"  # noqa: S105 — documented in README.md; development only
CLIENT_ID = "serambi-web"
DEV_CLIENT_SECRET = "serambi-web-development-secret"  # noqa: S105 — the web service's default
AUDIENCE = "serambi"  # the services' SERAMBI_AUTH_AUDIENCE


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    name: str
    roles: tuple[str, ...]

    def get_user_id(self) -> str:  # authlib's user interface
        return self.username


ACCOUNTS = {
    account.username: account
    for account in (
        Account("meja", "Petugas Meja Informasi", ("desk",)),
        Account("jadwal", "Petugas Penjadwalan", ("scheduler",)),
        Account("aduan", "Petugas Pengaduan", ("complaint_officer",)),
        Account("tim", "Anggota Tim Pengelola Pengaduan", ("complaint_team",)),
        Account("pimpinan", "Pimpinan Biro", ("supervisor",)),
        Account("admin", "Administrator Serambi", ("admin",)),
    )
}

"""The console's survey screens as data: the services and periods intake reports on, and the
figures in Indonesian words."""

from __future__ import annotations

from .views import MONTHS

SERVICES = {"audiensi": "Fasilitasi audiensi", "pengaduan": "Pengaduan"}
PERIOD = r"^[0-9]{4}(-(0[1-9]|1[0-2]|S[12]))?$"  # intake's survey.PERIOD
CATEGORIES = {"A": "Sangat Baik", "B": "Baik", "C": "Kurang Baik", "D": "Tidak Baik"}


def period_label(period: str) -> str:
    if len(period) == 4:
        return f"tahun {period}"
    if period[5] == "S":
        return f"semester {period[6]} tahun {period[:4]}"
    return f"{MONTHS[int(period[5:7]) - 1]} {period[:4]}"


def number(value: float | None, places: int = 2) -> str:
    """Indonesian decimals (comma)."""
    return "—" if value is None else f"{value:.{places}f}".replace(".", ",")

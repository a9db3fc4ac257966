"""The days and months in Indonesian, as the bureau's letters, messages and pages write dates."""

from __future__ import annotations

#: Monday first, as ``date.weekday()`` counts
DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
#: January first: ``MONTH_NAMES[d.month - 1]``
MONTH_NAMES = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

"""The desk's guest form passes the guest's phone or email and NIK on to intake, which keeps
only their keyed hashes so erasure finds the guest-book entry (issue 19, item 6)."""

from __future__ import annotations

from serambi_web.domain.meja import GUEST_FIELD_OF, GUEST_RULES, guest_body

BASE = {
    "name": "Made Wirawan",
    "institution": "Bank Kalbar",
    "purpose": "Antar surat",
    "request_tracking_code": "",
    "kontak": "",
    "identity_number": "",
}


def test_a_phone_number_goes_to_phone_and_an_address_to_email():
    assert guest_body({**BASE, "kontak": "0812-3456-7890"})["phone"] == "0812-3456-7890"
    assert guest_body({**BASE, "kontak": " made@example.id "})["email"] == "made@example.id"
    assert (
        guest_body({**BASE, "identity_number": "6171011203900007"})["identity_number"] == "6171011203900007"
    )


def test_nothing_given_sends_nothing_and_the_form_field_is_never_sent_as_such():
    body = guest_body(BASE)
    assert body == {"name": "Made Wirawan", "institution": "Bank Kalbar", "purpose": "Antar surat"}
    assert "kontak" not in guest_body({**BASE, "kontak": "0812 3456 7890"})


def test_intakes_refusals_land_on_the_form_field_in_indonesian():
    assert GUEST_FIELD_OF["email"] == GUEST_FIELD_OF["phone"] == "kontak"
    assert "16 angka" in GUEST_RULES["identity_number"] and "nomor HP" in GUEST_RULES["kontak"]

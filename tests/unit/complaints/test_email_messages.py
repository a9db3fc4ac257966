"""The e-mail channel's reading of a message and its settings, without a server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from serambi_complaints.adapters.mail.message import UnreadableMail, html_to_text, key_of, read
from serambi_complaints.settings import ComplaintsSettings


def raw(*headers: str, body: str = "Isi pengaduan.") -> bytes:
    lines = ["From: Rina <rina@example.id>", "Subject: Loket", "Message-ID: <a@example.id>", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def test_html_is_reduced_to_its_text_without_scripts_styles_or_markup():
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<script>document.cookie</script><p>Satu&nbsp;&amp; dua</p><div>tiga<br>empat</div>"
        "<img src=x onerror=alert(1)></body></html>"
    )
    assert html_to_text(html) == "Satu & dua\n\ntiga\nempat"


def test_a_reply_names_the_messages_it_answers_by_their_keys():
    mail = read(raw("In-Reply-To: <first@example.id>", "References: <zero@example.id> <first@example.id>"))
    assert mail.key == key_of("<a@example.id>")
    assert mail.thread == (key_of("<first@example.id>"), key_of("<zero@example.id>"))
    assert (mail.sender, mail.name, mail.subject, mail.text) == (
        "rina@example.id",
        "Rina",
        "Loket",
        "Isi pengaduan.",
    )


@pytest.mark.parametrize(
    "header, why",
    [
        ("Auto-Submitted: auto-replied", "auto-submitted"),
        ("Auto-Submitted: auto-generated", "auto-submitted"),
        ("Precedence: bulk", "precedence"),
        ("Precedence: JUNK", "precedence"),
        ("Return-Path: <>", "null return path (a bounce)"),
        ("List-Id: <warga.example.id>", "mailing list"),
        ("X-Autoreply: yes", "auto-reply"),
        ("Content-Type: multipart/report; report-type=delivery-status; boundary=x", "delivery report"),
    ],
)
def test_mail_sent_by_machines_is_recognised(header, why):
    assert read(raw(header)).automatic == why


def test_mail_a_person_sent_is_not_taken_for_a_machines():
    assert (
        read(raw("Auto-Submitted: no", "Precedence: first-class", "Return-Path: <rina@example.id>")).automatic
        is None
    )


def test_a_message_without_a_sender_address_is_unreadable_and_the_reason_names_nothing_personal():
    with pytest.raises(UnreadableMail) as refused:
        read(b"From: Rina rina at example.id\r\nSubject: 0812\r\n\r\nNIK 6171010101010001\r\n")
    assert str(refused.value) == "unreadable e-mail: no sender address"


def test_a_message_without_a_message_id_is_keyed_by_its_content():
    first = read(b"From: r@example.id\r\n\r\nsatu\r\n")
    assert first.key.startswith("raw-") and first.key == read(b"From: r@example.id\r\n\r\nsatu\r\n").key
    assert first.key != read(b"From: r@example.id\r\n\r\ndua\r\n").key


IMAP = {
    "email_mode": "imap",
    "email_imap_host": "imap.example.go.id",
    "email_imap_user": "pengaduan",
    "email_imap_password": "secret",
}


def test_the_email_channel_needs_its_host_user_and_password_when_enabled():
    with pytest.raises(ValidationError, match="SERAMBI_EMAIL_IMAP_PASSWORD"):
        ComplaintsSettings(**{**IMAP, "email_imap_password": None})
    assert ComplaintsSettings(**IMAP).email_processed_folder == "Serambi/Diproses"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_production_refuses_a_loopback_imap_host(host):
    settings = ComplaintsSettings(**{**IMAP, "email_imap_host": host})  # fine outside production
    assert settings.email_imap_host == host
    with pytest.raises(ValidationError, match="SERAMBI_EMAIL_IMAP_HOST points at this machine"):
        ComplaintsSettings.model_validate({**settings.model_dump(), "environment": "production"})


def test_folder_names_with_quotes_are_refused():
    with pytest.raises(ValidationError, match="SERAMBI_EMAIL_PROCESSED_FOLDER"):
        ComplaintsSettings(email_processed_folder='Serambi/"x"')


def test_a_new_thread_keeps_its_references_and_message_id_for_the_answer_in_that_thread():
    raw = (
        b"From: Rina <rina@example.id>\r\nSubject: Antrean\r\nMessage-ID: <new@mail.example.id>\r\n"
        b"In-Reply-To: <b@elsewhere.example>\r\nReferences: <a@elsewhere.example> <b@elsewhere.example>\r\n"
        b"\r\nIsi\r\n"
    )
    assert read(raw).as_thread == "<a@elsewhere.example> <b@elsewhere.example> <new@mail.example.id>"
    only_reply_to = raw.replace(b"References: <a@elsewhere.example> <b@elsewhere.example>\r\n", b"")
    assert read(only_reply_to).as_thread == "<b@elsewhere.example> <new@mail.example.id>"
    many = raw.replace(
        b"<a@elsewhere.example> <b@elsewhere.example>", b" ".join(b"<r%d@x.example>" % n for n in range(30))
    )
    ids = read(many).as_thread.split()
    assert len(ids) == 11 and ids[0] == "<r20@x.example>" and ids[-1] == "<new@mail.example.id>"
    without_id = raw.replace(b"Message-ID: <new@mail.example.id>\r\n", b"")
    assert read(without_id).as_thread is None


def test_only_attachments_that_may_be_kept_are_decoded(monkeypatch):
    """Of eight PDFs — one too large by its encoded text alone — the intake decodes the first five
    it keeps and nothing else: neither the large one nor the two past the fifth."""
    from email.message import EmailMessage

    from serambi_complaints.adapters.mail import message as message_module
    from serambi_complaints.adapters.mail.intake import MailIntake

    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    composed = EmailMessage()
    composed["From"], composed["Subject"], composed["Message-ID"] = (
        "rina@example.id",
        "Loket",
        "<p@example.id>",
    )
    composed.set_content("Terlampir.")
    for n in range(8):
        data = pdf + (b"0" * 3000 if n == 1 else b"")
        composed.add_attachment(data, maintype="application", subtype="pdf", filename=f"{n}.pdf")
    mail = read(bytes(composed))
    assert len(mail.attachments) == 8 and mail.attachments[1].least_size() > 3000
    decoded: list[int] = []
    original = message_module.Attachment.decode

    def decode(self):
        decoded.append(mail.attachments.index(self))
        return original(self)

    monkeypatch.setattr(message_module.Attachment, "decode", decode)
    intake = MailIntake(
        None,
        None,
        None,
        None,
        None,
        max_attachment_bytes=2000,  # type: ignore[arg-type]
        processed="P",
        rejected="R",
    )
    uploads = intake._uploads(mail)
    assert [upload.field for upload, _ in uploads] == [f"attachments.{n}" for n in (0, 2, 3, 4, 5)]
    assert decoded == [0, 2, 3, 4, 5]

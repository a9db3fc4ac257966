"""The channels on their own: SMTP with STARTTLS, implicit TLS and login against a real aiosmtpd
server; both SMS providers against the real HTTP sink; answer letters from a real HTTP server."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from notifier_harness import TOKEN, Mailbox
from serambi_notifier.adapters.channels.email import Email, SmtpChannel
from serambi_notifier.adapters.channels.sms import JsonProvider, ZenzivaProvider
from serambi_notifier.adapters.letter_fetch import LetterFetcher, LetterMismatchError, LetterUnavailableError
from serambi_notifier.application.ports import PermanentDeliveryError, TransientDeliveryError
from serambi_testing import localstack, samples

NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)


def email(message_id: str = "<t1@serambi.example>") -> Email:
    return Email(
        to="siti@example.go.id",
        subject="Uji",
        text="Halo",
        html="<p>Halo</p>",
        message_id=message_id,
        date=NOW,
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a private CA would issue."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serambi-test-smtp")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def tls_context(certificate):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"notifier" and auth_data.password == b"rahasia"
    return AuthResult(success=ok, handled=False)


async def test_email_goes_over_starttls_with_login_and_a_private_ca(certificate):
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=localstack.free_port(),
        tls_context=tls_context(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        channel = SmtpChannel(
            host="127.0.0.1",
            port=controller.port,
            tls="starttls",
            username="notifier",
            password="rahasia",
            sender="a@serambi.example",
            timeout=5,
            cert_bundle=str(certificate[0]),
        )
        receipt = await channel.send(email())
        assert receipt.message_id == "<t1@serambi.example>"
        assert [m["Message-ID"] for m in mailbox.messages] == ["<t1@serambi.example>"]
        wrong = SmtpChannel(
            host="127.0.0.1",
            port=controller.port,
            tls="starttls",
            username="notifier",
            password="salah",
            sender="a@serambi.example",
            timeout=5,
            cert_bundle=str(certificate[0]),
        )
        with pytest.raises(TransientDeliveryError, match="535"):  # configuration: retried
            await wrong.send(email("<t2@serambi.example>"))
        untrusted = SmtpChannel(
            host="127.0.0.1",
            port=controller.port,
            tls="starttls",
            username="notifier",
            password="rahasia",
            sender="a@serambi.example",
            timeout=5,
        )
        with pytest.raises(TransientDeliveryError):  # certificate not trusted: never sent
            await untrusted.send(email("<t3@serambi.example>"))
        assert len(mailbox.messages) == 1
        for c in (channel, wrong, untrusted):
            await c.close()
    finally:
        controller.stop()


async def test_email_goes_over_implicit_tls(certificate):
    mailbox = Mailbox()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=localstack.free_port(), ssl_context=tls_context(certificate)
    )
    controller.start()
    try:
        channel = SmtpChannel(
            host="127.0.0.1",
            port=controller.port,
            tls="tls",
            username=None,
            password=None,
            sender="a@serambi.example",
            timeout=5,
            cert_bundle=str(certificate[0]),
        )
        await channel.send(email())
        await channel.send(email("<t2@serambi.example>"))  # the connection is reused
        assert len(mailbox.messages) == 2
        await channel.close()
    finally:
        controller.stop()


async def test_the_json_provider_sends_a_client_message_id_and_the_gateway_drops_a_resend(sms_sink):
    provider = JsonProvider(f"{sms_sink.url}/json/messages", TOKEN, "BIROEKONOMI", 5)
    first = await provider.send("+6281234567890", ["Halo"], "delivery-1")
    again = await provider.send("+6281234567890", ["Halo"], "delivery-1")
    assert first.message_id == again.message_id and first.status == "queued"
    records = sms_sink.requests()
    assert [r["duplicate"] for r in records] == [False, True]
    assert records[0]["body"] == {
        "to": "+6281234567890",
        "text": "Halo",
        "sender": "BIROEKONOMI",
        "client_message_id": "delivery-1",
    }
    parts = await provider.send("+6281234567890", ["(1/2) a", "(2/2) b"], "delivery-2")
    assert len(parts.message_id.split(",")) == 2
    assert [r["body"]["client_message_id"] for r in sms_sink.requests()[2:]] == [
        "delivery-2-1",
        "delivery-2-2",
    ]
    bad_token = JsonProvider(f"{sms_sink.url}/json/messages", "wrong", "X", 5)
    with pytest.raises(PermanentDeliveryError, match="401"):
        await bad_token.send("+6281234567890", ["Halo"], "delivery-3")
    for p in (provider, bad_token):
        await p.close()


async def test_the_zenziva_style_provider_posts_a_form_and_reads_its_status(sms_sink):
    provider = ZenzivaProvider(f"{sms_sink.url}/zenziva/api/sendsms/", "user", "pass", 5)
    receipt = await provider.send("+6281234567890", ["Halo"], "delivery-1")
    assert receipt.provider == "zenziva" and receipt.message_id
    [record] = sms_sink.requests()
    assert record["content_type"].startswith("application/x-www-form-urlencoded")
    assert record["body"] == {"userkey": "user", "passkey": "***", "to": "081234567890", "message": "Halo"}
    with pytest.raises(PermanentDeliveryError, match="tidak valid"):
        await provider.send("+62215551234", ["Halo"], "delivery-2")
    await provider.close()


async def test_an_unreachable_gateway_is_transient():
    provider = JsonProvider(f"http://127.0.0.1:{localstack.free_port()}/json", TOKEN, "X", 1)
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        await provider.send("+6281234567890", ["Halo"], "d")
    await provider.close()


class _Letters(BaseHTTPRequestHandler):
    documents: dict[str, tuple[int, bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802
        status, body = self.documents.get(self.path.rsplit("/", 1)[-1], (404, b"{}"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


async def test_a_letter_is_fetched_from_its_public_link_only_if_its_digest_matches():
    pdf = b"%PDF-1.4 surat jawaban"
    good = samples.letter("Lgood").model_copy(
        update={"sha256": hashlib.sha256(pdf).hexdigest(), "size": len(pdf)}
    )
    forged = good.model_copy(update={"document_id": "Lforged"})
    _Letters.documents = {
        "Lgood": (200, pdf),
        "Lforged": (200, b"%PDF-1.4 other letter!"),
        "Ldown": (503, json.dumps({"error": "down"}).encode()),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Letters)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fetcher = LetterFetcher(f"http://127.0.0.1:{server.server_address[1]}/api/v1/letters", 5)
    try:
        assert await fetcher.fetch(good) == pdf
        with pytest.raises(LetterMismatchError):
            await fetcher.fetch(forged)
        with pytest.raises(LetterUnavailableError, match="503"):
            await fetcher.fetch(good.model_copy(update={"document_id": "Ldown"}))
    finally:
        await fetcher.close()
        server.shutdown()
        server.server_close()

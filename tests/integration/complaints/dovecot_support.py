"""A throwaway Dovecot IMAP server for the e-mail channel's tests (Debian's dovecot-imapd,
installed by ``make dovecot``): implicit TLS on a free port of 127.0.0.1 with a self-signed
certificate made here, PLAIN login from a passwd-file, maildir storage, all in a temporary
directory that is removed afterwards.

As root the mail belongs to ``nobody`` (Dovecot refuses uid 0 for mail) and the directory is
made outside pytest's private tmp so that user can reach it; as another user everything runs as
that user.
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from serambi_testing import localstack

USER, PASSWORD = "pengaduan", "rahasia-uji"  # noqa: S105 — a throwaway test server's login


@dataclass
class Dovecot:
    root: Path
    port: int
    process: localstack.ManagedProcess

    @property
    def ca_file(self) -> str:
        return str(self.root / "cert.pem")

    def settings(self, **overrides) -> dict:
        return {
            "email_mode": "imap",
            "email_imap_host": "127.0.0.1",
            "email_imap_port": self.port,
            "email_imap_user": USER,
            "email_imap_password": PASSWORD,
            "email_imap_ca_file": self.ca_file,
            **overrides,
        }

    def connect(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=self.ca_file)
        connection = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        connection.login(USER, PASSWORD)
        return connection

    async def deliver(self, raw: bytes, folder: str = "INBOX", arrived: float | None = None) -> None:
        """Put a message into a folder (IMAP APPEND, as a delivery agent would file it; created
        if missing), arrived now or at ``arrived`` (its INTERNALDATE), in a thread: the service
        under test shares the event loop."""
        await asyncio.to_thread(self._append, raw, folder, time.time() if arrived is None else arrived)

    async def count(self, folder: str) -> int:
        return await asyncio.to_thread(self._count, folder)

    def _append(self, raw: bytes, folder: str, arrived: float) -> None:
        connection = self.connect()
        try:
            if folder != "INBOX":
                connection.create(f'"{folder}"')  # NO when it exists
            status, data = connection.append(f'"{folder}"', None, imaplib.Time2Internaldate(arrived), raw)
            assert status == "OK", data
        finally:
            connection.logout()

    def _count(self, folder: str) -> int:
        connection = self.connect()
        try:
            status, data = connection.select(f'"{folder}"', readonly=True)
            return int(data[0]) if status == "OK" else 0
        finally:
            connection.logout()


def _certificate(root: Path) -> None:
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )


def _config(root: Path, port: int) -> str:
    me = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:
        mail = pwd.getpwnam("nobody")
        users = "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
    else:
        mail = pwd.getpwuid(os.getuid())
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = serambi-test-{port}
{users}protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = plain
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def start(port: int | None = None) -> Dovecot:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        raise RuntimeError("dovecot is not installed: run `make dovecot` (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="serambi-dovecot-"))
    root.chmod(0o755)
    port = port or localstack.free_port()
    _certificate(root)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "dovecot.conf").write_text(_config(root, port))
    home = root / "home" / USER
    home.mkdir(parents=True)
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
    process = localstack.ManagedProcess(
        "dovecot",
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        port,
        root / "stdout.log",
    ).start()
    return Dovecot(root, port, process)


def stop(server: Dovecot) -> None:
    server.process.stop()
    shutil.rmtree(server.root, ignore_errors=True)

"""The e-mail channel: the complaint mailbox polled over IMAP (docs/complaints.md, "E-mail").

``settings`` (the ``SERAMBI_EMAIL_*`` variables), ``imap`` (the mailbox, imaplib in a thread),
``message`` (a raw message read into what a complaint needs), ``intake`` (recording it once).
"""

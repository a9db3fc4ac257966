"""Fixtures of the notifier's integration tests (defined in notifier_harness.py)."""

from notifier_harness import harness, mailbox, sms_sink, tz_mongo  # noqa: F401 — fixtures

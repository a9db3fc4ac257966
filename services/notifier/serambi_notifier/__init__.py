"""serambi_notifier: email and SMS for everyone who must hear about an event (docs/notifier.md)."""

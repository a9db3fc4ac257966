"""The notifier's use cases: plan an event's deliveries, compose and send them exactly once; the
ports they use (channels, letters) are in :mod:`.ports`."""

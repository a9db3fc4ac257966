"""The notifier's pure decisions: which notices an event brings, quiet hours, GSM-7 texts. No I/O."""

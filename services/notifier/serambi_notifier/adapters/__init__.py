"""The notifier's infrastructure: MongoDB (delivery ledger, cases read model, queries), the
channels (SMTP, SMS gateways), the letter fetcher, template rendering and iCalendar files."""

"""Delivery channels: email over SMTP and SMS over an HTTP gateway (the errors and receipts they
answer with are the application's ports: :mod:`serambi_notifier.application.ports`)."""

"""The notifier's HTTP routes: the delivery log and the SMS gateway's delivery receipts."""

from .routes import router

__all__ = ["router"]

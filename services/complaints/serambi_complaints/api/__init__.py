"""The complaints HTTP API."""

from .officer import router as officer_router
from .public import router as public_router

__all__ = ["officer_router", "public_router"]

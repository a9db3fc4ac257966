"""The officer console's routes (``/petugas/``): OpenID Connect sign-in, the session, token relay
and each area's screens. ``main.py`` includes ``router`` and puts the console's container
(``deps.Console``) beside the portal's; the portal's error pages, CSRF and security headers apply
here as well."""

from .routes import router

__all__ = ["router"]

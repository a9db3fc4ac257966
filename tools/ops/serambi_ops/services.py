"""The four services, as the ops CLI knows them."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

from serambi_kit.projections import Projection
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings, refuse_development_secrets

S = TypeVar("S", bound=ServiceSettings)
ENVIRONMENTS = ("development", "test", "production")


def operator_settings(settings_class: type[S] = ServiceSettings, *, vault: bool = False) -> S:
    """A service's settings as an operator command uses them: addresses, credentials, database
    names. The command serves nothing, so what production asks of a serving process (its
    identity provider, its channels' secrets) is not asked of it. The environment is production
    unless ``SERAMBI_ENVIRONMENT`` says otherwise, as for a service; in production a secret
    published in the repository that the environment sets is refused, and a command that opens
    the personal-data vault (``vault``) needs a master key of its own."""
    environment = os.environ.get("SERAMBI_ENVIRONMENT") or "production"
    if environment not in ENVIRONMENTS:
        raise SystemExit(f"error: SERAMBI_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}")
    settings = settings_class(environment="test")  # the serving checks are production's
    settings.environment = environment
    if environment == "production":
        settings.auth_dev_signing_key = None
        try:
            refuse_development_secrets(settings, settings.model_fields_set)
        except ValueError as exc:
            raise SystemExit(f"error: {exc}") from None
        if vault and "pii_master_key" not in settings.model_fields_set:
            raise SystemExit(
                "error: SERAMBI_PII_MASTER_KEY is required in production (the "
                "personal-data vault's master key)"
            )
    return settings


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    port: int

    @property
    def package(self) -> str:
        return f"serambi_{self.name}"

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{name}")

    @property
    def settings_class(self) -> type[ServiceSettings]:
        return getattr(self.module("settings"), f"{self.name.capitalize()}Settings")

    def runtime(self) -> Runtime:
        """The service's runtime as composed by its main module (not started), with the
        settings an operator command uses (``operator_settings``)."""
        return self.module("main").build_runtime(operator_settings(self.settings_class))

    def projections(self) -> tuple[Projection, ...]:
        """The service's read models (``adapters/projections.py`` in every service): an import
        error surfaces, never an empty rebuild."""
        return tuple(self.module("adapters.projections").PROJECTIONS)


SERVICES = {
    service.name: service
    for service in (
        Service("intake", 8001),
        Service("scheduling", 8002),
        Service("complaints", 8003),
        Service("notifier", 8004),
    )
}


def service_named(name: str) -> Service:
    try:
        return SERVICES[name]
    except KeyError:
        raise SystemExit(f"unknown service {name!r}; known: {', '.join(SERVICES)}") from None

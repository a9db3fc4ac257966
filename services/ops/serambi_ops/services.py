"""The four services, as the ops CLI knows them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from serambi_kit.projections import Projection
from serambi_kit.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    port: int

    @property
    def package(self) -> str:
        return f"serambi_{self.name}"

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{name}")

    def runtime(self) -> Runtime:
        """The service's runtime as composed by its main module (not started)."""
        return self.module("main").build_runtime()

    def projections(self) -> tuple[Projection, ...]:
        try:
            return tuple(self.module("projections").PROJECTIONS)
        except ModuleNotFoundError:
            return ()


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

"""`serambi contracts schemas|asyncapi|openapi`: check (default) or regenerate the committed
documents."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import typer
from serambi_contracts import EVENTS
from serambi_kit import asyncapi

from ..compatibility import breaking_changes, canonical
from ..services import SERVICES

app = typer.Typer(no_args_is_help=True)
CONTRACTS_DIR = Path(__file__).resolve().parents[4] / "contracts"
SCHEMAS_DIR = CONTRACTS_DIR / "schemas"
ASYNCAPI_DIR = CONTRACTS_DIR / "asyncapi"
OPENAPI_DIR = CONTRACTS_DIR / "openapi"


def schema_problems(directory: Path = SCHEMAS_DIR) -> tuple[list[str], dict[Path, str]]:
    """(incompatibilities, files whose content would change) for every catalogued event."""
    problems, changes = [], {}
    for event in EVENTS:
        path = directory / f"{event.event_type()}.json"
        current = event.json_schema()
        if path.exists():
            committed = json.loads(path.read_text())
            problems += [f"{event.event_type()} {p}" for p in breaking_changes(committed, current)]
        if not path.exists() or path.read_text() != canonical(current):
            changes[path] = canonical(current)
    known = {f"{event.event_type()}.json" for event in EVENTS}
    for path in sorted(directory.glob("*.json")):
        if path.name not in known:
            problems.append(f"{path.name}: a committed event type is gone from the catalogue")
    return problems, changes


def _changes(directory: Path, document: Callable[[ModuleType, str], dict[str, Any]]) -> dict[Path, str]:
    """The documents whose committed text differs from ``document(a service's main module, its
    name)``:
    each service composed with the development defaults (settings default to production,
    which would ask for its secrets)."""
    os.environ.setdefault("SERAMBI_ENVIRONMENT", "development")
    changes = {}
    for service in SERVICES.values():
        path = directory / f"{service.name}.json"
        text = canonical(document(service.module("main"), service.name))
        if not path.exists() or path.read_text() != text:
            changes[path] = text
    return changes


def asyncapi_changes(directory: Path = ASYNCAPI_DIR) -> dict[Path, str]:
    return _changes(directory, lambda main, name: asyncapi.document(main.asyncapi_app(), name))


def openapi_changes(directory: Path = OPENAPI_DIR) -> dict[Path, str]:
    return _changes(directory, lambda main, _: main.create_app().openapi())


def _write(changes: dict[Path, str]) -> None:
    for path, text in changes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        typer.echo(f"wrote {path.relative_to(CONTRACTS_DIR.parent)}")


@app.command("schemas")
def schemas_command(write: bool = typer.Option(False, help="regenerate the committed schemas")) -> None:
    """Check the committed JSON Schemas against the models (compatible and up to date)."""
    problems, changes = schema_problems()
    for problem in problems:
        typer.echo(f"breaking: {problem}", err=True)
    if problems:
        typer.echo("publish a new versioned event type with an upcaster instead", err=True)
        raise typer.Exit(1)
    if write:
        _write(changes)
    elif changes:
        typer.echo(f"{len(changes)} schema file(s) stale: run `make schemas`", err=True)
        raise typer.Exit(1)


@app.command("asyncapi")
def asyncapi_command(write: bool = typer.Option(False, help="regenerate the committed documents")) -> None:
    """Check the committed AsyncAPI 3 documents against the FastStream apps."""
    changes = asyncapi_changes()
    if write:
        _write(changes)
    elif changes:
        typer.echo(f"{len(changes)} AsyncAPI document(s) stale: run `make asyncapi`", err=True)
        raise typer.Exit(1)


@app.command("openapi")
def openapi_command(write: bool = typer.Option(False, help="regenerate the committed documents")) -> None:
    """Check the committed OpenAPI documents against the services' HTTP APIs."""
    changes = openapi_changes()
    if write:
        _write(changes)
    elif changes:
        typer.echo(f"{len(changes)} OpenAPI document(s) stale: run `make openapi`", err=True)
        raise typer.Exit(1)

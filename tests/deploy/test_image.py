"""deploy/Dockerfile installs only the chosen service's packages (issue #8 §1).

No Docker engine runs here, so the image's install step — the same `uv sync` flags, read from
the Dockerfile — runs into a temporary environment, which must hold that service and nothing of
the others, and must be enough to build the service's app (a dependency the service forgot to
declare fails here, not in production).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from serambi_testing import localstack

from .conftest import DEPLOY, DEPLOYED, ROOT, SERVICE_NAMES

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
SHARED = {"serambi_contracts", "serambi_kit", "serambi_calendar"}
MEMBER_DIRS = ("libs", "services", "tools")  # and contracts/ (pyproject.toml [tool.uv.workspace])


def member_pyprojects() -> list[Path]:
    return [
        ROOT / "contracts" / "pyproject.toml",
        *(p for d in MEMBER_DIRS for p in ROOT.glob(f"{d}/*/pyproject.toml")),
    ]


def sync_flags() -> list[str]:
    match = re.search(r'^ENV SERAMBI_SYNC="([^"]+)"', DOCKERFILE, re.M)
    assert match, "deploy/Dockerfile defines SERAMBI_SYNC"
    return match.group(1).split()


def test_the_dependency_layer_copies_every_workspace_members_pyproject():
    members = {p.parent.relative_to(ROOT).as_posix() for p in member_pyprojects()}
    copied = set(re.findall(r"^COPY (\S+)/pyproject.toml \1/$", DOCKERFILE, re.M))
    assert copied == members


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck_on_livez():
    assert re.search(r"^USER 10001:10001$", DOCKERFILE, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/livez", DOCKERFILE, re.M)


@pytest.mark.parametrize("service", [*DEPLOYED, "ops"])
def test_an_image_holds_its_service_and_none_of_the_others(service: str, tmp_path: Path):
    environment = tmp_path / "venv"
    # uv caches a built workspace package keyed on its pyproject.toml only: rebuild them from the
    # current sources, as a fresh image build does.
    members = member_pyprojects()
    rebuild = [
        arg
        for p in members
        for arg in ("--reinstall-package", tomllib.loads(p.read_text())["project"]["name"])
    ]
    subprocess.run(
        [
            localstack.find_binary("uv"),
            "sync",
            *sync_flags(),
            "--package",
            f"serambi-{service}",
            *rebuild,
            "--python",
            sys.executable,
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment)},
        timeout=240,
    )
    site = next(environment.glob("lib/python*/site-packages"))
    installed = {p.name for p in site.iterdir() if p.name.startswith("serambi_") and "." not in p.name}
    assert not {p.name for p in site.iterdir() if p.name.startswith(("nats_server", "secantus", "pytest"))}
    python = environment / "bin" / "python"
    if service == "ops":
        assert {f"serambi_{name}" for name in SERVICE_NAMES} | SHARED | {"serambi_ops"} == installed
        check = [str(environment / "bin" / "serambi"), "streams", "--help"]
    else:
        assert installed - SHARED == {f"serambi_{service}"}
        check = [str(python), "-c", f"from serambi_{service}.main import create_app; create_app()"]
    result = subprocess.run(
        check,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "SERAMBI_ENVIRONMENT": "test"},
    )
    assert result.returncode == 0, f"serambi-{service} misses a declared dependency?\n{result.stderr[-2000:]}"

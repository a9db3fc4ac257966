"""The import rules (pyproject.toml [tool.importlinter], docs/architecture.md "Import rules").

Each contract is shown to fail on a deliberate violation: the workspace's source trees are copied
into a temporary directory, one violating import is written into the copy, and lint-imports runs
there with the same configuration, on PYTHONPATH entries that point at the copy only (ahead of the
editable installs' .pth entries), so that the copied packages are the ones analysed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
ROOT_PACKAGES: list[str] = CONFIG["root_packages"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}

SERVICES = "Services are independent of each other"
DOMAINS = "Domains import only serambi_contracts, serambi_calendar and the standard library"
LIBRARIES = "Libraries never import a service or the CLI"
TESTING = "No library or service imports the test helpers"
MEMBER_DIRS = ("libs", "services", "tools")  # the workspace's members besides contracts/
USE_CASES = "Use cases import no adapters and no routes"


def _package_dirs(tree: Path) -> list[Path]:
    """The directories holding the root packages (contracts/, libs/<name>/, services/<name>/,
    tools/<name>/), one per package."""
    dirs = []
    for package in ROOT_PACKAGES:
        [init] = [
            *tree.glob(f"contracts/{package}/__init__.py"),
            *(init for members in MEMBER_DIRS for init in tree.glob(f"{members}/*/{package}/__init__.py")),
        ]
        dirs.append(init.parent.parent)
    return dirs


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(path) for path in _package_dirs(tree)),
        "COLUMNS": "300",  # no wrapped lines in the report
    }
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the workspace's packages and the root pyproject.toml."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "contracts", tmp_path / "contracts", ignore=ignore)
    for members in MEMBER_DIRS:
        shutil.copytree(ROOT / members, tmp_path / members, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _violate(tree: Path, module_path: str, statement: str) -> None:
    [path] = [
        *(path for members in MEMBER_DIRS for path in tree.glob(f"{members}/*/{module_path}")),
        *tree.glob(f"contracts/{module_path}"),
    ]
    with path.open("a") as file:
        file.write(f"\n{statement}  # deliberate violation (test_architecture)\n")


def _broken(report: str) -> str:
    """The report's "Broken contracts" section."""
    assert "Broken contracts" in report, report
    return report.split("Broken contracts", 1)[1]


def test_the_copy_is_what_is_analysed(tree: Path) -> None:
    """The copied packages, not the editable installs, are the ones lint-imports imports."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(path) for path in _package_dirs(tree))}
    script = (
        "import importlib.util, sys\nfor name in sys.argv[1:]: print(importlib.util.find_spec(name).origin)"
    )
    origins = subprocess.run(
        [sys.executable, "-c", script, *ROOT_PACKAGES], cwd=tree, env=env, capture_output=True, text=True
    )
    assert origins.returncode == 0, origins.stderr
    files = [Path(line) for line in origins.stdout.split()]
    assert len(files) == len(ROOT_PACKAGES)
    assert all(file.is_relative_to(tree) for file in files), files


def test_the_unmodified_tree_keeps_every_contract() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


def test_the_unmodified_copy_keeps_every_contract(tree: Path) -> None:
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("contract", "module_path", "statement", "chain"),
    [
        # a. a service importing another
        pytest.param(
            SERVICES,
            "serambi_notifier/__init__.py",
            "import serambi_scheduling.domain",
            "serambi_notifier -> serambi_scheduling.domain",
            id="service-imports-service",
        ),
        pytest.param(
            SERVICES,
            "serambi_web/__init__.py",
            "from serambi_intake import settings",
            "serambi_web -> serambi_intake.settings",
            id="web-imports-intake",
        ),
        # b. a domain importing infrastructure, the kit, its own application, pydantic itself;
        # one of the allowed kit helpers importing the rest of the kit
        pytest.param(
            DOMAINS,
            "serambi_scheduling/domain/time.py",
            "import pymongo",
            "serambi_scheduling.domain.time -> pymongo",
            id="domain-imports-pymongo",
        ),
        pytest.param(
            DOMAINS,
            "serambi_complaints/domain/rules.py",
            "from serambi_kit import messaging",
            "serambi_complaints.domain.rules -> serambi_kit.messaging",
            id="domain-imports-kit",
        ),
        pytest.param(
            DOMAINS,
            "serambi_intake/domain/requests.py",
            "from serambi_intake import application",
            "serambi_intake.domain.requests -> serambi_intake.application",
            id="domain-imports-own-application",
        ),
        pytest.param(
            DOMAINS,
            "serambi_scheduling/domain/errors.py",
            "import pydantic",
            "serambi_scheduling.domain.errors -> pydantic",
            id="domain-imports-pydantic",
        ),
        pytest.param(
            DOMAINS,
            "serambi_kit/resends.py",
            "from serambi_kit import tracking_links",
            "serambi_kit.resends -> serambi_kit.tracking_links",
            id="kit-helper-imports-kit",
        ),
        # c. a library importing a service or the CLI
        pytest.param(
            LIBRARIES,
            "serambi_calendar/clocks.py",
            "import serambi_ops",
            "serambi_calendar.clocks -> serambi_ops",
            id="calendar-imports-cli",
        ),
        pytest.param(
            LIBRARIES,
            "serambi_kit/http.py",
            "from serambi_complaints import domain",
            "serambi_kit.http -> serambi_complaints.domain",
            id="kit-imports-service",
        ),
        pytest.param(
            LIBRARIES,
            "serambi_contracts/base.py",
            "import serambi_web",
            "serambi_contracts.base -> serambi_web",
            id="contracts-imports-web",
        ),
        # d. production code importing the test helpers
        pytest.param(
            TESTING,
            "serambi_notifier/main.py",
            "from serambi_testing import samples",
            "serambi_notifier.main -> serambi_testing.samples",
            id="service-imports-testing",
        ),
        pytest.param(
            TESTING,
            "serambi_kit/settings.py",
            "from serambi_testing import localstack",
            "serambi_kit.settings -> serambi_testing.localstack",
            id="kit-imports-testing",
        ),
        # e. a use case importing its service's adapters or routes
        pytest.param(
            USE_CASES,
            "serambi_scheduling/application/commands.py",
            "from serambi_scheduling.adapters import letters",
            "serambi_scheduling.application.commands -> serambi_scheduling.adapters.letters",
            id="scheduling-use-case-imports-letters",
        ),
        pytest.param(
            USE_CASES,
            "serambi_notifier/application/compose.py",
            "from serambi_notifier.adapters import rendering",
            "serambi_notifier.application.compose -> serambi_notifier.adapters.rendering",
            id="notifier-composer-imports-rendering",
        ),
        pytest.param(
            USE_CASES,
            "serambi_intake/application/submission.py",
            "from serambi_intake.api import deps",
            "serambi_intake.application.submission -> serambi_intake.api.deps",
            id="intake-use-case-imports-routes",
        ),
    ],
)
def test_a_violation_breaks_its_contract(
    tree: Path, contract: str, module_path: str, statement: str, chain: str
) -> None:
    _violate(tree, module_path, statement)
    result = _lint_imports(tree)
    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    broken = _broken(result.stdout)
    assert contract in broken, report
    assert chain in broken, report


def test_every_contract_is_named_here() -> None:
    assert {contract["name"] for contract in CONTRACTS.values()} == {
        SERVICES,
        DOMAINS,
        LIBRARIES,
        TESTING,
        USE_CASES,
    }


def test_the_domain_rule_forbids_every_third_party_package_in_the_graph() -> None:
    """A forbidden contract is a deny list: it says "only the standard library and two libraries"
    as long as it names every third-party package the workspace imports."""
    graph = grimp.build_graph(*ROOT_PACKAGES, include_external_packages=True, cache_dir=None)
    third_party = {
        module
        for module in graph.modules
        if module.split(".")[0] not in ROOT_PACKAGES and module.split(".")[0] not in sys.stdlib_module_names
    }
    assert third_party, "no external package in the graph: include_external_packages is off?"
    missing = third_party - set(CONTRACTS["domain-pure"]["forbidden_modules"])
    assert not missing, f"add to the domain-pure contract's forbidden_modules: {sorted(missing)}"


def test_the_folders_say_what_things_are() -> None:
    """services/ holds only the deployables (each runs as ``python -m serambi_<name>``, one image
    each), libs/ the libraries and the test helpers, tools/ the ``serambi`` command."""

    def members(folder: str) -> set[str]:
        return {p.parent.name for p in (ROOT / folder).glob("*/pyproject.toml")}

    assert members("services") == {"intake", "scheduling", "complaints", "notifier", "web"}
    assert all(
        (ROOT / "services" / n / f"serambi_{n}" / "__main__.py").is_file() for n in members("services")
    )
    assert members("libs") == {"kit", "calendar", "testing"}
    assert members("tools") == {"ops"}

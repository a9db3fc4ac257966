"""Intake's and complaints' uploads are spooled to a disk-backed /tmp with a bound, not to
memory (issue #19, items 1 and 3): each process takes at most SERAMBI_MAX_CONCURRENT_UPLOADS
uploads at once, and that many of SERAMBI_MAX_REQUEST_BYTES fit its spool volume — in both
Kubernetes overlays and in Compose, where every other /tmp is a tmpfs with a size (memory,
counted in the container's 512M)."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from serambi_complaints.settings import ComplaintsSettings
from serambi_intake.settings import IntakeSettings

from .conftest import DEPLOY
from .test_compose import OPERATOR, compose

GI = 1024**3
SPOOLING = {"intake": IntakeSettings, "complaints": ComplaintsSettings}
TMPFS_BYTES = {"m": 2**20, "g": 2**30}


def _settings(service: str, env: dict[str, str]):
    """The service's settings as its deployment's environment makes them (defaults otherwise)."""
    names = {
        "SERAMBI_MAX_CONCURRENT_UPLOADS": "max_concurrent_uploads",
        "SERAMBI_MAX_REQUEST_BYTES": "max_request_bytes",
    }
    return SPOOLING[service].model_construct(
        **{
            field: int(env[name]) if name in env else SPOOLING[service].model_fields[field].default
            for name, field in names.items()
        }
    )


@pytest.mark.parametrize("overlay", ["dev", "prod"])
@pytest.mark.parametrize("service", list(SPOOLING))
def test_uploads_spool_to_a_bounded_disk_backed_tmp(kubectl_binary, service, overlay):
    result = subprocess.run(
        [kubectl_binary, "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    deployment = next(
        doc
        for doc in yaml.safe_load_all(result.stdout)
        if doc and doc["kind"] == "Deployment" and doc["metadata"]["name"] == service
    )
    spec = deployment["spec"]["template"]["spec"]
    [container] = [c for c in spec["containers"] if c["name"] == service]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]  # noqa: S108
    [tmp] = [v["emptyDir"] for v in spec["volumes"] if v["name"] == mount["name"]]
    assert tmp.get("medium", "") != "Memory"
    assert tmp["sizeLimit"].endswith("Gi")
    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    assert "SERAMBI_MAX_CONCURRENT_UPLOADS" in env  # the bound is the deployment's, stated beside it
    settings = _settings(service, env)
    assert settings.max_concurrent_uploads * settings.max_request_bytes <= int(tmp["sizeLimit"][:-2]) * GI


def test_compose_spools_uploads_to_disk_and_gives_every_tmpfs_a_size(compose_binary, tmp_path):
    env_file = tmp_path / ".env"
    subprocess.run(
        ["sh", str(DEPLOY / "compose" / "init-env.sh"), str(env_file)], check=True, capture_output=True
    )
    result = compose(
        compose_binary, "--profile", "tools", "config", "--format", "yaml", env_file=env_file, env=OPERATOR
    )
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    for name in SPOOLING:
        service = rendered["services"][name]
        assert not service.get("tmpfs"), f"{name}: /tmp must not be memory"
        [spool] = [v for v in service["volumes"] if v["target"] == "/tmp"]  # noqa: S108
        assert spool["type"] == "volume" and spool["source"] in rendered["volumes"]
        settings = _settings(name, service["environment"])
        assert settings.max_concurrent_uploads <= 16
        assert settings.max_concurrent_uploads * settings.max_request_bytes <= GI  # of the host's disk
    limited = 0
    for name, service in rendered["services"].items():
        limit = service.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory")
        if limit is None:
            continue
        limited += 1
        for tmpfs in service.get("tmpfs", []):
            size = re.search(r"size=(\d+)([mg])", tmpfs)
            assert size, f"{name}: a tmpfs without a size ({tmpfs}) takes its memory without a bound"
            assert int(size[1]) * TMPFS_BYTES[size[2]] <= int(limit) // 2, name
    assert limited >= 5  # the four services and the portal

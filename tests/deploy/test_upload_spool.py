"""Intake's and complaints' uploads are spooled to a disk-backed /tmp with a bound, not to
memory (issue #19, item 1): 16 uploads of the service's maximum size fit."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from serambi_complaints.settings import ComplaintsSettings
from serambi_intake.settings import IntakeSettings

from .conftest import DEPLOY

GI = 1024 ** 3
CONCURRENT_UPLOADS = 16


@pytest.mark.parametrize(("service", "settings"), [("intake", IntakeSettings), ("complaints", ComplaintsSettings)])
def test_uploads_spool_to_a_bounded_disk_backed_tmp(kubectl_binary, service, settings):
    result = subprocess.run([kubectl_binary, "kustomize", str(DEPLOY / "k8s" / "overlays" / "prod")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    deployment = next(doc for doc in yaml.safe_load_all(result.stdout)
                      if doc and doc["kind"] == "Deployment" and doc["metadata"]["name"] == service)
    spec = deployment["spec"]["template"]["spec"]
    [mount] = [m for c in spec["containers"] for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]  # noqa: S108
    [tmp] = [v["emptyDir"] for v in spec["volumes"] if v["name"] == mount["name"]]
    assert tmp.get("medium", "") != "Memory"
    assert tmp["sizeLimit"].endswith("Gi")
    request_bytes = settings.model_fields["max_request_bytes"].default
    assert int(tmp["sizeLimit"][:-2]) * GI >= CONCURRENT_UPLOADS * request_bytes

"""The portal's content file (texts of the information page, the bureau's contacts) is
deployed from deploy/web/layanan.toml: a ConfigMap in Kubernetes, a bind-mounted file in
compose. The bureau edits it without building a new image."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from serambi_web.adapters import content

from .conftest import DEPLOY, PORTAL
from .test_compose import OPERATOR, compose
from .test_compose import env_file as env_file  # noqa: F401 (a fixture)

DEPLOYED_CONTENT = DEPLOY / "web" / "layanan.toml"
MOUNTED = "/etc/serambi/content/layanan.toml"


def test_the_deployed_content_file_is_the_packaged_default_and_loads():
    assert DEPLOYED_CONTENT.read_text() == Path(content.PACKAGED).read_text()
    assert content.load(str(DEPLOYED_CONTENT))


@pytest.mark.parametrize("target", ["base", "overlays/dev", "overlays/prod"])
def test_kubernetes_mounts_the_content_config_map_where_the_portal_reads_it(kubectl_binary, target):
    result = subprocess.run(
        [kubectl_binary, "kustomize", str(DEPLOY / "k8s" / target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    portal = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == PORTAL)
    spec = portal["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert {"name": "SERAMBI_CONTENT_FILE", "value": MOUNTED} in container["env"]
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == str(Path(MOUNTED).parent))
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    name = volume["configMap"]["name"]
    assert mount["readOnly"] and name.startswith("web-content-")  # hashed: an edit rolls the pods
    config_map = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name)
    assert config_map["data"][Path(MOUNTED).name] == DEPLOYED_CONTENT.read_text()


def test_compose_bind_mounts_the_content_file_read_only_where_the_portal_reads_it(compose_binary, env_file):  # noqa: F811
    result = compose(compose_binary, "config", "--format", "json", env_file=env_file, env=OPERATOR)
    assert result.returncode == 0, result.stderr
    portal = json.loads(result.stdout)["services"][PORTAL]
    assert portal["environment"]["SERAMBI_CONTENT_FILE"] == MOUNTED
    [mount] = [v for v in portal["volumes"] if v["target"] == MOUNTED]
    assert Path(mount["source"]) == DEPLOYED_CONTENT and mount["read_only"] and mount["type"] == "bind"

"""deploy/k8s: the base and both overlays, rendered by kustomize (kubectl's) and validated
(issue #8 §3, §6).

Every rendered object is validated against the Kubernetes 1.33 schemas by kubernetes-validate in
strict mode (unknown fields fail); KEDA ScaledObjects, a custom resource it has no schema for,
against deploy/k8s/schemas/keda-scaledobject.schema.json.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import jsonschema
import kubernetes_validate
import pytest
import yaml
from serambi_kit.settings import ServiceSettings
from serambi_web.settings import WebSettings

from .conftest import DEPLOY, DEPLOYED, PORTAL, SERVICE_NAMES

K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.33.0"  # the oldest version the manifests support
TARGETS = ("base", "overlays/dev", "overlays/prod")
SCALED_OBJECT_SCHEMA = json.loads((K8S / "schemas" / "keda-scaledobject.schema.json").read_text())
WORKLOADS = ("Deployment", "StatefulSet", "Job")


@pytest.fixture(scope="module")
def rendered(kubectl_binary: str) -> dict[str, list[dict]]:
    """target → its objects, as `kubectl kustomize` renders them (fails on a broken reference)."""
    objects = {}
    for target in TARGETS:
        result = subprocess.run(
            [kubectl_binary, "kustomize", str(K8S / target)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"{target}: {result.stderr}"
        objects[target] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return objects


def of_kind(objects: list[dict], *kinds: str) -> Iterator[dict]:
    return (o for o in objects if o["kind"] in kinds)


def named(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def validate(document: dict) -> None:
    if document["kind"] == "ScaledObject":
        jsonschema.Draft202012Validator(SCALED_OBJECT_SCHEMA).validate(document)
        assert document["spec"]["minReplicaCount"] <= document["spec"]["maxReplicaCount"]
    else:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("target", TARGETS)
def test_every_rendered_manifest_is_valid_in_strict_mode(rendered, target):
    kinds = set()
    for document in rendered[target]:
        validate(document)
        kinds.add(document["kind"])
    assert {"Deployment", "StatefulSet", "Service", "PodDisruptionBudget", "ScaledObject", "Job"} <= kinds


def test_the_production_secrets_template_is_valid_and_covers_every_secret_the_manifests_use(rendered):
    template = [d for d in yaml.safe_load_all((K8S / "overlays/prod/secrets.template.yaml").read_text()) if d]
    for document in template:
        validate(document)
        assert set(document["stringData"].values()) == {"REPLACE_ME"}
    provided = {(d["metadata"]["name"], key) for d in template for key in d["stringData"]}
    assert secret_references(rendered["overlays/prod"]) <= provided
    dev = {
        (d["metadata"]["name"], key) for d in of_kind(rendered["overlays/dev"], "Secret") for key in d["data"]
    }
    assert provided == dev  # development generates exactly the Secrets production must create


def test_the_schema_of_scaled_objects_is_strict(rendered):
    scaled = named(rendered["base"], "ScaledObject", "intake")
    misspelt = json.loads(json.dumps(scaled))
    trigger = next(t for t in misspelt["spec"]["triggers"] if t["type"] == "nats-jetstream")
    trigger["metadata"]["lagTreshold"] = trigger["metadata"].pop("lagThreshold")
    unknown_type = json.loads(json.dumps(scaled))
    unknown_type["spec"]["triggers"][0]["type"] = "nats"
    for broken in (misspelt, unknown_type):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def secret_references(objects: list[dict]) -> set[tuple[str, str]]:
    references = set()
    for workload in of_kind(objects, *WORKLOADS):
        spec = pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    references.add((ref["name"], ref["key"]))
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                references |= {
                    (volume["secret"]["secretName"], item["key"]) for item in volume["secret"]["items"]
                }
    return references


@pytest.mark.parametrize("target", TARGETS)
def test_every_pod_runs_restricted_with_limits_and_every_service_has_probes(rendered, target):
    for workload in of_kind(rendered[target], *WORKLOADS):
        spec, name = pod_spec(workload), workload["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert set(container["resources"]) == {"requests", "limits"}, name
        if workload["kind"] == "StatefulSet" or name in DEPLOYED:
            container = spec["containers"][0]
            assert {"livenessProbe", "readinessProbe", "startupProbe"} <= set(container), name
    namespace = next(of_kind(rendered[target], "Namespace"))
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("target", TARGETS)
def test_every_env_reference_is_defined_earlier_in_its_container(rendered, target):
    for workload in of_kind(rendered[target], *WORKLOADS):
        for container in pod_spec(workload)["containers"]:
            defined: set[str] = set()
            for variable in container.get("env", []):
                for reference in re.findall(r"\$\((\w+)\)", variable.get("value", "")):
                    assert reference in defined, (workload["metadata"]["name"], variable["name"], reference)
                defined.add(variable["name"])


@pytest.mark.parametrize("target", TARGETS)
def test_every_service_and_disruption_budget_selects_pods(rendered, target):
    pod_labels = [w["spec"]["template"]["metadata"]["labels"] for w in of_kind(rendered[target], *WORKLOADS)]
    for selector_owner in of_kind(rendered[target], "Service", "PodDisruptionBudget"):
        spec = selector_owner["spec"]
        selector = (
            spec["selector"] if selector_owner["kind"] == "Service" else spec["selector"]["matchLabels"]
        )
        assert any(selector.items() <= labels.items() for labels in pod_labels), selector_owner["metadata"]
    pdbs = {p["metadata"]["name"] for p in of_kind(rendered[target], "PodDisruptionBudget")}
    assert {*DEPLOYED, "nats", "mongo"} <= pdbs


@pytest.mark.parametrize("target", TARGETS)
def test_each_service_scales_on_the_lag_of_each_of_its_own_durable_consumers(
    rendered, target, declared_consumers
):
    objects = rendered[target]
    namespace = next(of_kind(objects, "Namespace"))["metadata"]["name"]
    for service in SERVICE_NAMES:
        scaled = named(objects, "ScaledObject", service)
        assert (
            scaled["spec"]["scaleTargetRef"]["name"]
            == named(objects, "Deployment", service)["metadata"]["name"]
        )
        nats_triggers = [t["metadata"] for t in scaled["spec"]["triggers"] if t["type"] == "nats-jetstream"]
        assert {(t["stream"], t["consumer"]) for t in nats_triggers} == {
            (spec.stream, spec.durable) for spec in declared_consumers[service]
        }, f"{service}: one nats-jetstream trigger per durable consumer"
        for trigger in nats_triggers:
            assert (
                trigger["natsServerMonitoringEndpoint"] == f"nats-headless.{namespace}.svc.cluster.local:8222"
            )
            assert trigger["account"] == "SERAMBI"


@pytest.mark.parametrize("target", TARGETS)
def test_the_nats_cluster_runs_the_deploy_nats_config_with_every_users_password(rendered, target):
    objects = rendered[target]
    config = next(c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("nats-config"))
    for name in ("nats.conf", "auth.conf"):
        assert config["data"][name] == (DEPLOY / "nats" / name).read_text()
    nats = named(objects, "StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 3
    environment = {v["name"] for v in pod_spec(nats)["containers"][0]["env"]}
    needed = set(re.findall(r"\$(NATS_\w+)", (DEPLOY / "nats" / "nats.conf").read_text()))
    needed |= set(re.findall(r"\$(NATS_\w+)", (DEPLOY / "nats" / "auth.conf").read_text()))
    assert needed <= environment
    assert named(objects, "StatefulSet", "mongo")["spec"]["replicas"] == 3
    job = named(objects, "Job", "streams-apply")
    assert pod_spec(job)["containers"][0]["args"] == ["streams", "apply"]


def service_environment(objects: list[dict], service: str) -> dict[str, str]:
    """What the service's settings will read: its ConfigMap, then its own variables."""
    container = pod_spec(named(objects, "Deployment", service))["containers"][0]
    config_name = container["envFrom"][0]["configMapRef"]["name"]
    environment = dict(named(objects, "ConfigMap", config_name)["data"])
    for variable in container["env"]:
        environment[variable["name"]] = variable.get("value", "from-a-secret")
    return environment


def test_the_development_overlay_configures_valid_development_settings(rendered):
    for service in SERVICE_NAMES:
        environment = service_environment(rendered["overlays/dev"], service)
        settings = ServiceSettings(
            **{
                k.removeprefix("SERAMBI_").lower(): v
                for k, v in environment.items()
                if k.startswith("SERAMBI_")
            }
        )
        assert settings.environment == "development" and settings.stream_replicas == 3
        assert settings.nats_user == service


def test_the_production_overlay_configures_valid_production_settings(rendered):
    for service in SERVICE_NAMES:
        environment = service_environment(rendered["overlays/prod"], service)
        settings = ServiceSettings(
            **{
                k.removeprefix("SERAMBI_").lower(): v
                for k, v in environment.items()
                if k.startswith("SERAMBI_")
            }
        )
        assert settings.environment == "production" and settings.auth_jwks_url


@pytest.mark.parametrize("target", TARGETS)
def test_the_portal_scales_on_its_cpu_and_reaches_each_service_through_its_kubernetes_service(
    rendered, target
):
    objects = rendered[target]
    scaled = named(objects, "ScaledObject", PORTAL)
    assert (
        scaled["spec"]["scaleTargetRef"]["name"] == named(objects, "Deployment", PORTAL)["metadata"]["name"]
    )
    assert [t["type"] for t in scaled["spec"]["triggers"]] == ["cpu"]  # it consumes no stream
    assert scaled["spec"]["minReplicaCount"] >= (1 if target == "overlays/dev" else 2)
    environment = service_environment(objects, PORTAL)
    services = {s["metadata"]["name"]: s["spec"]["ports"] for s in of_kind(objects, "Service")}
    for backend in ("intake", "complaints", "scheduling"):
        assert environment[f"SERAMBI_{backend.upper()}_URL"] == f"http://{backend}", backend
        assert [port["port"] for port in services[backend]] == [80], backend
    assert environment["SERAMBI_SECURE_COOKIES"] == "true"
    portal = pod_spec(named(objects, "Deployment", PORTAL))["containers"][0]
    assert not any("NATS" in v["name"] or "MONGO" in v["name"] or "PII" in v["name"] for v in portal["env"])


def test_the_development_overlay_configures_valid_development_settings_for_the_portal(rendered):
    environment = service_environment(rendered["overlays/dev"], PORTAL)
    settings = WebSettings(
        **{k.removeprefix("SERAMBI_").lower(): v for k, v in environment.items() if k.startswith("SERAMBI_")}
    )
    assert settings.environment == "development" and settings.secure_cookies
    assert settings.intake_url == "http://intake"


def test_the_production_portal_signs_officers_in_at_the_realm_with_its_client_secret(rendered):
    from serambi_web.settings import ConsoleSettings

    environment = service_environment(rendered["overlays/prod"], PORTAL)
    container = pod_spec(named(rendered["overlays/prod"], "Deployment", PORTAL))["containers"][0]
    secret = next(v for v in container["env"] if v["name"] == "SERAMBI_OIDC_CLIENT_SECRET")
    assert secret["valueFrom"]["secretKeyRef"] == {"name": "serambi-web", "key": "oidc-client-secret"}
    settings = ConsoleSettings(
        **{k.removeprefix("SERAMBI_").lower(): v for k, v in environment.items() if k.startswith("SERAMBI_")}
    )
    assert settings.environment == "production" and settings.oidc_client_id == "serambi-web"
    assert settings.oidc_issuer == environment["SERAMBI_AUTH_ISSUER"]
    template = (K8S / "overlays" / "prod" / "secrets.template.yaml").read_text()
    assert "oidc-client-secret: REPLACE_ME" in template


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


@pytest.mark.parametrize("target", TARGETS)
def test_the_portals_tmp_holds_its_concurrent_uploads_and_its_memory_limit_holds_tmp_and_the_process(
    rendered, target
):
    """The portal's tmp volume is memory-backed: uploads spooled there count against the limit."""
    web = named(rendered[target], "Deployment", "web")
    spec = pod_spec(web)
    container = next(c for c in spec["containers"] if c["name"] == "web")
    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    settings = WebSettings(
        max_concurrent_uploads=env["SERAMBI_MAX_CONCURRENT_UPLOADS"],
        max_request_bytes=env["SERAMBI_MAX_REQUEST_BYTES"],
    )
    tmp = next(v for v in spec["volumes"] if v["name"] == "tmp")["emptyDir"]
    uploads = settings.max_concurrent_uploads * settings.max_request_bytes / 2**20
    assert tmp["medium"] == "Memory" and mebibytes(tmp["sizeLimit"]) >= uploads
    process = 150  # MiB: the portal's resident size under load (docs/performance.md)
    assert mebibytes(container["resources"]["limits"]["memory"]) >= mebibytes(tmp["sizeLimit"]) + process

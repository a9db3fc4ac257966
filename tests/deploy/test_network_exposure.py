"""The public surface of a deployment (issue 19 item 9), read from the rendered manifests.

- Every HTTP process answers its operations endpoints (/metrics, /docs, /openapi.json, probes)
  on the internal port of the image (SERAMBI_INTERNAL_PORT) only: the probes and Prometheus's
  scrape annotations use it, no Service exposes it, compose publishes only the HTTP ports.
- The NetworkPolicies, evaluated here as Kubernetes does (a pod selected by a policy accepts
  only what some rule of one of its policies allows): only the ingress controller reaches the
  portal and the services' HTTP port, the portal reaches the services, only the services and
  the ops jobs reach NATS and MongoDB, NATS's monitoring port is closed to every other namespace
  but KEDA's operator, and only Prometheus reaches the internal port.
- The prod overlay has an Ingress with TLS for SERAMBI_PUBLIC_BASE_URL's host, routing the portal
  and the public paths, and no officer API or internal port.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import yaml

from .conftest import DEPLOY, DEPLOYED, SERVICE_NAMES
from .test_compose import COMPOSE_DIR, OPERATOR, compose
from .test_production_config import image_environment, write_init_env

K8S = DEPLOY / "k8s"
TARGETS = ("base", "overlays/dev", "overlays/prod")
NAMESPACE = "serambi"
INTERNAL = int(image_environment()["SERAMBI_INTERNAL_PORT"])


@pytest.fixture(scope="module")
def rendered(kubectl_binary: str) -> dict[str, list[dict]]:
    objects = {}
    for target in TARGETS:
        result = subprocess.run(
            [kubectl_binary, "kustomize", str(K8S / target)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        objects[target] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return objects


def named(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def container(objects: list[dict], name: str) -> dict:
    kind = "StatefulSet" if name in ("nats", "mongo") else "Deployment"
    return named(objects, kind, name)["spec"]["template"]["spec"]["containers"][0]


# -- the internal port ----------------------------------------------------------------------------


def test_the_image_gives_every_http_process_an_internal_port_and_checks_its_health_there():
    assert INTERNAL != int(image_environment()["SERAMBI_HTTP_PORT"])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(rf"^EXPOSE 8000 {INTERNAL}$", dockerfile, re.M)
    assert "SERAMBI_INTERNAL_PORT" in dockerfile.split("HEALTHCHECK", 1)[1]


@pytest.mark.parametrize("target", TARGETS)
def test_probes_and_the_prometheus_scrape_use_the_internal_port_which_no_service_exposes(rendered, target):
    objects = rendered[target]
    for name in DEPLOYED:
        pod = named(objects, "Deployment", name)["spec"]["template"]
        main = pod["spec"]["containers"][0]
        ports = {port["name"]: port["containerPort"] for port in main["ports"]}
        assert ports == {"http": 8000, "internal": INTERNAL}, name
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert main[probe]["httpGet"]["port"] == "internal", (name, probe)
        annotations = pod["metadata"]["annotations"]
        assert (
            annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
        )
        assert int(annotations["prometheus.io/port"]) == INTERNAL, name
        service = named(objects, "Service", name)
        assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"], name


def test_compose_publishes_no_internal_port(compose_binary, tmp_path):
    import json

    env_file = write_init_env(tmp_path)
    result = compose(compose_binary, "config", "--format", "json", env_file=env_file, env=OPERATOR)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in DEPLOYED:
        targets = [port["target"] for port in services[name].get("ports", [])]
        assert targets == [8000], name
        assert "SERAMBI_INTERNAL_PORT" not in services[name]["environment"]  # the image's 8090
    assert COMPOSE_DIR.is_dir()


# -- network policies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """A connection's source: a pod's labels in a namespace, or a namespace's outsider."""

    namespace: str
    labels: dict = field(default_factory=dict, hash=False)


def pod(name: str, namespace: str = NAMESPACE, **labels: str) -> Peer:
    return Peer(
        namespace,
        {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "serambi", **labels}
        if namespace == NAMESPACE
        else {"app.kubernetes.io/name": name, **labels},
    )


def _matches(selector: dict | None, labels: dict) -> bool:
    if selector is None:
        return True
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and expression["key"] not in labels:
            return False
        if operator == "DoesNotExist" and expression["key"] in labels:
            return False
    return True


def _peer_matches(peer_rule: dict, source: Peer) -> bool:
    if "ipBlock" in peer_rule:
        return False  # no policy here opens to addresses
    namespaces, pods = peer_rule.get("namespaceSelector"), peer_rule.get("podSelector")
    if namespaces is None:  # pods of the policy's own namespace
        return source.namespace == NAMESPACE and _matches(pods, source.labels)
    namespace_labels = {"kubernetes.io/metadata.name": source.namespace}
    return _matches(namespaces, namespace_labels) and _matches(pods or {}, source.labels)


def reaches(objects: list[dict], source: Peer, target: str, port_name: str) -> bool:
    """Whether ``source`` may open a connection to the ``port_name`` port of ``target``'s pods."""
    workload = next(
        o for o in objects if o["kind"] in ("Deployment", "StatefulSet") and o["metadata"]["name"] == target
    )
    labels = workload["spec"]["template"]["metadata"]["labels"]
    ports = {
        p["name"]: p["containerPort"] for p in workload["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    policies = [
        p
        for p in objects
        if p["kind"] == "NetworkPolicy"
        and "Ingress" in p["spec"]["policyTypes"]
        and _matches(p["spec"]["podSelector"], labels)
    ]
    if not policies:
        return True
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            peers_ok = "from" not in rule or any(_peer_matches(peer, source) for peer in rule["from"])
            ports_ok = "ports" not in rule or any(
                p["port"] in (port_name, ports[port_name]) for p in rule["ports"]
            )
            if peers_ok and ports_ok:
                return True
    return False


INGRESS = Peer("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
PROMETHEUS = Peer("monitoring", {"app.kubernetes.io/name": "prometheus"})
KEDA = Peer("keda", {"app.kubernetes.io/name": "keda-operator"})
OUTSIDERS = [
    Peer("default", {"app": "anything"}),
    Peer("other-team", {"app.kubernetes.io/name": "intake"}),
    Peer("keda", {"app.kubernetes.io/name": "keda-metrics-apiserver"}),
]
CLIENTS = [*SERVICE_NAMES, "ops", "streams-apply"]


@pytest.mark.parametrize("target", TARGETS)
def test_only_the_ingress_reaches_the_portal_and_only_the_ingress_and_the_portal_the_services(
    rendered, target
):
    objects = rendered[target]
    assert reaches(objects, INGRESS, "web", "http")
    for service in SERVICE_NAMES:
        assert reaches(objects, INGRESS, service, "http"), service
        assert reaches(objects, pod("web"), service, "http"), service
    for outsider in (*OUTSIDERS, PROMETHEUS, KEDA, pod("ops"), pod("nats"), pod("intake")):
        assert not reaches(objects, outsider, "web", "http"), outsider
        for service in SERVICE_NAMES:
            if outsider.labels.get("app.kubernetes.io/name") != "web":
                assert not reaches(objects, outsider, service, "http"), (outsider, service)


@pytest.mark.parametrize("target", TARGETS)
def test_only_prometheus_reaches_the_internal_port(rendered, target):
    objects = rendered[target]
    for name in DEPLOYED:
        assert reaches(objects, PROMETHEUS, name, "internal"), name
        for other in (INGRESS, KEDA, *OUTSIDERS, pod("web"), pod("ops")):
            assert not reaches(objects, other, name, "internal"), (other, name)


@pytest.mark.parametrize("target", TARGETS)
def test_only_the_services_and_the_ops_jobs_reach_nats_and_mongodb(rendered, target):
    objects = rendered[target]
    for client in CLIENTS:
        assert reaches(objects, pod(client), "nats", "client"), client
    for client in [*SERVICE_NAMES, "ops", "mongo-init"]:
        assert reaches(objects, pod(client), "mongo", "mongo"), client
    assert reaches(objects, pod("nats"), "nats", "cluster") and reaches(
        objects, pod("mongo"), "mongo", "mongo"
    )
    for stranger in (pod("web"), INGRESS, PROMETHEUS, KEDA, *OUTSIDERS):
        assert not reaches(objects, stranger, "nats", "client"), stranger
        assert not reaches(objects, stranger, "mongo", "mongo"), stranger
    assert not reaches(objects, pod("intake"), "nats", "cluster")


@pytest.mark.parametrize("target", TARGETS)
def test_the_nats_monitoring_port_is_closed_to_other_namespaces_but_kedas_operator(rendered, target):
    objects = rendered[target]
    assert reaches(objects, KEDA, "nats", "monitor")  # the ScaledObjects' lag
    for other in (INGRESS, PROMETHEUS, *OUTSIDERS, *[pod(c) for c in CLIENTS], pod("web")):
        assert not reaches(objects, other, "nats", "monitor"), other
    scaled = [o for o in objects if o["kind"] == "ScaledObject"]
    endpoints = {
        t["metadata"]["natsServerMonitoringEndpoint"]
        for o in scaled
        for t in o["spec"]["triggers"]
        if t["type"] == "nats-jetstream"
    }
    assert endpoints == {f"nats-headless.{NAMESPACE}.svc.cluster.local:8222"}


def test_the_check_of_the_policies_can_fail(rendered):
    """Without its policies every pod is open: the evaluation above is not vacuous."""
    open_cluster = [o for o in rendered["overlays/prod"] if o["kind"] != "NetworkPolicy"]
    assert reaches(open_cluster, OUTSIDERS[0], "nats", "monitor")
    assert reaches(open_cluster, OUTSIDERS[0], "mongo", "mongo")


# -- the Ingress -----------------------------------------------------------------------------------

PUBLIC_PATHS = {
    "/": "web",
    "/api/v1/letters": "scheduling",
    "/api/v1/requests": "intake",
    "/api/v1/complaints": "complaints",
    "/api/v1/channels/whatsapp": "complaints",
    "/api/v1/sms/receipts": "notifier",
}


def test_production_has_an_ingress_with_tls_for_the_public_address_routing_only_the_public_paths(rendered):
    objects = rendered["overlays/prod"]
    [ingress] = [o for o in objects if o["kind"] == "Ingress"]
    config = next(
        o["data"]
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("serambi-config")
    )
    host = urlsplit(config["SERAMBI_PUBLIC_BASE_URL"]).hostname
    assert [(tls["hosts"], tls["secretName"]) for tls in ingress["spec"]["tls"]] == [([host], "serambi-tls")]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == host
    routes = {p["path"]: p["backend"]["service"] for p in rule["http"]["paths"]}
    assert {path: backend["name"] for path, backend in routes.items()} == PUBLIC_PATHS
    services = {
        o["metadata"]["name"]: {p["name"] for p in o["spec"]["ports"]}
        for o in objects
        if o["kind"] == "Service"
    }
    for path, backend in routes.items():
        assert backend["port"] == {"name": "http"} and "http" in services[backend["name"]], path
    assert not any("officer" in path or "admin" in path for path in routes)
    assert not any(o["kind"] == "Ingress" for o in rendered["base"] + rendered["overlays/dev"])

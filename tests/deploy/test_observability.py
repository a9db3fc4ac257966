"""deploy/observability: the alert rules pass `promtool check rules` (Debian's prometheus
package, `make promtool`), the dashboard's queries too, and every expression uses only metrics
the services expose (read from the Prometheus registry after importing every service) or the
few from outside Serambi that docs/observability.md names; the k8s base ships both as
ConfigMaps; every metric is documented and none has a label that could hold a case id."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
RULES = OBSERVABILITY / "alerts.yaml"
DASHBOARD = OBSERVABILITY / "dashboard.json"
#: metrics from outside Serambi the rules assume (docs/observability.md, "Assumptions")
EXTERNAL = {"up", "kube_pod_status_ready", "probe_ssl_earliest_cert_expiry"}
#: every label a Serambi metric may carry: each has a small, fixed set of values
BOUNDED_LABELS = {
    "method",
    "route",
    "status",
    "consumer",
    "outcome",
    "channel",
    "clock",
    "state",
    "month",
    "timeliness",
    "reason",
    "dependency",
    "source",
    "stream",
}
KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}

EXPOSED = """
import json
import serambi_complaints.main, serambi_intake.main, serambi_notifier.main
import serambi_scheduling.main, serambi_web.main
from prometheus_client import REGISTRY
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
out = {}
for collector in set(REGISTRY._names_to_collectors.values()):
    name = getattr(collector, "_name", "")
    if name.startswith("serambi_"):
        for suffix in SUFFIXES[collector._type]:
            out[name + suffix] = sorted(collector._labelnames)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def exposed() -> dict[str, list[str]]:
    """Every serambi_* series name the services' processes can expose → its label names."""
    result = subprocess.run(
        [sys.executable, "-c", EXPOSED], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def promtool() -> str:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: run `make promtool` (Debian's prometheus package)"
    return binary


def rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions() -> dict[str, str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return {
        f"{panel['title']} {target['refId']}": target["expr"]
        for panel in panels
        for target in panel.get("targets", [])
    }


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left once label matchers, strings,
    ranges, grouping clauses, numbers, function calls and keywords are taken out."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', "", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if following.startswith("(") or match.group() in KEYWORDS:
            continue  # a function or an aggregation
        if text[max(0, match.start() - 1)].isdigit():
            continue  # a unit of a duration or number
        names.add(match.group())
    return names


def test_the_name_extraction_finds_what_an_expression_selects():
    expr = (
        'sum by (service, route) (rate(serambi_http_requests_total{status=~"5.."}[10m])) / '
        "on (route) group_left max(up) > 0.05 and time() - 14 * 86400 < probe_ssl_earliest_cert_expiry"
    )
    assert metric_names(expr) == {"serambi_http_requests_total", "up", "probe_ssl_earliest_cert_expiry"}


def test_the_alert_rules_pass_promtool(promtool):
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_queries_are_valid_promql(promtool, tmp_path):
    """Each panel query as a recording rule: promtool parses it."""
    rules = [
        {"record": f"serambi:dashboard_{i}", "expr": expr}
        for i, expr in enumerate(dashboard_expressions().values())
    ]
    checked = tmp_path / "dashboard-rules.yaml"
    checked.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(checked)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_an_alert_or_panel_uses_is_exposed_by_a_service_or_a_named_assumption(exposed):
    expressions = {**rule_expressions(), **dashboard_expressions()}
    assert len(expressions) > 20
    used: set[str] = set()
    for where, expr in expressions.items():
        names = metric_names(expr)
        assert names, where
        unknown = {name for name in names if name not in exposed and name not in EXTERNAL}
        assert not unknown, f"{where}: {sorted(unknown)} not exposed by any service"
        used |= names
    # the bureau's metrics are all on the dashboard or in an alert
    for name in (
        "serambi_sla_open_clocks",
        "serambi_sla_breaches_total",
        "serambi_sla_warnings_total",
        "serambi_audience_answer_on_time_ratio",
        "serambi_dead_letters_open",
        "serambi_consumer_pending",
        "serambi_consumer_redelivered",
        "serambi_dependency_up",
        "serambi_notifications_total",
        "serambi_http_requests_total",
    ):
        assert name in used, name


def test_the_issue_s_alerts_are_all_there():
    assert {
        "SerambiSLABreached",
        "SerambiConsumerLagGrowing",
        "SerambiDeadLetters",
        "SerambiPodNotReady",
        "SerambiTargetDown",
        "SerambiNatsUnreachable",
        "SerambiMongoUnreachable",
        "SerambiNotificationFailures",
        "SerambiCertificateExpiresSoon",
    } <= set(rule_expressions())


def test_every_alert_has_a_runbook_section_in_the_operations_guide():
    guide = (ROOT / "docs" / "operations.md").read_text()
    groups = yaml.safe_load(RULES.read_text())["groups"]
    for rule in (rule for group in groups for rule in group["rules"]):
        assert f"\n### {rule['alert']}\n" in guide, rule["alert"]
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"


def test_every_metric_is_documented_and_has_only_bounded_labels(exposed):
    documented = (ROOT / "docs" / "observability.md").read_text()
    for name, labels in exposed.items():
        family = re.sub(r"_(bucket|count|sum)$", "", name)
        assert f"`{family}`" in documented, f"{family} is not in docs/observability.md"
        assert set(labels) <= BOUNDED_LABELS, (name, labels)


def test_the_kubernetes_base_ships_the_rules_and_the_dashboard_as_labelled_config_maps(kubectl_binary):
    rendered = subprocess.run(
        [kubectl_binary, "kustomize", str(ROOT / "deploy" / "k8s" / "base")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    maps = {d["metadata"]["name"]: d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "ConfigMap"}
    rules = maps["serambi-prometheus-rules"]
    assert rules["metadata"]["labels"]["prometheus_rule"] == "1"
    assert yaml.safe_load(rules["data"]["serambi-alerts.yaml"]) == yaml.safe_load(RULES.read_text())
    dashboard = maps["serambi-grafana-dashboard"]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["serambi-overview.json"])["uid"] == "serambi-overview"


def _make_promtool(tmp_path: Path, uid: int, has_promtool: bool) -> list[str]:
    """Run `make promtool` with only fake tools on PATH: the commands it ran."""
    tools, log = tmp_path / "bin", tmp_path / "ran.log"
    tools.mkdir(parents=True)
    for name, body in {
        "id": f"echo {uid}",
        "sudo": f'echo "sudo $*" >> {log}; "$@"',
        "apt-get": f'echo "apt-get $*" >> {log}',
        **({"promtool": "exit 0"} if has_promtool else {}),
    }.items():
        (tools / name).write_text(f"#!/bin/sh\n{body}\n")
        (tools / name).chmod(0o755)
    subprocess.run(
        ["/usr/bin/make", "-s", "-C", str(ROOT), "promtool"],
        check=True,
        timeout=30,
        env={"PATH": str(tools), "HOME": str(tmp_path)},
        capture_output=True,
    )
    return log.read_text().splitlines() if log.exists() else []


def test_make_promtool_installs_debian_s_prometheus_only_when_promtool_is_missing(tmp_path):
    assert _make_promtool(tmp_path / "root", 0, has_promtool=False) == [
        "apt-get update",
        "apt-get install -y --no-install-recommends prometheus",
    ]
    assert _make_promtool(tmp_path / "user", 1000, has_promtool=False)[0] == "sudo apt-get update"
    assert _make_promtool(tmp_path / "there", 1000, has_promtool=True) == []
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: install .*\bpromtool\b", makefile, re.MULTILINE)

"""deploy/kubernetes against the Kubernetes API's own schemas (kubernetes-validate, strict: no
unknown fields) and against docker-compose.yml: every compose process has a Deployment with the
same command, port and variables, gRPC probes on its port, a headless Service (callers spread
calls over every pod, as compose names do), a PodDisruptionBudget, and an HPA exactly when its
replicas are interchangeable (not analytics and notify, where one replica follows the feeds)."""
from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from topology import ADDRESS_VARIABLES, DEFAULT_PORTS, compose_command, load_compose, xieshang_services

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
K8S_VERSION = "1.30.0"
#: Replicas of these follow the feeds one at a time (an advisory lock): a fixed count, no autoscaler.
LEADER_ELECTED = {"analytics", "notify"}


def documents() -> list[dict]:
    """Every manifest, and the example Secret (kept out of `kubectl apply -f deploy/kubernetes/`)."""
    out = []
    for f in sorted(MANIFESTS.glob("*.yaml")) + [MANIFESTS / "secret.yaml.example"]:
        out += [d for d in yaml.safe_load_all(f.read_text()) if d]
    return out


def of_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] == kind}


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_valid_for_the_kubernetes_api(doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_refuses_what_kubernetes_would():
    bad = yaml.safe_load((MANIFESTS / "gateway.yaml").read_text().split("\n---\n")[0])
    bad["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["grpc"]["port"] = "grpc"  # must be an integer
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)
    bad = yaml.safe_load((MANIFESTS / "gateway.yaml").read_text().split("\n---\n")[0])
    bad["spec"]["replicaCount"] = 2  # unknown field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def container(deployment: dict) -> dict:
    [c] = deployment["spec"]["template"]["spec"]["containers"]
    return c


def test_every_compose_process_is_a_deployment_in_step_with_compose():
    compose = xieshang_services(load_compose())
    deployments = of_kind("Deployment")
    assert set(deployments) == set(compose) == set(DEFAULT_PORTS)
    for name, svc in compose.items():
        c = container(deployments[name])
        assert c["args"] == compose_command(svc), name
        [port] = c["ports"]
        assert port["containerPort"] == DEFAULT_PORTS[name], name
        env = {e["name"]: e for e in c["env"]}
        compose_env = svc.get("environment") or {}
        assert set(compose_env) <= set(env), f"{name}: {sorted(set(compose_env) - set(env))} in compose, not in the Deployment"
        assert env["XIESHANG_PORT"]["value"] == str(DEFAULT_PORTS[name])
        for var in set(env) & set(ADDRESS_VARIABLES):
            assert env[var]["value"] == compose_env[var], f"{name}: {var}"
        if "XIESHANG_DATABASE_SCHEMA" in compose_env:
            assert env["XIESHANG_DATABASE_SCHEMA"]["value"] == compose_env["XIESHANG_DATABASE_SCHEMA"]
            assert env["XIESHANG_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "xieshang", "key": "database-url"}
        assert env["XIESHANG_PRINCIPAL_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "xieshang", "key": "principal-secret"}


def test_probes_services_budgets_and_autoscalers():
    deployments, services = of_kind("Deployment"), of_kind("Service")
    budgets, scalers = of_kind("PodDisruptionBudget"), of_kind("HorizontalPodAutoscaler")
    secret = of_kind("Secret")["xieshang"]
    assert set(secret["stringData"]) == {"principal-secret", "database-url"}
    for name, d in deployments.items():
        c = container(d)
        port = c["ports"][0]["containerPort"]
        for p in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[p]["grpc"] == {"port": port}, f"{name} {p}"
        labels = d["spec"]["selector"]["matchLabels"]
        assert d["spec"]["template"]["metadata"]["labels"] == labels
        s = services[name]
        assert s["spec"]["selector"] == labels and s["spec"]["ports"][0]["port"] == port
        assert (s["spec"].get("clusterIP") == "None") == (name != "gateway"), name
        assert budgets[name]["spec"]["selector"]["matchLabels"] == labels and budgets[name]["spec"]["minAvailable"] == 1
        assert d["spec"]["replicas"] >= 2, f"{name}: one replica cannot survive a drain"
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == 10001
    assert set(scalers) == set(deployments) - LEADER_ELECTED
    for name, h in scalers.items():
        assert h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert h["spec"]["minReplicas"] >= 2

"""The Kubernetes manifests under deploy/: every object valid against the Kubernetes
schemas (offline, kubernetes-validate, strict: no unknown fields), every kustomization
naming files and targets that exist, and the rules the README promises held: probes on
/ready and /health, a grace period longer than the preStop pause, no secret in a file,
and only the API, the worker and the migration allowed to reach PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
KUBERNETES = "1.31.0"  # the oldest minor the manifests are for (preStop `sleep` is GA later)
SECRET_SETTINGS = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "BROKER_URL", "PASSWORD", "TOKEN")


def kustomizations() -> list[Path]:
    return sorted(DEPLOY.rglob("kustomization.yaml"))


def objects() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_name(kind: str, name: str) -> dict[str, Any]:
    (found,) = [
        doc for _, doc in objects() if (doc["kind"], doc["metadata"]["name"]) == (kind, name)
    ]
    return found


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize(
    "found", objects(), ids=lambda found: f"{found[0].name}:{found[1]['metadata']['name']}"
)
def test_each_object_is_valid_against_the_kubernetes_schema(found) -> None:
    _, document = found
    kubernetes_validate.validate(document, KUBERNETES, strict=True)


@pytest.mark.parametrize("path", kustomizations(), ids=lambda path: str(path.relative_to(DEPLOY)))
def test_each_kustomization_names_what_exists(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    assert spec["kind"] == "Kustomization"
    for resource in spec.get("resources", []):
        assert (path.parent / resource).exists(), resource
    images = {
        c["image"].split(":")[0]
        for _, doc in objects()
        if doc["kind"] in ("Deployment", "Job")
        for c in doc["spec"]["template"]["spec"]["containers"]
    }
    for image in spec.get("images", []):
        assert image["name"] in images
    names = {doc["metadata"]["name"] for _, doc in objects()}
    for generated in spec.get("configMapGenerator", []):
        assert generated["behavior"] == "merge" and generated["name"] in names
    for replica in spec.get("replicas", []):
        assert replica["name"] in names


def test_every_overlay_migrates_with_the_namespace_and_image_it_deploys() -> None:
    for overlay in (DEPLOY / "overlays").iterdir():
        app = yaml.safe_load((overlay / "kustomization.yaml").read_text())
        migration = yaml.safe_load((overlay / "migrate" / "kustomization.yaml").read_text())
        assert app["namespace"] == migration["namespace"]
        assert app["images"] == migration["images"]
        assert app["configMapGenerator"] == migration["configMapGenerator"]


def test_no_file_holds_a_secret() -> None:
    for path, document in objects():
        assert document["kind"] != "Secret", path
        if document["kind"] == "ConfigMap":
            assert not [key for key in document["data"] if key.endswith(SECRET_SETTINGS)], path
    for path in kustomizations():
        text = path.read_text()
        assert "secretGenerator" not in text and not any(
            f"BOOKLY_{s}" in text for s in SECRET_SETTINGS
        )


def test_the_api_rolls_without_dropping_requests() -> None:
    api = by_name("Deployment", "bookly-api")
    pod = api["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    config = by_name("ConfigMap", "bookly-config")["data"]
    delay = float(config["BOOKLY_SHUTDOWN_DELAY_SECONDS"])
    grace = float(config["BOOKLY_SHUTDOWN_GRACE_SECONDS"])
    assert delay > 0  # balancers that probe /ready stop sending before the process stops
    assert pod["terminationGracePeriodSeconds"] > pause + delay + grace
    assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert {"requests", "limits"} <= set(container["resources"])
    service, budget = by_name("Service", "bookly-api"), by_name("PodDisruptionBudget", "bookly-api")
    scaler = by_name("HorizontalPodAutoscaler", "bookly-api")
    for selector in (service["spec"]["selector"], budget["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= pod_labels(api).items()
    assert scaler["spec"]["scaleTargetRef"]["name"] == "bookly-api"
    env = {
        source.get("configMapRef", source.get("secretRef"))["name"]
        for source in container["envFrom"]
    }
    assert env == {"bookly-config", "bookly-secrets"}


def test_only_the_api_the_worker_and_the_migration_reach_postgresql() -> None:
    def opens(policy: dict[str, Any], port: int) -> bool:
        return any(
            p.get("port") == port
            for rule in policy["spec"].get("egress", [])
            for p in rule.get("ports", [])
        )

    policies = [doc for _, doc in objects() if doc["kind"] == "NetworkPolicy"]
    deny = by_name("NetworkPolicy", "bookly-default-deny")
    assert deny["spec"]["podSelector"] == {} and set(deny["spec"]["policyTypes"]) == {
        "Ingress",
        "Egress",
    }
    workloads = [doc for _, doc in objects() if doc["kind"] in ("Deployment", "Job")]
    for port, allowed in [
        (5432, {"bookly-api", "bookly-worker", "bookly-migrate"}),
        (6379, {"bookly-api", "bookly-worker", "bookly-migrate", "bookly-flower"}),
        (4318, {"bookly-api", "bookly-worker"}),  # OTLP/HTTP to a trace collector
    ]:
        reaching = {
            workload["metadata"]["name"]
            for workload in workloads
            for policy in policies
            if opens(policy, port)
            and policy["spec"]["podSelector"].get("matchLabels", {}).items()
            <= pod_labels(workload).items()
        }
        assert reaching == allowed, port

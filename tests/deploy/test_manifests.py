"""The deployment manifests, checked the way a platform engineer reviews them.

Every object under deploy/k8s must pass the Kubernetes API schema in strict mode (an
unknown or misplaced field fails), and so must what `kubectl kustomize` renders from
them when kubectl is installed. Then the shape that matters in production: resources and
a restricted securityContext on every container, probes on web, one beat, a release Job
named after the version, TLS with the wildcard host, PDB and HPA for web and worker,
PgBouncer in session mode. compose.yaml: health checks, nothing before the release,
PgBouncer in session mode, pinned images, the Citus profile.

Each check returns the problems it finds. The tests assert the shipped files have none,
and that every check reports a broken copy, so that none can pass by finding nothing to
look at. No database is needed.
"""

from __future__ import annotations

import configparser
import copy
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from hexitime.settings.env import REPO_ROOT

K8S = REPO_ROOT / "deploy" / "k8s"
COMPOSE = REPO_ROOT / "deploy" / "compose.yaml"
# The oldest Kubernetes these manifests support (preStop `sleep` needs 1.30).
KUBERNETES_VERSION = "1.32.0"
APP_IMAGE = "ghcr.io/hexitime/hexitime"
APP_UID = 10001
HEXITIME_HOME = "/var/lib/hexitime"

Obj = dict[str, Any]
Check = Callable[[list[Obj]], list[str]]


# --- Reading the files -----------------------------------------------------------------


def k8s_objects(folder: Path = K8S) -> list[Obj]:
    """Every Kubernetes object in the folder's YAML files (a kustomization is not one)."""
    objects = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for obj in yaml.safe_load_all(path.read_text()):
            if obj:
                obj["__file__"] = str(path.relative_to(folder))
                objects.append(obj)
    return objects


def kustomization(folder: Path = K8S) -> Obj:
    loaded: Obj = yaml.safe_load((folder / "kustomization.yaml").read_text())
    return loaded


def version(kust: Obj) -> str:
    """The one place the version is written: the app image's tag in kustomization.yaml."""
    tags = [str(i["newTag"]) for i in kust.get("images", []) if i["name"] == APP_IMAGE]
    assert len(tags) == 1, f"kustomization.yaml must set the tag of {APP_IMAGE} once"
    assert tags[0] != "latest", "the version must be a fixed tag, never latest"
    return tags[0]


def rendered(folder: Path) -> list[Obj]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the rendered kustomization is not checked")
    out = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=True
    ).stdout
    return [obj for obj in yaml.safe_load_all(out) if obj]


def named(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] == kind]


def component(objects: list[Obj], kind: str, name: str) -> list[Obj]:
    return [
        obj
        for obj in of_kind(objects, kind)
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == name
        or obj["metadata"]["name"] == f"hexitime-{name}"
    ]


def pod_spec(obj: Obj) -> Obj | None:
    if obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        spec: Obj = obj["spec"]["template"]["spec"]
        return spec
    if obj["kind"] == "CronJob":
        spec = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return spec
    return None


def containers(objects: list[Obj]) -> Iterator[tuple[str, Obj, Obj]]:
    """(where, container, pod spec) for every container and init container."""
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{named(obj)} container {container['name']}", container, spec


def matches(selector: Obj, labels: Obj) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


# --- Kubernetes checks -----------------------------------------------------------------


def schema_problems(objects: list[Obj]) -> list[str]:
    problems = []
    for obj in objects:
        body = {k: v for k, v in obj.items() if k != "__file__"}
        try:
            kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{obj.get('__file__')} {named(obj)}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{obj.get('__file__')} {named(obj)}: no schema for this kind")
    return problems


def security_problems(objects: list[Obj]) -> list[str]:
    wanted = {
        "runAsNonRoot": True,
        "runAsUser": APP_UID,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
    }
    problems = []
    for where, container, _ in containers(objects):
        context = container.get("securityContext", {})
        problems += [
            f"{where}: securityContext.{key} must be {value}"
            for key, value in wanted.items()
            if context.get(key) != value
        ]
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{where}: must drop ALL capabilities")
        if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: seccompProfile must be RuntimeDefault")
    return problems


def writable_problems(objects: list[Obj]) -> list[str]:
    """With a read-only root filesystem, /tmp (and HEXITIME_HOME for the app) are emptyDirs."""
    problems = []
    for where, container, spec in containers(objects):
        empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        mounted = {m["mountPath"] for m in container.get("volumeMounts", [])}
        on_empty_dir = {
            m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in empty_dirs
        }
        needed = {"/tmp"}  # noqa: S108 (a mount path in the manifest, not a file we write)
        if container["image"].startswith(APP_IMAGE):
            needed.add(HEXITIME_HOME)
        problems += [
            f"{where}: {path} must be a writable emptyDir"
            for path in sorted(needed)
            if path not in mounted or path not in on_empty_dir
        ]
    return problems


def resource_problems(objects: list[Obj]) -> list[str]:
    problems = []
    for where, container, _ in containers(objects):
        resources = container.get("resources", {})
        for part in ("requests", "limits"):
            problems += [
                f"{where}: resources.{part}.{kind} is missing"
                for kind in ("cpu", "memory")
                if kind not in resources.get(part, {})
            ]
    return problems


def image_problems(objects: list[Obj], *, tag: str) -> list[str]:
    problems = []
    for where, container, _ in containers(objects):
        image = container.get("image", "")
        name, _, image_tag = image.rpartition(":")
        if "@sha256:" in image:
            continue
        if not name or "/" in image_tag:
            problems.append(f"{where}: image {image!r} has no tag")
        elif image_tag == "latest":
            problems.append(f"{where}: image {image!r} must not be :latest")
        elif name == APP_IMAGE and image_tag != tag:
            problems.append(f"{where}: runs {image_tag}, kustomization.yaml says {tag}")
    return problems


def probe_problems(objects: list[Obj]) -> list[str]:
    wanted = {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/readyz"}
    problems = []
    webs = component(objects, "Deployment", "web")
    if not webs:
        return ["no web Deployment"]
    for where, container, _ in containers(webs):
        for probe, path in wanted.items():
            get = container.get(probe, {}).get("httpGet", {})
            if get.get("path") != path:
                problems.append(f"{where}: {probe} must GET {path}")
            if any(h["name"].lower() == "host" for h in get.get("httpHeaders", [])):
                problems.append(f"{where}: {probe} must not depend on a Host header")
    return problems


def beat_problems(objects: list[Obj]) -> list[str]:
    beats = component(objects, "Deployment", "beat")
    if len(beats) != 1:
        return [f"expected one beat Deployment, found {len(beats)}"]
    beat = beats[0]
    problems = []
    if beat["spec"].get("replicas") != 1:
        problems.append("beat must have exactly 1 replica")
    if beat["spec"].get("strategy", {}).get("type") != "Recreate":
        problems.append("beat must use strategy Recreate (never two side by side)")
    name = beat["metadata"]["name"]
    if any(
        h["spec"]["scaleTargetRef"]["name"] == name
        for h in of_kind(objects, "HorizontalPodAutoscaler")
    ):
        problems.append("beat must not be autoscaled")
    return problems


def release_problems(objects: list[Obj], *, tag: str) -> list[str]:
    jobs = component(objects, "Job", "release")
    if len(jobs) != 1:
        return [f"expected one release Job, found {len(jobs)}"]
    job = jobs[0]
    problems = []
    if job["metadata"]["name"] != f"hexitime-release-{tag}":
        problems.append(f"release Job {job['metadata']['name']} is not named after {tag}")
    spec = job["spec"]["template"]["spec"]
    if spec.get("restartPolicy") != "Never":
        problems.append("release Job must not restart its pod in place")
    if [c.get("args") for c in spec["containers"]] != [["hexitime", "release"]]:
        problems.append("release Job must run `hexitime release`")
    return problems


def command_problems(objects: list[Obj]) -> list[str]:
    """Each Deployment runs its operator command, and none spells out flags."""
    problems = []
    for name in ("web", "worker", "beat"):
        wanted = ["hexitime", "serve" if name == "web" else name]
        for where, container, _ in containers(component(objects, "Deployment", name)):
            if container.get("args") != wanted or "command" in container:
                problems.append(f"{where} must run `{' '.join(wanted)}` (as args)")
    return problems


def ingress_problems(objects: list[Obj]) -> list[str]:
    configs = [c for c in of_kind(objects, "ConfigMap") if "HEXITIME_BASE_DOMAIN" in c["data"]]
    ingresses = [i for i in of_kind(objects, "Ingress") if i["metadata"]["name"] == "hexitime"]
    if len(configs) != 1 or len(ingresses) != 1:
        return ["expected one ConfigMap with HEXITIME_BASE_DOMAIN and one Ingress hexitime"]
    base = configs[0]["data"]["HEXITIME_BASE_DOMAIN"]
    spec = ingresses[0]["spec"]
    problems = []
    if not spec.get("ingressClassName"):
        problems.append("Ingress has no ingressClassName")
    tls_hosts = {h for t in spec.get("tls", []) if t.get("secretName") for h in t["hosts"]}
    rule_hosts = {r.get("host") for r in spec.get("rules", [])}
    for host in (base, f"*.{base}"):
        if host not in rule_hosts:
            problems.append(f"Ingress has no rule for {host}")
        if host not in tls_hosts:
            problems.append(f"Ingress has no TLS certificate for {host}")
    return problems


def availability_problems(objects: list[Obj]) -> list[str]:
    problems = []
    for name in ("web", "worker"):
        deployments = component(objects, "Deployment", name)
        if len(deployments) != 1:
            problems.append(f"expected one {name} Deployment")
            continue
        deployment = deployments[0]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if not any(
            matches(p["spec"]["selector"], labels) for p in of_kind(objects, "PodDisruptionBudget")
        ):
            problems.append(f"{name} has no PodDisruptionBudget")
        hpas = [
            h
            for h in of_kind(objects, "HorizontalPodAutoscaler")
            if h["apiVersion"] == "autoscaling/v2"
            and h["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
        ]
        if not hpas:
            problems.append(f"{name} has no autoscaling/v2 HorizontalPodAutoscaler")
        elif "replicas" in deployment["spec"]:
            problems.append(f"{name} sets replicas, which re-applying would reset under its HPA")
    return problems


def pgbouncer_problems(objects: list[Obj]) -> list[str]:
    inis = [
        c["data"]["pgbouncer.ini"]
        for c in of_kind(objects, "ConfigMap")
        if "pgbouncer.ini" in c.get("data", {})
    ]
    if len(inis) != 1:
        return [f"expected one pgbouncer.ini, found {len(inis)}"]
    ini = configparser.ConfigParser(inline_comment_prefixes=None, comment_prefixes=(";", "#"))
    ini.read_string(inis[0])
    mode = ini.get("pgbouncer", "pool_mode", fallback="session (by default)")
    if mode != "session":
        return [f"PgBouncer pool_mode is {mode}: django-tenants' search_path needs session"]
    return []


ALL_CHECKS: dict[str, Check] = {
    "schema": schema_problems,
    "security": security_problems,
    "writable": writable_problems,
    "resources": resource_problems,
    "probes": probe_problems,
    "commands": command_problems,
    "beat": beat_problems,
    "ingress": ingress_problems,
    "availability": availability_problems,
    "pgbouncer": pgbouncer_problems,
}


@pytest.mark.parametrize("check", ALL_CHECKS)
def test_k8s_manifests(check: str) -> None:
    assert ALL_CHECKS[check](k8s_objects()) == []


def test_k8s_images_are_pinned_and_carry_the_version() -> None:
    assert image_problems(k8s_objects(), tag=version(kustomization())) == []


def test_k8s_release_job_is_named_after_the_version() -> None:
    assert release_problems(k8s_objects(), tag=version(kustomization())) == []


def test_kustomization_applies_every_manifest_but_the_templates() -> None:
    listed = set(kustomization()["resources"])
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    templates = {name for name in files if name.endswith(".example.yaml")}
    assert templates, "the Secret template is missing"
    assert listed == files - templates
    assert "namespace" in kustomization()


def test_rendered_kustomization_passes_every_check() -> None:
    objects = rendered(K8S)
    tag = version(kustomization())
    problems = [p for check in ALL_CHECKS.values() for p in check(objects)]
    problems += image_problems(objects, tag=tag) + release_problems(objects, tag=tag)
    assert problems == []
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        "hexitime"
    }


def test_a_new_version_in_the_kustomization_renames_the_release_job(tmp_path: Path) -> None:
    folder = tmp_path / "k8s"
    shutil.copytree(K8S, folder)
    kust = kustomization(folder)
    for image in kust["images"]:
        if image["name"] == APP_IMAGE:
            image["newTag"] = "9.8.7"
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kust))
    objects = rendered(folder)
    assert release_problems(objects, tag="9.8.7") == []
    assert image_problems(objects, tag="9.8.7") == []


# --- compose.yaml ----------------------------------------------------------------------

APP_SERVICES = ("web", "worker", "beat")


def compose() -> Obj:
    loaded: Obj = yaml.safe_load(COMPOSE.read_text())
    return loaded


def healthcheck_problems(spec: Obj) -> list[str]:
    problems = []
    for name, service in spec["services"].items():
        one_shot = service.get("restart") == "no"
        check = service.get("healthcheck", {})
        if not one_shot and (not check.get("test") or check.get("disable")):
            problems.append(f"{name} has no health check and is not a one-shot")
        if not one_shot and service.get("restart") not in {
            "always",
            "unless-stopped",
            "on-failure",
        }:
            problems.append(f"{name} has no restart policy")
    return problems


def ordering_problems(spec: Obj) -> list[str]:
    services = spec["services"]
    wanted = {
        "release": "service_completed_successfully",
        "pgbouncer": "service_healthy",
        "redis": "service_healthy",
    }
    problems = []
    for name in (*APP_SERVICES, "release"):
        depends = services.get(name, {}).get("depends_on", {})
        for other, condition in wanted.items():
            if other == name:
                continue
            if (
                not isinstance(depends, dict)
                or depends.get(other, {}).get("condition") != condition
            ):
                problems.append(f"{name} must wait for {other}: {condition}")
    if services.get("release", {}).get("command") != ["hexitime", "release"]:
        problems.append("release must run `hexitime release`")
    for name in APP_SERVICES:
        url = services.get(name, {}).get("environment", {}).get("DATABASE_URL", "")
        if "@pgbouncer:" not in url:
            problems.append(f"{name} must reach the database through pgbouncer, not {url!r}")
    return problems


def compose_pgbouncer_problems(spec: Obj) -> list[str]:
    env = spec["services"].get("pgbouncer", {}).get("environment", {})
    if env.get("POOL_MODE") != "session":
        return [f"pgbouncer POOL_MODE is {env.get('POOL_MODE')!r}, must be session"]
    return []


def compose_image_problems(spec: Obj) -> list[str]:
    problems = []
    for name, service in spec["services"].items():
        # A tag from a required variable (${VAR:?...}) is pinned by whoever sets it.
        image = re.sub(r"\$\{(\w+):\?[^}]*\}", r"\1", service.get("image", ""))
        repository, _, tag = image.rpartition(":")
        if not repository or "/" in tag:
            problems.append(f"{name}: image {service.get('image')!r} has no tag")
        elif tag == "latest" or "$" in tag:
            problems.append(f"{name}: image {service.get('image')!r} is not pinned")
    return problems


def compose_volume_problems(spec: Obj) -> list[str]:
    problems = []
    declared = set(spec.get("volumes") or {})
    for name in (*APP_SERVICES, "release"):
        service = spec["services"].get(name, {})
        targets = {v.split(":")[1]: v.split(":")[0] for v in service.get("volumes", [])}
        problems += [
            f"{name}: {path} must be a named volume"
            for path in (HEXITIME_HOME, f"{HEXITIME_HOME}/media")
            if targets.get(path) not in declared
        ]
        if service.get("environment", {}).get("HEXITIME_HOME") != HEXITIME_HOME:
            problems.append(f"{name}: HEXITIME_HOME must be {HEXITIME_HOME}")
        if not service.get("read_only"):
            problems.append(f"{name}: the root filesystem must be read-only")
    return problems


def compose_secret_problems(spec: Obj) -> list[str]:
    """Secrets come from .env and are required: Compose refuses to start without them."""
    text = COMPOSE.read_text()
    problems = [
        f"{name} is not required with ${{{name}:?...}}"
        for name in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "HEXITIME_VERSION")
        if f"${{{name}:?" not in text
    ]
    problems += [
        f"{name} does not read .env"
        for name in (*APP_SERVICES, "release")
        if ".env" not in spec["services"].get(name, {}).get("env_file", [])
    ]
    return problems


CITUS_SETTINGS = (
    "citus.enable_schema_based_sharding=on",
    "citus.enable_unsafe_triggers=on",
    "citus.propagate_set_commands=local",
    "max_prepared_transactions=",
    "wal_level=logical",
)


def citus_problems(spec: Obj) -> list[str]:
    nodes = {
        name: service
        for name, service in spec["services"].items()
        if "citus" in service.get("profiles", []) and "postgres" in service.get("command", [])
    }
    coordinators = [n for n in nodes if "coordinator" in n]
    workers = [n for n in nodes if "worker" in n]
    problems = []
    if len(coordinators) != 1 or len(workers) != 2:
        problems.append(
            f"citus profile has {coordinators} and {workers}: one coordinator, two workers"
        )
    for name, service in nodes.items():
        if not re.fullmatch(r"citusdata/citus:13\.0\.\d+", service.get("image", "")):
            problems.append(f"{name}: image must be citusdata/citus:13.0.x")
        command = " ".join(service["command"])
        problems += [f"{name}: missing {s}" for s in CITUS_SETTINGS if s not in command]
        if not service.get("healthcheck"):
            problems.append(f"{name} has no health check")
    return problems


COMPOSE_CHECKS: dict[str, Callable[[Obj], list[str]]] = {
    "healthchecks": healthcheck_problems,
    "ordering": ordering_problems,
    "pgbouncer": compose_pgbouncer_problems,
    "images": compose_image_problems,
    "volumes": compose_volume_problems,
    "secrets": compose_secret_problems,
    "citus": citus_problems,
}


@pytest.mark.parametrize("check", COMPOSE_CHECKS)
def test_compose(check: str) -> None:
    assert COMPOSE_CHECKS[check](compose()) == []


def test_env_example_names_every_required_variable() -> None:
    example = (REPO_ROOT / "deploy" / ".env.example").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required
    assert {v for v in required if not re.search(rf"^{v}=", example, re.MULTILINE)} == set()


# --- Every check can fail ----------------------------------------------------------------


def find(objects: list[Obj], kind: str, name: str) -> Obj:
    """The object of that kind named `name`, or else of component `name`."""
    exact = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    return (exact or component(objects, kind, name))[0]


def first_container(objects: list[Obj], kind: str, name: str) -> Obj:
    spec = pod_spec(find(objects, kind, name))
    assert spec is not None
    container: Obj = spec["containers"][0]
    return container


K8S_BREAKAGES: dict[str, tuple[Check, Callable[[list[Obj]], object]]] = {
    "no schema": (
        schema_problems,
        lambda o: o.append(
            {"apiVersion": "example.com/v1", "kind": "Nope", "metadata": {"name": "x"}}
        ),
    ),
    "unknown field": (
        schema_problems,
        lambda o: first_container(o, "Deployment", "web").update(imagePullPolicyy="Always"),
    ),
    "worker root filesystem writable": (
        security_problems,
        lambda o: first_container(o, "Deployment", "worker")["securityContext"].pop(
            "readOnlyRootFilesystem"
        ),
    ),
    "pgbouncer as root": (
        security_problems,
        lambda o: first_container(o, "Deployment", "pgbouncer")["securityContext"].update(
            runAsUser=0
        ),
    ),
    "release keeps capabilities": (
        security_problems,
        lambda o: first_container(o, "Job", "release")["securityContext"].pop("capabilities"),
    ),
    "beat without /tmp": (
        writable_problems,
        lambda o: first_container(o, "Deployment", "beat")["volumeMounts"].pop(0),
    ),
    "beat without limits": (
        resource_problems,
        lambda o: first_container(o, "Deployment", "beat")["resources"].pop("limits"),
    ),
    "liveness on /readyz": (
        probe_problems,
        lambda o: first_container(o, "Deployment", "web")["livenessProbe"]["httpGet"].update(
            path="/readyz"
        ),
    ),
    "probe needs a Host": (
        probe_problems,
        lambda o: first_container(o, "Deployment", "web")["readinessProbe"]["httpGet"].update(
            httpHeaders=[{"name": "Host", "value": "hexitime.example"}]
        ),
    ),
    "worker with flags": (
        command_problems,
        lambda o: first_container(o, "Deployment", "worker").update(
            args=["celery", "-A", "hexitime", "worker"]
        ),
    ),
    "two beats": (
        beat_problems,
        lambda o: find(o, "Deployment", "beat")["spec"].update(replicas=2),
    ),
    "beat rolling update": (
        beat_problems,
        lambda o: find(o, "Deployment", "beat")["spec"].pop("strategy"),
    ),
    "no TLS": (ingress_problems, lambda o: find(o, "Ingress", "hexitime")["spec"].pop("tls")),
    "no ingress class": (
        ingress_problems,
        lambda o: find(o, "Ingress", "hexitime")["spec"].pop("ingressClassName"),
    ),
    "no wildcard": (
        ingress_problems,
        lambda o: find(o, "Ingress", "hexitime")["spec"]["rules"].pop(1),
    ),
    "worker without PDB": (
        availability_problems,
        lambda o: o.remove(find(o, "PodDisruptionBudget", "worker")),
    ),
    "web without HPA": (
        availability_problems,
        lambda o: o.remove(find(o, "HorizontalPodAutoscaler", "web")),
    ),
    "transaction pooling": (
        pgbouncer_problems,
        lambda o: find(o, "ConfigMap", "pgbouncer")["data"].update(
            {
                "pgbouncer.ini": find(o, "ConfigMap", "pgbouncer")["data"]["pgbouncer.ini"].replace(
                    "pool_mode = session", "pool_mode = transaction"
                )
            }
        ),
    ),
}


@pytest.mark.parametrize("breakage", K8S_BREAKAGES)
def test_each_k8s_check_reports_a_broken_copy(breakage: str) -> None:
    check, breaking = K8S_BREAKAGES[breakage]
    objects = copy.deepcopy(k8s_objects())
    assert check(objects) == []
    breaking(objects)
    assert check(objects) != []


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("ghcr.io/hexitime/hexitime:latest", "1.2.0"),
        ("edoburu/pgbouncer", "1.2.0"),
        ("ghcr.io/hexitime/hexitime:1.1.0", "1.2.0"),
        ("registry.example:5000/hexitime", "1.2.0"),
    ],
)
def test_image_check_reports_unpinned_and_stale_images(image: str, tag: str) -> None:
    objects = copy.deepcopy(k8s_objects())
    first_container(objects, "Deployment", "worker")["image"] = image
    assert image_problems(objects, tag=tag) != []


def test_release_check_reports_a_job_not_named_after_the_version() -> None:
    objects = copy.deepcopy(k8s_objects())
    assert release_problems(objects, tag="1.3.0") != []
    find(objects, "Job", "release")["metadata"]["name"] = "hexitime-release"
    assert release_problems(objects, tag="1.2.0") != []


def service(spec: Obj, name: str) -> Obj:
    found: Obj = spec["services"][name]
    return found


COMPOSE_BREAKAGES: dict[str, tuple[str, Callable[[Obj], object]]] = {
    "web without health check": ("healthchecks", lambda s: service(s, "web").pop("healthcheck")),
    "redis never restarts": ("healthchecks", lambda s: service(s, "redis").pop("restart")),
    "worker before release": (
        "ordering",
        lambda s: service(s, "worker")["depends_on"].update(
            release={"condition": "service_started"}
        ),
    ),
    "beat without redis": ("ordering", lambda s: service(s, "beat")["depends_on"].pop("redis")),
    "web straight to postgres": (
        "ordering",
        lambda s: service(s, "web")["environment"].update(
            DATABASE_URL="postgresql://hexitime:x@postgres:5432/hexitime"
        ),
    ),
    "transaction pooling": (
        "pgbouncer",
        lambda s: service(s, "pgbouncer")["environment"].update(POOL_MODE="transaction"),
    ),
    "redis latest": ("images", lambda s: service(s, "redis").update(image="redis:latest")),
    "postgres untagged": ("images", lambda s: service(s, "postgres").update(image="postgres")),
    "optional app tag": (
        "images",
        lambda s: service(s, "web").update(image="ghcr.io/hexitime/hexitime:${HEXITIME_VERSION}"),
    ),
    "no data volume": ("volumes", lambda s: service(s, "beat").pop("volumes")),
    "no .env": ("secrets", lambda s: service(s, "release").pop("env_file")),
    "one citus worker": ("citus", lambda s: s["services"].pop("citus-worker-2")),
    "citus without 2PC": (
        "citus",
        lambda s: service(s, "citus-coordinator").update(
            command=[c for c in service(s, "citus-coordinator")["command"] if "prepared" not in c]
        ),
    ),
}


@pytest.mark.parametrize("breakage", COMPOSE_BREAKAGES)
def test_each_compose_check_reports_a_broken_copy(breakage: str) -> None:
    check, breaking = COMPOSE_BREAKAGES[breakage]
    spec = copy.deepcopy(compose())
    assert COMPOSE_CHECKS[check](spec) == []
    breaking(spec)
    assert COMPOSE_CHECKS[check](spec) != []

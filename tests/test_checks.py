"""The rendered project's CI checks can fail: each kind of mistake a pull request can make
fails the step of test.yml that is there to catch it (and the untouched project passes
every one of them; tests/test_release.py runs the whole jobs for every backend and installer).

The steps run as the rehearsal runs them (tests/helpers.py, Runner): their own `run:`
text, with the checkers at the versions the rendered .pre-commit-config.yaml pins.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import Runner, commit_all, git, run, workflow

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ci(render, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Runner]:
    """A rendered project in git whose checks job ran clean, and its runner (the checkers
    stay installed there)."""
    work = tmp_path_factory.mktemp("checks")
    project = work / "acme-widgets"
    shutil.copytree(render(), project)
    run(["git", "init", "-q", project])
    commit_all(project, "As rendered")
    jobs = workflow(project, "test.yml")["jobs"]
    runner = Runner(project, work / "runner", {})
    runner.run_job(jobs["checks"])  # installs the checkers; every check passes as rendered
    runner.run_job(jobs["test"])
    return project, jobs, runner


def step(jobs: dict[str, Any], job_id: str, name: str) -> dict[str, Any]:
    return next(s for s in jobs[job_id]["steps"] if s.get("name") == name)


def add_to(path: str, text: str) -> Callable[[Path], None]:
    def change(project: Path) -> None:
        with (project / path).open("a", encoding="utf-8") as file:
            file.write(text)

    return change


UNTESTED = (
    "\n\ndef spin(turns: int) -> int:\n"
    + "".join(f"    turns += {i}\n    if turns > {i * 7}:\n        turns -= 1\n" for i in range(20))
    + "    return turns\n"
)


@pytest.mark.parametrize(
    ("change", "job_id", "failing", "says"),
    [
        (
            add_to("src/acme_widgets/_greeting.py", "\n\ndef count() -> int:\n    return 'one'\n"),
            "checks",
            "mypy",
            "return-value",
        ),
        (add_to("src/acme_widgets/_greeting.py", "\nimport os\n"), "checks", "ruff check", "F401"),
        (
            add_to("src/acme_widgets/_greeting.py", "\n\nanswer   =  42\n"),
            "checks",
            "ruff format",
            "would be reformatted",
        ),
        (
            add_to(".github/workflows/test.yml", "      - uses: actions/cache@v4\n"),
            "checks",
            "zizmor",
            "unpinned-uses",
        ),
        (
            add_to("src/acme_widgets/_greeting.py", UNTESTED),
            "coverage",
            "Fail under the threshold in pyproject.toml ([tool.coverage.report] fail_under)",
            "fail-under",
        ),
    ],
    ids=["type-error", "lint-error", "unformatted", "unpinned-action", "coverage-drop"],
)
def test_each_check_fails_on_its_mistake(
    ci: tuple[Path, dict[str, Any], Runner],
    change: Callable[[Path], None],
    job_id: str,
    failing: str,
    says: str,
) -> None:
    project, jobs, runner = ci
    try:
        change(project)
        if job_id == "coverage":  # new data: the tests run again under coverage, then combine
            for data in project.glob(".coverage*"):
                data.unlink()
            for name in ("Run the tests under coverage", "Combine the coverage of every test job"):
                done = runner.run_step(step(jobs, "test" if name.startswith("Run") else "coverage", name))
                assert done.returncode == 0, done.stdout + done.stderr
        done = runner.run_step(step(jobs, job_id, failing))
        assert done.returncode != 0, f"{failing} passed:\n{done.stdout}{done.stderr}"
        assert says in done.stdout + done.stderr
    finally:
        git(project, "checkout", "--", ".")
        git(project, "clean", "-fdq", "-e", ".coverage*")
    # The same step passes again once the mistake is gone: it failed because of it.
    if job_id != "coverage":
        assert runner.run_step(step(jobs, job_id, failing)).returncode == 0


def test_the_checkers_are_the_versions_pre_commit_pins(ci: tuple[Path, dict[str, Any], Runner]) -> None:
    project, _jobs, runner = ci
    config = (project / ".pre-commit-config.yaml").read_text()
    for tool_name, repo in (
        ("ruff", "ruff-pre-commit"),
        ("mypy", "mirrors-mypy"),
        ("zizmor", "zizmor-pre-commit"),
    ):
        rev = config.split(repo, 1)[1].split("rev: v", 1)[1].split()[0]
        done = subprocess.run(
            [tool_name, "--version"], env=runner.env, cwd=project, capture_output=True, text=True, check=True
        )
        assert rev in done.stdout, (tool_name, rev, done.stdout)

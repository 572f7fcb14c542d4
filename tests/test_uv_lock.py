"""ci_installer=uv: uv.lock is written at render and committed, CI installs exactly it
(`uv sync --locked`, so a stale lock fails the run), and copier never touches it afterwards."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest
import tomllib

from helpers import (
    NOT_TEMPLATE,
    REQUIRED_ANSWERS,
    TEMPLATE_DIR,
    commit_all,
    copier,
    copy_with_answers,
    edit,
    git,
    run,
    tool,
    workflow,
)

# uv as CI's runner has it: the test environment's Python, nothing downloaded.
UV_ENV = {
    "UV_PYTHON": sys.executable,
    "UV_PYTHON_DOWNLOADS": "never",
    "PATH": f"{tool('uv').parent}{os.pathsep}{os.environ['PATH']}",
}
# The release before uv.lock (v1.1.0): its commit, which main's history holds.
BEFORE_THE_LOCK = "27872ef4ff9d71d6289311395f47e47ed3e758cb"


def ci_commands(project: Path, job: str) -> list[str]:
    """The `run:` commands of a job of test.yml, in order: what CI types."""
    return [step["run"] for step in workflow(project, "test.yml")["jobs"][job]["steps"] if "run" in step]


def bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(["bash", "-c", command], cwd=cwd, env=UV_ENV, check=False)


@pytest.fixture
def uv_project(render, tmp_path: Path) -> Path:
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(ci_installer="uv"), project)
    return project


def test_the_render_writes_uv_lock_and_ci_installs_exactly_it(uv_project: Path) -> None:
    lock = (uv_project / "uv.lock").read_bytes()
    assert b'name = "acme-widgets"' in lock
    assert "uv.lock" not in (uv_project / ".gitignore").read_text().splitlines()  # it is committed
    commands = ci_commands(uv_project, "test")
    assert commands == ["uv sync --locked --no-dev --extra test", "uv run --no-sync coverage run -m pytest"]
    assert ci_commands(uv_project, "free-threaded") == [
        "uv sync --locked --no-dev --extra test",
        "uv run --no-sync pytest",
    ]
    # The lint job too: mypy checks against the locked versions (once it installed with pip).
    checks = ci_commands(uv_project, "checks")
    assert (
        checks[1] == 'uv sync --locked --no-dev --extra test\nuv pip install -r "$RUNNER_TEMP/checkers.txt"\n'
    )
    assert not [c for c in checks if "pip install" in c and not c.startswith("uv ")]
    for command in commands:
        done = bash(command, uv_project)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    assert (uv_project / "uv.lock").read_bytes() == lock  # installing never rewrote it


def test_a_stale_lock_fails_ci_at_the_install(uv_project: Path) -> None:
    """A dependency added to pyproject.toml without `uv lock`: CI stops at its first command."""
    pyproject = uv_project / "pyproject.toml"
    text = pyproject.read_text()
    assert "dependencies = []" in text
    pyproject.write_text(text.replace("dependencies = []", 'dependencies = ["packaging>=24"]', 1))
    lock = (uv_project / "uv.lock").read_bytes()
    install = ci_commands(uv_project, "test")[0]
    done = bash(install, uv_project)
    assert done.returncode != 0
    assert "uv lock" in done.stderr  # uv says what to run
    assert (uv_project / "uv.lock").read_bytes() == lock
    # The documented fix: `uv lock` (CONTRIBUTING.md), after which the same install passes.
    assert "run `uv lock` and commit `uv.lock`" in (uv_project / "CONTRIBUTING.md").read_text()
    run([tool("uv"), "lock", "-q"], cwd=uv_project, env=UV_ENV)
    assert bash(install, uv_project).returncode == 0


def test_dependabot_relocks_with_its_uv_ecosystem(uv_project: Path, default_project: Path) -> None:
    from helpers import load_yaml

    def ecosystems(project: Path) -> set[str]:
        return {u["package-ecosystem"] for u in load_yaml(project / ".github/dependabot.yml")["updates"]}

    assert ecosystems(uv_project) == {"github-actions", "uv", "pre-commit"}
    assert ecosystems(default_project) == {"github-actions", "pip", "pre-commit"}


def test_the_readme_and_contributing_lead_with_uv(uv_project: Path) -> None:
    readme = (uv_project / "README.md").read_text()
    assert "uv sync --locked\nuv run pytest\n" in readme
    assert "pip install -e" not in readme
    contributing = (uv_project / "CONTRIBUTING.md").read_text()
    assert contributing.index("uv sync --locked") < contributing.index("pip install --group dev")
    assert "| check | with uv | with pip" in contributing


def _python_without_uv(tmp_path: Path) -> Path:
    """A Python with copier's dependencies (this environment's site-packages) and no uv beside it."""
    venv = tmp_path / "no-uv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = venv / "bin" / "python"
    assert not (python.parent / "uv").exists()
    return python


def test_without_uv_nothing_is_written_and_the_task_says_what_to_run(
    uv_project: Path, tmp_path: Path
) -> None:
    (uv_project / "uv.lock").unlink()
    python = _python_without_uv(tmp_path)
    done = run(
        [python, TEMPLATE_DIR / "extensions" / "load.py", "uv_lock"],
        cwd=uv_project,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert not (uv_project / "uv.lock").exists()
    assert "uv.lock not written: uv is not installed here; run `uv lock` in the project" in done.stdout


def test_without_uv_the_message_after_copy_says_to_write_the_lock(tmp_path: Path) -> None:
    """copier run where uv is not: the task's note scrolls by in copier's output, so the
    message at the end says it too, before the first commit (once it did not)."""
    python = _python_without_uv(tmp_path)
    project = tmp_path / "acme-widgets"
    data = [
        arg
        for key, value in {**REQUIRED_ANSWERS, "ci_installer": "uv"}.items()
        for arg in ("-d", f"{key}={value}")
    ]
    done = run(
        [
            python,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            *data,
            TEMPLATE_DIR,
            project,
        ],
        env={"PATH": "/usr/bin:/bin"},
    )
    assert not (project / "uv.lock").exists()
    told = " ".join(done.stderr.split()).split("Next steps: ", 1)[1]
    assert told.startswith("0. Write uv.lock before the first commit: CI installs exactly it")
    assert f"cd {project} && uv lock" in told


def test_with_uv_the_message_after_copy_says_nothing_of_the_lock(tmp_path: Path) -> None:
    """Where the task wrote uv.lock (uv beside copier, as the README installs it), no such step."""
    project = tmp_path / "acme-widgets"
    done = copy_with_answers(project, {**REQUIRED_ANSWERS, "ci_installer": "uv"})
    assert (project / "uv.lock").is_file()
    assert "Next steps:" in done.stderr
    assert "Write uv.lock" not in done.stderr


def test_without_uv_a_lock_is_left_and_a_changed_pyproject_is_reported(
    uv_project: Path, tmp_path: Path
) -> None:
    """uv.lock exists but uv does not: an update that changed pyproject.toml says the lock was
    not checked and what to run; one that did not change it says nothing."""
    git(uv_project, "init", "-q")
    commit_all(uv_project, "As rendered")
    lock = (uv_project / "uv.lock").read_bytes()
    python = _python_without_uv(tmp_path)
    task: list[str | Path] = [python, TEMPLATE_DIR / "extensions" / "load.py", "uv_lock"]
    quiet = run(task, cwd=uv_project, env={"PATH": "/usr/bin:/bin"})
    assert "uv.lock" not in quiet.stdout + quiet.stderr
    edit(uv_project / "pyproject.toml", "dependencies = [", 'dependencies = [\n  "click>=8",')
    told = run(task, cwd=uv_project, env={"PATH": "/usr/bin:/bin"})
    assert "uv.lock not checked: uv is not installed here, and pyproject.toml changed" in told.stdout
    assert "run `uv lock` in the project and commit uv.lock if it changes" in told.stdout
    assert (uv_project / "uv.lock").read_bytes() == lock


def _pins(lock: str) -> dict[str, str]:
    """package -> version, from uv.lock's [[package]] tables."""
    return {package["name"]: package["version"] for package in tomllib.loads(lock)["package"]}


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This template with two releases: v1.1.0 as it was released (this repository's own
    history), before uv.lock, then the working tree as v1.2.0."""
    known = run(["git", "-C", TEMPLATE_DIR, "cat-file", "-e", f"{BEFORE_THE_LOCK}^{{commit}}"], check=False)
    if known.returncode:
        pytest.skip("v1.1.0 is not in this (shallow) clone's history: `git fetch --unshallow`")
    path = tmp_path_factory.mktemp("releases") / "copier-python-lib"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    archive = subprocess.run(
        ["git", "-C", TEMPLATE_DIR, "archive", "--format=tar", BEFORE_THE_LOCK],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(path, filter="data")
    commit_all(path, "v1.1.0")
    git(path, "tag", "v1.1.0")
    git(path, "rm", "-rq", ".")
    shutil.copytree(TEMPLATE_DIR, path, ignore=NOT_TEMPLATE, dirs_exist_ok=True)
    commit_all(path, "v1.2.0")
    git(path, "tag", "v1.2.0")
    return path


def test_update_writes_the_lock_then_leaves_it_to_the_project(releases: Path, tmp_path: Path) -> None:
    """A uv project from the release before the lock: the update writes uv.lock and stops
    ignoring it. Later updates keep the project's lock as it is, unless they change
    pyproject.toml's dependencies: then `uv lock` adds what is new and keeps every other pin."""
    project = tmp_path / "acme-widgets"
    copy_with_answers(project, {**REQUIRED_ANSWERS, "ci_installer": "uv"}, releases, "--vcs-ref=v1.1.0")
    assert not (project / "uv.lock").exists()
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Start")

    done = copier("update", "--trust", "--defaults", cwd=project)
    assert "uv.lock written by `uv lock`: commit it" in done.stdout
    assert "uv.lock" not in (project / ".gitignore").read_text().splitlines()
    assert "?? uv.lock" in git(project, "status", "--porcelain")  # there to commit
    assert "uv sync --locked" in (project / ".github/workflows/test.yml").read_text()

    # The project's lock, as its owner or Dependabot left it (a comment marks it): an update
    # that changes no dependency keeps it byte for byte.
    mine = (project / "uv.lock").read_text() + "# the project's own lock\n"
    (project / "uv.lock").write_text(mine)
    commit_all(project, "Lock")
    copier("update", "--trust", "--defaults", "-d", "update_notice=false", cwd=project)
    assert (project / "uv.lock").read_text() == mine
    commit_all(project, "No template news")

    # An answer change that adds a dependency (click): the lock follows, and CI's install passes.
    done = copier("update", "--trust", "--defaults", "-d", "cli=click", cwd=project)
    assert "uv.lock updated by `uv lock` to match pyproject.toml" in done.stdout
    after = _pins((project / "uv.lock").read_text())
    assert "click" in after
    assert {name: version for name, version in after.items() if name in _pins(mine)} == _pins(mine)
    assert bash("uv sync --locked --no-dev --extra test", project).returncode == 0

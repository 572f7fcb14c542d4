"""Release rehearsal: the rendered workflows' own commands, run for real on this machine.

The `run:` steps of test.yml's checks, test and coverage jobs and of the build job run in
order inside a rendered project; each `uses:` step is replaced by its local equivalent (the checkout is the
project already here; setup-python is a fresh virtual environment of this Python;
setup-uv is the uv of the test environment). The built files are then checked and
uploaded, as the publish job does, with the very twine that the pinned
pypa/gh-action-pypi-publish bundles (extensions/actions.yml records it), to a package
index started on 127.0.0.1, and installed from it into a fresh virtual environment, as a
user would after a release. In the same rehearsed project, each check of test.yml fails on the
mistake it is there to catch, and passes again once the mistake is gone.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from extensions import backends
from helpers import TEMPLATE_DIR, Runner, commit_all, git, load_yaml, make_venv, run, tool, workflow

pytestmark = pytest.mark.slow

# The publish action the rendered workflows pin, and the twine it bundles and runs.
PUBLISH_ACTION = load_yaml(TEMPLATE_DIR / "extensions/actions.yml")["pypa/gh-action-pypi-publish"]
# A release from before twine 7 (v1.13.0 to v1.14.1 bundle twine 6): what every project
# made from this template pinned until 2026-11-29.
OLDER_PUBLISH_ACTION = {"version": "v1.14.1", "twine": "6.2.0"}

# Each installer's jobs and each pure-Python backend once, the default pair among them. The jobs'
# steps depend on the installer only; each backend's build with the other installer's command is
# test_project's (python -m build, per backend) and its CONTRIBUTING test's (uv build); the
# release check step reads the sdist's name, which both backends write here.
COMBINATIONS = [
    {"build_backend": "setuptools", "ci_installer": "pip"},
    {"build_backend": "hatchling", "ci_installer": "uv"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A pypiserver on 127.0.0.1 that accepts uploads without a password."""
    packages = tmp_path_factory.mktemp("index")
    port = free_port()
    server = subprocess.Popen(
        [tool("pypi-server"), "run", "-i", "127.0.0.1", "-p", str(port), "-a", ".", "-P", ".", packages],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/simple/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass(frozen=True)
class Rehearsal:
    """A rehearsed project, test.yml's jobs, and the runner of each job that ran there (its
    tools stay installed: the checkers in the checks job's, coverage in the coverage job's)."""

    project: Path
    jobs: dict[str, Any]
    runners: dict[str, Runner]


@pytest.fixture(
    scope="module", params=COMBINATIONS, ids=lambda c: f"{c['build_backend']}-{c['ci_installer']}"
)
def rehearsal(request: pytest.FixtureRequest, render, tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    """A project whose test jobs and build job ran for real, leaving dist/ built. It is a git
    repository, as actions/checkout leaves it, so a test can change it and put it back."""
    answers = request.param
    work = tmp_path_factory.mktemp("rehearsal")
    project = work / "acme-widgets"
    shutil.copytree(
        render(**answers, project_name=f"acme-{answers['build_backend']}-{answers['ci_installer']}"), project
    )
    run(["git", "init", "-q", project])
    commit_all(project, "As rendered")
    # test.yml as CI runs it: the checks (ruff, mypy, zizmor at the pre-commit config's
    # versions), the tests under coverage, and the combined report with its threshold.
    tests = workflow(project, "test.yml")["jobs"]
    runners = {}
    for job_id in ("checks", "test", "coverage"):
        runners[job_id] = Runner(project, work / job_id, {"UV_CACHE_DIR": str(work / "uv-cache")})
        runners[job_id].run_job(tests[job_id])
        if job_id == "checks" and answers["ci_installer"] == "uv":
            # The checkers went into the project's own environment, beside its locked
            # dependencies, as on a runner (not into the one running these tests).
            assert (project / ".venv/bin/zizmor").is_file()
    summary = (work / "coverage" / "step-summary.md").read_text()
    assert "| **TOTAL**" in summary and "100%" in summary, summary
    build_job = workflow(project, "publish.yml")["jobs"]["build"]
    Runner(project, work, {"GITHUB_REF_NAME": "v0.1.0", "UV_CACHE_DIR": str(work / "uv-cache")}).run_job(
        build_job
    )
    return Rehearsal(project, tests, runners)


@pytest.fixture(scope="module")
def rehearsed(rehearsal: Rehearsal) -> Path:
    """The rehearsed project, its dist/ built."""
    return rehearsal.project


def distributions(project: Path) -> list[Path]:
    # As the publish action does (twine upload dist/*), hidden files such as the
    # .gitignore that uv build leaves in dist/ are not distributions.
    return sorted(p for p in (project / "dist").iterdir() if not p.name.startswith("."))


@pytest.fixture(scope="session")
def twine_of(made_once: Callable[..., Path]) -> Callable[[str], Path]:
    """The twine command of an exact twine release, installed from the index into its own
    environment (once per run, whichever worker asks first)."""

    def _twine(version: str) -> Path:
        def install(out: Path) -> None:
            python = make_venv(out / "venv")
            run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"twine=={version}"])

        return made_once(f"twine-{version}", install) / "venv" / "bin" / "twine"

    return _twine


def publish_check(twine: Path, dist: list[Path]) -> subprocess.CompletedProcess[str]:
    """What the publish action does before it uploads (its twine's check), strictly."""
    return run([twine, "check", "--strict", *dist], check=False)


def built_by(dist: list[Path]) -> str:
    """ "hatchling 1.33.0, Metadata-Version 2.5": who made the wheel and what it declares."""
    wheel = next(p for p in dist if p.suffix == ".whl")
    with zipfile.ZipFile(wheel) as archive:
        info = next(n.split("/")[0] for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
        generator = archive.read(f"{info}/WHEEL").decode().split("Generator: ", 1)[1].splitlines()[0]
        metadata = archive.read(f"{info}/METADATA").decode().split("Metadata-Version: ", 1)[1].splitlines()[0]
    return f"{generator}, Metadata-Version {metadata}"


@pytest.fixture(scope="module")
def newest_build(dist_of) -> Callable[[str], list[Path]]:
    """The sdist and wheel of a default project, built with the backend's newest release
    (build isolation installs the newest release the [build-system] range allows)."""
    return lambda backend: sorted(dist_of(backend).iterdir())


@pytest.mark.parametrize("backend", list(backends.BACKENDS))
def test_the_pinned_publish_action_accepts_what_the_newest_backend_builds(
    backend: str, newest_build, twine_of
) -> None:
    dist = newest_build(backend)
    done = publish_check(twine_of(PUBLISH_ACTION["twine"]), dist)
    assert done.returncode == 0, (
        f"{backend} ({built_by(dist)}) builds files that twine {PUBLISH_ACTION['twine']}, inside "
        f"pypa/gh-action-pypi-publish {PUBLISH_ACTION['version']}, rejects: every release would fail at "
        f"the upload. Move the pin to a release with a newer twine.\n{done.stdout}{done.stderr}"
    )


def test_an_older_publish_action_fails_the_hatchling_release(newest_build, twine_of) -> None:
    """The check above is the one that catches a stale pin: the twine of v1.14.1 rejects what
    hatchling builds today (metadata 2.5), as it did for many projects' releases in 2026."""
    dist = newest_build("hatchling")
    done = publish_check(twine_of(OLDER_PUBLISH_ACTION["twine"]), dist)
    assert done.returncode != 0
    said = " ".join((done.stdout + done.stderr).split())  # twine wraps its message to the terminal
    assert "'2.5' is not a valid metadata version" in said, built_by(dist)


def test_build_job_leaves_an_sdist_and_a_wheel(rehearsed: Path) -> None:
    assert [p.name.split("-0.1.0")[1] for p in distributions(rehearsed)] == ["-py3-none-any.whl", ".tar.gz"]


def test_release_uploads_to_an_index_and_installs_from_it(
    rehearsed: Path, package_index: str, twine_of
) -> None:
    """The publish job's upload, with the twine of the pinned publish action."""
    dist = distributions(rehearsed)
    twine = twine_of(PUBLISH_ACTION["twine"])
    done = publish_check(twine, dist)
    assert done.returncode == 0, f"{built_by(dist)}:\n{done.stdout}{done.stderr}"
    run(
        [
            twine,
            "upload",
            "--non-interactive",
            "--repository-url",
            package_index + "/",
            "-u",
            "rehearsal",
            "-p",
            "rehearsal",
            *dist,
        ]
    )
    name = rehearsed.joinpath("pyproject.toml").read_text().split('name = "', 1)[1].split('"', 1)[0]
    module = name.replace("-", "_")
    python = make_venv(rehearsed.parent / "user-venv")
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "--index-url",
            package_index + "/simple/",
            name,
        ]
    )
    done = run([python, "-c", f"import {module}; print({module}.__version__, {module}.greet('PyPI'))"])
    assert done.stdout.strip() == "0.1.0 Hello, PyPI!"


def test_build_job_refuses_a_tag_that_is_not_the_version(rehearsed: Path, tmp_path: Path) -> None:
    build_job = workflow(rehearsed, "publish.yml")["jobs"]["build"]
    check = next(s for s in build_job["steps"] if s.get("name", "").startswith("Check that the release tag"))
    done = subprocess.run(
        ["bash", "-e", "-c", check["run"]],
        cwd=rehearsed,
        capture_output=True,
        text=True,
        env={**os.environ, "GITHUB_REF_NAME": "v9.9.9"},
        check=False,
    )
    assert done.returncode == 1
    assert "does not match the version" in done.stdout


# Each check of test.yml can fail: every kind of mistake a pull request can make fails the step
# that is there to catch it, in the default project (setuptools, pip) whose jobs the rehearsal
# ran clean above, with the checkers at the versions its .pre-commit-config.yaml pins.
DEFAULT_REHEARSAL = pytest.mark.parametrize(
    "rehearsal", COMBINATIONS[:1], indirect=True, ids=["setuptools-pip"]
)


def step(jobs: dict[str, Any], job_id: str, name: str) -> dict[str, Any]:
    return next(s for s in jobs[job_id]["steps"] if s.get("name") == name)


def add_to(path: str, text: str) -> Callable[[Path], None]:
    """Appends ``text`` to a file of the project; ``{package}`` is its import package's folder."""

    def change(project: Path) -> None:
        package = next((project / "src").iterdir()).name
        with (project / path.format(package=f"src/{package}")).open("a", encoding="utf-8") as file:
            file.write(text)

    return change


UNTESTED = (
    "\n\ndef spin(turns: int) -> int:\n"
    + "".join(f"    turns += {i}\n    if turns > {i * 7}:\n        turns -= 1\n" for i in range(20))
    + "    return turns\n"
)


@DEFAULT_REHEARSAL
@pytest.mark.parametrize(
    ("change", "job_id", "failing", "says"),
    [
        (
            add_to("{package}/_greeting.py", "\n\ndef count() -> int:\n    return 'one'\n"),
            "checks",
            "mypy",
            "return-value",
        ),
        (add_to("{package}/_greeting.py", "\nimport os\n"), "checks", "ruff check", "F401"),
        (
            add_to("{package}/_greeting.py", "\n\nanswer   =  42\n"),
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
            add_to("{package}/_greeting.py", UNTESTED),
            "coverage",
            "Fail under the threshold in pyproject.toml ([tool.coverage.report] fail_under)",
            "fail-under",
        ),
    ],
    ids=["type-error", "lint-error", "unformatted", "unpinned-action", "coverage-drop"],
)
def test_each_check_fails_on_its_mistake(
    rehearsal: Rehearsal,
    change: Callable[[Path], None],
    job_id: str,
    failing: str,
    says: str,
) -> None:
    project, jobs, runners = rehearsal.project, rehearsal.jobs, rehearsal.runners
    try:
        change(project)
        if job_id == "coverage":  # new data: the tests run again under coverage, then combine
            for data in project.glob(".coverage*"):
                data.unlink()
            done = runners["test"].run_step(step(jobs, "test", "Run the tests under coverage"))
            assert done.returncode == 0, done.stdout + done.stderr
            done = runners["coverage"].run_step(
                step(jobs, "coverage", "Combine the coverage of every test job")
            )
            assert done.returncode == 0, done.stdout + done.stderr
        done = runners[job_id].run_step(step(jobs, job_id, failing))
        assert done.returncode != 0, f"{failing} passed:\n{done.stdout}{done.stderr}"
        assert says in done.stdout + done.stderr
    finally:
        git(project, "checkout", "--", ".")
        git(project, "clean", "-fdq", "-e", ".coverage*")
    # The same step passes again once the mistake is gone: it failed because of it.
    if job_id != "coverage":
        assert runners[job_id].run_step(step(jobs, job_id, failing)).returncode == 0


@DEFAULT_REHEARSAL
def test_the_checkers_are_the_versions_pre_commit_pins(rehearsal: Rehearsal) -> None:
    project, runner = rehearsal.project, rehearsal.runners["checks"]
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

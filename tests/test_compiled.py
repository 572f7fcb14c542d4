"""build_backend=scikit-build-core: a C++ extension (nanobind, CMake), built here for real, and
the release's hand-off from the sdist and wheel jobs to the one upload rehearsed by name.

cibuildwheel itself needs a container engine (Linux) or the other systems, which this machine
lacks: its configuration ([tool.cibuildwheel]) is played here with what it runs, a wheel built
by `python -m build` and `test-command` run on a copy of `test-sources`.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import tomllib

from helpers import cpython, load_yaml, make_venv, run, steps_using, tool, workflow

pytestmark = pytest.mark.slow

COMPILED = {"build_backend": "scikit-build-core"}


@pytest.fixture(scope="module")
def project(render, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("compiled") / "acme-widgets"
    shutil.copytree(render(**COMPILED), dest)
    return dest


@pytest.fixture(scope="module")
def built(project: Path, dist_of) -> dict[str, Path]:
    """The sdist as the build job makes it (its own command), and the wheel compiled here from
    that sdist (as `python -m build` does; cibuildwheel builds the same sources)."""
    build = workflow(project, "publish.yml")["jobs"]["build"]
    commands = [step["run"] for step in build["steps"] if "run" in step]
    assert "python -m build --sdist" in commands[0]
    out = dist_of(COMPILED["build_backend"])
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_the_wheel_is_compiled_for_this_system(built: dict[str, Path]) -> None:
    wheel = built["wheel"]
    assert not wheel.name.endswith("-py3-none-any.whl")  # a platform wheel
    assert f"-cp{sys.version_info.major}{sys.version_info.minor}-" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.startswith("acme_widgets/_core.") and name.endswith(".so") for name in names)
    assert "acme_widgets/_core.pyi" in names and "acme_widgets/py.typed" in names
    assert not [name for name in names if name.endswith(".cpp")]  # no C++ source in the wheel


def test_the_wheel_passes_its_tests_as_cibuildwheel_runs_them(
    project: Path, built: dict[str, Path], tmp_path: Path
) -> None:
    """[tool.cibuildwheel]: the wheel with its test extra in a fresh environment, then
    test-command in a folder holding only test-sources."""
    config = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["cibuildwheel"]
    python = make_venv(tmp_path / "venv")
    extras = ",".join(config["test-extras"])
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{built['wheel']}[{extras}]"])
    sources = tmp_path / "test-sources"
    sources.mkdir()
    for name in config["test-sources"]:
        copy = shutil.copytree if (project / name).is_dir() else shutil.copy
        copy(project / name, sources / name)
    command = config["test-command"].split()
    assert command[0] == "python"
    done = run([python, *command[1:]], cwd=sources)
    assert "6 passed" in done.stdout  # test_core.py's two among them


def _uploads(job: dict[str, Any]) -> list[str]:
    """The artifact names a job uploads, one per matrix entry."""
    matrix = job.get("strategy", {}).get("matrix", {})
    keys = list(matrix)
    names = []
    for values in itertools.product(*(matrix[k] for k in keys)) if keys else [()]:
        for step in steps_using(job, "actions/upload-artifact"):
            name = step["with"]["name"]
            for key, value in zip(keys, values, strict=True):
                name = name.replace("${{ matrix." + key + " }}", str(value))
            names.append(name)
    return names


def test_the_release_uploads_what_the_build_jobs_made_in_one_go(
    project: Path, built: dict[str, Path], tmp_path: Path
) -> None:
    """Every artifact the sdist and wheel jobs upload is downloaded by each publish job into one
    folder; nothing of the tests' own artifacts is. The files of that folder, here one sdist
    and this system's wheel, pass the publish action's twine."""
    jobs = workflow(project, "publish.yml")["jobs"]
    uploaded = _uploads(jobs["build"]) + _uploads(workflow(project, "wheels.yml")["jobs"]["wheels"])
    assert uploaded == [
        "python-distributions-sdist",
        "python-distributions-wheels-ubuntu-latest",
        "python-distributions-wheels-ubuntu-24.04-arm",
        "python-distributions-wheels-macos-latest",
        "python-distributions-wheels-windows-latest",
    ]
    assert len(set(uploaded)) == len(uploaded)  # no job overwrites another's artifact
    tests_artifacts = _uploads(workflow(project, "test.yml")["jobs"]["test"])
    for name in [job for job in jobs if job.startswith("publish")]:
        deploy = jobs[name]
        assert deploy["needs"] == ["build", "wheels"] or deploy["needs"] == "publish-testpypi"
        [download] = steps_using(deploy, "actions/download-artifact")
        spec = download["with"]
        assert spec["merge-multiple"] is True and spec["path"] == "dist/"
        assert [n for n in uploaded if fnmatch.fnmatchcase(n, spec["pattern"])] == uploaded
        assert not [n for n in tests_artifacts if fnmatch.fnmatchcase(n, spec["pattern"])]
        assert not [step for step in deploy["steps"] if "run" in step]

    # The hand-off with real files: each job's artifact, then the merged download.
    artifacts = {
        "python-distributions-sdist": built["sdist"],
        "python-distributions-wheels-ubuntu-latest": built["wheel"],
    }
    dist = tmp_path / "dist"
    dist.mkdir()
    for name, file in artifacts.items():
        assert fnmatch.fnmatchcase(name, "python-distributions-*")
        shutil.copy(file, dist / file.name)
    assert sorted(p.name for p in dist.iterdir()) == sorted(f.name for f in artifacts.values())
    twine = load_yaml(Path(__file__).parents[1] / "extensions/actions.yml")["pypa/gh-action-pypi-publish"][
        "twine"
    ]
    assert run([tool("twine"), "--version"]).stdout.split()[2] == twine  # "twine version X"
    run([tool("twine"), "check", "--strict", *dist.iterdir()])


def test_the_wheel_jobs_can_release_nothing_themselves(project: Path) -> None:
    jobs = workflow(project, "publish.yml")["jobs"]
    # The release's wheels come from the workflow that builds a pull request's (wheels.yml).
    call = jobs["wheels"]
    assert call["uses"] == "./.github/workflows/wheels.yml"
    assert call["permissions"] == {"contents": "read"}
    assert call["needs"] == "test"  # the tests gate every build
    wheels = workflow(project, "wheels.yml")
    assert wheels["permissions"] == {"contents": "read"}
    assert wheels["jobs"]["wheels"]["permissions"] == {"contents": "read"}
    assert [s["uses"].split("@")[0] for s in wheels["jobs"]["wheels"]["steps"]] == [
        "actions/checkout",
        "pypa/cibuildwheel",
        "actions/upload-artifact",
    ]
    assert jobs["publish"]["runs-on"] == "ubuntu-latest"
    assert jobs["publish"]["permissions"] == {"id-token": "write"}


def test_free_threading_decides_what_the_extension_declares(render) -> None:
    declared = render(**COMPILED, free_threading="required")
    cmake = (declared / "CMakeLists.txt").read_text()
    assert "nanobind_add_module(_core NB_STATIC FREE_THREADED src/_core.cpp)" in cmake
    config = tomllib.loads((declared / "pyproject.toml").read_text())["tool"]["cibuildwheel"]
    assert "skip" not in config  # free-threaded wheels too
    plain = render(**COMPILED, free_threading="none")
    assert "nanobind_add_module(_core NB_STATIC src/_core.cpp)" in (plain / "CMakeLists.txt").read_text()
    config = tomllib.loads((plain / "pyproject.toml").read_text())["tool"]["cibuildwheel"]
    assert config["skip"] == ["cp3??t-*"]


def test_an_existing_project_keeps_its_own_backend() -> None:
    from extensions import answers

    assert answers.question_error("build_backend", "scikit-build-core", "no") == ""
    refusal = answers.question_error("build_backend", "scikit-build-core", "add")
    assert refusal == "An existing project keeps its own build backend: answer other."


def test_wheels_are_built_on_pull_requests_that_change_what_they_hold(project: Path, render) -> None:
    """wheels.yml runs on a pull request that changes the extension, its tests or its build
    (not one that changes only the docs), by hand, and as the release's wheels job."""
    wheels = workflow(project, "wheels.yml")
    on = wheels["on"]
    assert set(on) == {"pull_request", "workflow_dispatch", "workflow_call"}
    # GitHub's path filters: `**` crosses folders, as fnmatch's `*` does.
    paths = on["pull_request"]["paths"]
    files = [str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()]
    for name in files:
        watched = any(fnmatch.fnmatchcase(name, pattern) for pattern in paths)
        builds = name.startswith(("src/", "tests/")) or name in ("CMakeLists.txt", "pyproject.toml")
        assert watched == (builds or name == ".github/workflows/wheels.yml"), name
    assert any(name.endswith(".cpp") for name in files)
    # Called from publish.yml, github.workflow is the caller's: its own group keeps it from
    # sharing (and cancelling) test.yml's, which the release calls too; a release's run is
    # never cancelled.
    group = wheels["concurrency"]["group"]
    assert group.startswith("wheels-") and group != workflow(project, "test.yml")["concurrency"]["group"]
    assert wheels["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert not (render() / ".github/workflows/wheels.yml").exists()  # a pure-Python package


def test_a_stable_abi_wheel_built_on_3_12_passes_its_tests_on_3_12_and_3_13(render, tmp_path: Path) -> None:
    """stable_abi=yes: the wheel CPython 3.12 builds is tagged abi3 and holds an abi3 module (a
    wheel tagged abi3 around a cpython-312 module, which nanobind makes when CMake does not find
    the stable ABI's library, would not import on 3.13), and cibuildwheel's test-command passes
    with it on 3.12 and on 3.13, where cibuildwheel reuses it instead of building again."""
    found = {version: cpython(version) for version in ("3.12", "3.13")}
    if missing := [version for version, python in found.items() if python is None]:
        message = f"CPython {', '.join(missing)} is not on this machine (pyenv install {missing[0]})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pythons = {version: python for version, python in found.items() if python is not None}
    project = tmp_path / "acme-widgets"
    shutil.copytree(render(**COMPILED, stable_abi=True), project)
    assert 'wheel.py-api = "cp312"' in (project / "pyproject.toml").read_text()
    config = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["cibuildwheel"]

    builder = tmp_path / "build-3.12"
    run([pythons["3.12"], "-m", "venv", builder])
    run([builder / "bin/python", "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", project])
    [wheel] = (tmp_path / "dist").glob("*.whl")
    assert "-cp312-abi3-" in wheel.name
    modules = [n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("acme_widgets/_core.")]
    assert "acme_widgets/_core.abi3.so" in modules, modules

    sources = tmp_path / "test-sources"
    sources.mkdir()
    for name in config["test-sources"]:
        copy = shutil.copytree if (project / name).is_dir() else shutil.copy
        copy(project / name, sources / name)
    for version, python in pythons.items():
        venv = builder if version == "3.12" else tmp_path / f"test-{version}"  # pip wheel installed nothing
        if not venv.exists():
            run([python, "-m", "venv", venv])
        extras = ",".join(config["test-extras"])
        run(
            [
                venv / "bin/python",
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                f"{wheel}[{extras}]",
            ]
        )
        done = run([venv / "bin/python", *config["test-command"].split()[1:]], cwd=sources)
        assert "6 passed" in done.stdout, version


def test_stable_abi_is_asked_only_for_a_compiled_extension(render) -> None:
    """Off, and for a pure-Python package, nothing of it is rendered (the default renders are
    unchanged: test_same_renders.py)."""
    plain = render(**COMPILED)
    assert "py-api" not in (plain / "pyproject.toml").read_text()
    cmake = (plain / "CMakeLists.txt").read_text()
    assert "STABLE_ABI" not in cmake and "SABI" not in cmake
    assert "cmake_minimum_required(VERSION 3.15...3.31)" in cmake
    pure = render(stable_abi=True)
    assert "stable_abi" not in (pure / ".copier-answers.yml").read_text()
    assert "py-api" not in (pure / "pyproject.toml").read_text()

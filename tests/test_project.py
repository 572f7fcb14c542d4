"""A rendered project works for real: its tests pass, it builds, its metadata is valid."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from extensions import backends
from helpers import make_venv, run, tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=list(backends.BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def project(backend: str, render, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of a render for each build backend (the session's render stays pristine)."""
    dest = tmp_path_factory.mktemp(f"project-{backend}") / "acme-widgets"
    shutil.copytree(render(build_backend=backend), dest)
    return dest


@pytest.fixture(scope="module")
def installed(project: Path) -> Path:
    """The README's development steps: a fresh venv and `pip install -e '.[test]'`."""
    python = make_venv(project.parent / "venv")
    run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", ".[test]"], cwd=project)
    return python


@pytest.fixture(scope="module")
def dist(backend: str, dist_of) -> Path:
    return dist_of(backend)


def test_rendered_tests_pass(project: Path, installed: Path) -> None:
    done = run([installed, "-m", "pytest", "-p", "no:cacheprovider"], cwd=project)
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_installed_package_imports_with_its_version(installed: Path) -> None:
    done = run(
        [installed, "-c", "import acme_widgets; print(acme_widgets.__version__, acme_widgets.greet('x'))"]
    )
    assert done.stdout.split() == ["0.1.0", "Hello,", "x!"]


def test_build_makes_an_sdist_and_a_wheel(dist: Path, project: Path) -> None:
    # A compiled project's wheel is this system's (test_compiled.py looks into it).
    compiled = (project / "CMakeLists.txt").exists()
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}-cp{sys.version_info.major}{sys.version_info.minor}"
    wheel = f"acme_widgets-0.1.0-{tag}-" if compiled else "acme_widgets-0.1.0-py3-none-any.whl"
    names = sorted(p.name for p in dist.iterdir())
    assert names[1] == "acme_widgets-0.1.0.tar.gz" and len(names) == 2
    assert names[0].startswith(wheel) and names[0].endswith(".whl")


def test_wheel_ships_the_package_and_its_license(dist: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    assert "acme_widgets/__init__.py" in names
    assert "acme_widgets/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith("tests/")]


def test_distributions_pass_twine_check_strict(dist: Path) -> None:
    run([sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir())])


def test_wheel_metadata_carries_the_license_expression(dist: Path) -> None:
    import zipfile

    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Requires-Python: >=" in metadata


def test_pyproject_passes_validate_pyproject(project: Path) -> None:
    run([sys.executable, "-m", "validate_pyproject", project / "pyproject.toml"])


def test_rendered_code_is_clean_under_its_own_ruff_rules(project: Path) -> None:
    run([tool("ruff"), "check", "--no-cache", "."], cwd=project)
    run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)


@pytest.mark.parametrize(("installer", "column"), [("pip", "pip"), ("pip", "uv"), ("uv", "uv")])
def test_contributing_commands_run_with_the_dev_group_alone(
    render, tmp_path: Path, installer: str, column: str
) -> None:
    """Each command of CONTRIBUTING.md, as written there, after its own set-up (the `dev` group
    and nothing else): once `coverage run` failed there, coverage was not in the group. A uv
    project's table leads with uv, whose set-up installs exactly its uv.lock."""
    project = render(ci_installer=installer)
    text = (project / "CONTRIBUTING.md").read_text()
    rows = [row.split("|") for row in text.splitlines() if row.startswith("| ")]
    index = next(i for i, cell in enumerate(rows[0]) if cell.strip().startswith(f"with {column}"))
    assert index == (2 if column == installer else 3)  # CI's own installer first
    cells = [row[index].strip() for row in rows]
    commands = [cell.strip("`") for cell in cells if cell.startswith("`") and "--group docs" not in cell]
    assert len(commands) == 8, commands  # tests, coverage run and report, lint, format, types, build, twine
    work = tmp_path / "acme-widgets"
    shutil.copytree(project, work)
    env = {"UV_PYTHON": sys.executable, "UV_PYTHON_DOWNLOADS": "never"}
    if column == "pip":
        python = make_venv(work / ".venv")
        quiet = ["-q", "--disable-pip-version-check"]
        run([python, "-m", "pip", "install", *quiet, "--upgrade", "pip>=25.1"], cwd=work)
        run([python, "-m", "pip", "install", *quiet, "--group", "dev", "-e", "."], cwd=work)
        env["PATH"] = f"{python.parent}{os.pathsep}{os.environ['PATH']}"  # the activated .venv
    else:
        env["PATH"] = f"{tool('uv').parent}{os.pathsep}{os.environ['PATH']}"
        setup = ["sync", "-q", *(["--locked"] if installer == "uv" else [])]
        assert f"uv {' '.join(a for a in setup if a != '-q')}\n" in text  # as CONTRIBUTING.md says
        run([tool("uv"), *setup], cwd=work, env=env)
    for command in commands:
        done = run(["bash", "-c", command], cwd=work, env=env, check=False)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])

"""Installing what the template needs, the way users do: the README's pip, uv and pipx
one-liners, each run as written in a fresh environment that has only that tool, against
this template (the only changes: its path instead of `gh:...`, and the answers that
a terminal would prompt for)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from helpers import TEMPLATE_DIR, load_yaml, make_venv, run, tool

pytestmark = pytest.mark.slow

README = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
# Each one-liner names the template by this URL: what copier records, and a form Renovate can
# look up (not copier's gh: shorthand; tests/test_renovate.py).
SOURCE = "https://github.com/copier-python-lib/copier-python-lib.git"


def readme_command(starts: str) -> str:
    """The README's one-line command that starts with ``starts`` (exactly one)."""
    found = [line for line in README.splitlines() if line.startswith(starts)]
    assert len(found) == 1, (starts, found)
    return found[0]


def as_run_here(command: str, template: Path) -> str:
    """The README's command with this template and, for a run without a terminal, the answer
    it would prompt for (the project name comes from the folder, my-lib)."""
    assert SOURCE in command and "copier copy --trust " in command
    command = command.replace(SOURCE, str(template))
    return command.replace("copier copy --trust ", "copier copy --trust --defaults -d github_owner=acme ")


def rendered(where: Path) -> None:
    answers = load_yaml(where / "my-lib" / ".copier-answers.yml")
    assert (answers["project_name"], answers["github_owner"]) == ("my-lib", "acme")
    assert (where / "my-lib" / "src" / "my_lib" / "__init__.py").is_file()


def shell(command: str, cwd: Path, path: list[Path], env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    clean["PATH"] = os.pathsep.join([*map(str, path), "/usr/bin", "/bin"])
    run(["bash", "-e", "-c", command], cwd=cwd, env={**clean, **env})


def test_pip_one_liner(template: Path, tmp_path: Path) -> None:
    command = readme_command('python -m pip install "copier')
    venv = make_venv(tmp_path / "venv")
    shell(as_run_here(command, template), tmp_path, [venv.parent], {})
    rendered(tmp_path)


def test_uv_one_liner(template: Path, tmp_path: Path) -> None:
    command = readme_command("uvx ")
    env = {
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_TOOL_DIR": str(tmp_path / "uv-tools"),
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
    }
    uv_only = tmp_path / "uv-only"  # uv and uvx on PATH, and not the test environment's copier
    uv_only.mkdir()
    for name in ("uv", "uvx"):
        (uv_only / name).symlink_to(tool(name))
    shell(as_run_here(command, template), tmp_path, [uv_only], env)
    rendered(tmp_path)


def test_pipx_one_liner(template: Path, tmp_path: Path) -> None:
    command = readme_command("pipx install ")
    venv = make_venv(tmp_path / "pipx-venv")
    run([venv, "-m", "pip", "install", "-q", "--disable-pip-version-check", "pipx"])
    bin_dir = tmp_path / "pipx-bin"
    env = {
        "PIPX_HOME": str(tmp_path / "pipx-home"),
        "PIPX_BIN_DIR": str(bin_dir),
        "PIPX_DEFAULT_PYTHON": sys.executable,
    }
    # Only pipx on PATH (not the venv's python or pip), then the commands pipx installs.
    pipx_only = tmp_path / "pipx-only"
    pipx_only.mkdir()
    (pipx_only / "pipx").symlink_to(venv.parent / "pipx")
    shell(as_run_here(command, template), tmp_path, [pipx_only, bin_dir], env)
    rendered(tmp_path)


def test_each_tool_line_installs_the_extensions_beside_copier() -> None:
    """The reason these lines exist: copier without copier-template-extensions cannot load
    this template's extensions."""
    for starts in ("uvx ", "pipx install ", 'python -m pip install "copier'):
        assert re.search(r"copier-template-extensions>=0\.3\.4", readme_command(starts)), starts

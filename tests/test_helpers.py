"""The tests' own shortcuts are what they stand for: a copied virtual environment is the one
`python -m venv` makes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from helpers import cpython, make_venv, run


def tree(root: Path) -> dict[str, bytes]:
    """Every file and link below ``root`` (link targets as bytes), byte-compiled files aside."""
    return {
        str(p.relative_to(root)): (str(p.readlink()).encode() if p.is_symlink() else p.read_bytes())
        for p in sorted(root.rglob("*"))
        if (p.is_file() or p.is_symlink()) and "__pycache__" not in p.parts
    }


def test_a_copied_venv_is_byte_for_byte_the_one_venv_makes(tmp_path: Path) -> None:
    make_venv(tmp_path / "first")  # the one later calls copy, if this process had none yet
    env = tmp_path / "here" / "env"
    run([sys.executable, "-m", "venv", env])
    made = tree(env)
    shutil.rmtree(env)
    copied = make_venv(env)
    assert tree(env) == made
    # pip installs into the copy, not into the environment it was copied from.
    assert run([copied, "-c", "import sys; print(sys.prefix)"]).stdout.strip() == str(env)
    assert f"from {env}/lib/" in run([copied, "-m", "pip", "--version"]).stdout


def test_cpython_finds_each_version_pyenv_holds_though_its_shims_answer_for_one() -> None:
    """The stand-ins for setup-python and setup-uv ask for a job's python-version: each one found
    is that version, whether or not pyenv has it selected."""
    found = {v: cpython(v) for v in ("3.10", "3.11", "3.12", "3.13")}
    assert cpython(f"{sys.version_info.major}.{sys.version_info.minor}") == Path(sys.executable)
    for version, python in found.items():
        if python is not None:
            done = run([python, "-c", "import sys; print(*sys.version_info[:2], sep='.')"])
            assert done.stdout.strip() == version

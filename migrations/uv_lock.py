"""ci_installer=uv: the project commits uv.lock, and CI installs exactly it (`uv sync --locked`).

Run by copier (through extensions/load.py) as a task after `copier copy` and after each
`copier update`. uv.lock is the project's file: Dependabot and its owner keep it current, and
a lock that matches pyproject.toml (`uv lock --check`) is never touched. Written by `uv lock`:
- where there is none (a new project, or one that answers ci_installer=uv on update);
- where the update changed pyproject.toml's dependencies (say `-d cli=click`): `uv lock` adds
  what pyproject.toml now asks and keeps every other locked version, so CI's
  `uv sync --locked` does not fail on the lock the update left stale.
uv is the one on PATH, else the one beside copier's Python. Without uv, or without the
package index, nothing is written and the output says the one command to run; without uv, a
lock that exists cannot be checked, so the output says so when pyproject.toml differs from
the project's last commit (when this update changed it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ._migration import run

LOCK = "uv.lock"
TODO = f"run `uv lock` in the project and commit {LOCK} (CI's `uv sync --locked` fails without it)"


def find_uv() -> str | None:
    """uv on PATH, else beside copier's own Python (copier installed with uv in one venv)."""
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).with_name("uv.exe" if os.name == "nt" else "uv")
    return str(beside) if beside.is_file() else None


def _uv(uv: str, project: Path, *args: str) -> subprocess.CompletedProcess[str] | str:
    """``uv lock ARGS`` in the project, or why it did not finish."""
    try:
        return subprocess.run(
            [uv, "lock", "--quiet", *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`uv lock` did not finish ({error})"


def changed_since_commit(project: Path, name: str) -> bool:
    """Whether the file differs from the project's last commit, or cannot be compared with it
    (no git, no commit yet): what this update may have changed."""
    try:
        done = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", name],
            cwd=project,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return True
    return done.returncode != 0


def migrate(project: Path | None = None, uv: str | None = None) -> list[str]:
    project = project or Path.cwd()
    exists = (project / LOCK).exists()
    uv = uv or find_uv()
    if uv is None:
        if not exists:
            return [f"{LOCK} not written: uv is not installed here; {TODO}"]
        if changed_since_commit(project, "pyproject.toml"):
            return [
                f"{LOCK} not checked: uv is not installed here, and pyproject.toml changed;"
                + f" run `uv lock` in the project and commit {LOCK} if it changes"
                + " (CI's `uv sync --locked` fails on a lock that no longer matches)"
            ]
        return []
    if exists:
        check = _uv(uv, project, "--check")
        if not isinstance(check, str) and check.returncode == 0:
            return []  # it matches pyproject.toml: the project's lock, untouched
    done = _uv(uv, project)
    if isinstance(done, str) or done.returncode != 0:
        why = done if isinstance(done, str) else (done.stderr.strip().splitlines() or ["no output"])[-1]
        verb = "not updated" if exists else "not written"
        return [f"{LOCK} {verb}: {why}; {TODO}"]
    if exists:
        return [
            f"{LOCK} updated by `uv lock` to match pyproject.toml, which this update changed"
            + " (every other locked version kept): review it with `git diff uv.lock` and commit it"
        ]
    return [f"{LOCK} written by `uv lock`: commit it; CI installs exactly it (`uv sync --locked`)"]


if __name__ == "__main__":
    sys.exit(run("uv-lock", migrate))

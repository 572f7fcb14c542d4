"""What every migration of this template shares.

A migration is a small script in this folder that copier runs during `copier update`
(see `_migrations` in copier.yml), with copier's own Python (`_copier_python`), in the
project's root. It may use only the standard library and copier's own dependencies
(PyYAML among them). Every migration:

- is idempotent: run twice, the second run changes nothing;
- prints each change it makes, or that there was nothing to do;
- refuses (raises ``Refusal``) on anything it does not understand, before changing
  anything, with a message that says why and what the user can do; copier then stops
  the update and the project is left as it was.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ANSWERS_HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"


class Refusal(Exception):
    """The migration cannot proceed safely; the message tells the user why and what to do."""


def run(name: str, migrate: Callable[[], list[str]]) -> int:
    """Run ``migrate`` and report: its changes, nothing to do, or its refusal (exit 1)."""
    try:
        changes = migrate()
    except Refusal as refusal:
        # Copier runs tasks and migrations after it has written its files: this step changed
        # nothing, but what copier wrote before it is there to review (never "nothing changed").
        print(
            f"copier-python-lib migration {name} stopped; it changed nothing itself. What copier wrote "
            f"before it is in the working tree (`git status`; `git restore . && git clean -fd` undoes "
            f"it all):\n{refusal}",
            file=sys.stderr,
        )
        return 1
    for change in changes:
        print(f"copier-python-lib migration {name}: {change}")
    if not changes:
        print(f"copier-python-lib migration {name}: nothing to do")
    return 0


def load_answers(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise Refusal(f"{path} is missing: this does not look like a project made from this template.")
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise Refusal(
            f"{path} is not valid YAML ({error}). Restore it from git and run the update again."
        ) from None
    if not isinstance(answers, dict):
        raise Refusal(f"{path} does not hold copier's answers. Restore it from git and run the update again.")
    return answers


def save_answers(path: Path, answers: dict[str, Any]) -> None:
    path.write_text(
        ANSWERS_HEADER + yaml.safe_dump(answers, sort_keys=True, allow_unicode=True), encoding="utf-8"
    )


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    """git in the project's folder (a migration's working folder), its output kept."""
    return subprocess.run(["git", *args], capture_output=True, timeout=120, check=False)


def restore_from_last_commit(names: list[str]) -> list[str]:
    """Put each file back as the last commit holds it (paths of this folder, which may be a
    subfolder of the repository); the ones restored."""
    return [name for name in names if git("checkout", "HEAD", "--", name).returncode == 0]
